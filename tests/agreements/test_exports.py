"""The agreement's PDF and its calendar: the agreed words, the due dates, and pseudonyms only."""

from datetime import date, timedelta
from io import BytesIO

import icalendar
import pytest
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import IndirectObject, NameObject

from mend.accounts.models import User
from mend.agreements import exports, selectors, services
from mend.agreements.document import signed_bytes
from mend.agreements.models import CheckIn, Version
from mend.cases import services as case_services
from mend.core.envelope import b64u
from tests.builders import prepare_for_encounter
from tests.dialogue.helpers import give_keys

TERMS = "We agree to keep every exchange respectful & to go through the facilitator."
RESTITUTION = "Repay the cost of the counselling sessions Wren paid for."
LEARNING = "Complete a course on consent and online harm."
APOLOGY = "Write a letter of apology, passed on by the facilitator."
SUPPORT = "Arrange the follow-up call with the support service."
REAL_NAMES = {"harmed": "Harriet Realname", "responsible": "Rupert Truename"}


def later(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def draft_with_items(cast) -> Version:
    """A case past its encounter, with a draft of three items for the person responsible and one for the
    facilitator."""
    prepare_for_encounter(cast, mode="indirect")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    cast.case.refresh_from_db()
    version = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    services.version_terms_save(actor=cast.facilitator, version=version, terms=TERMS)
    fac_place = cast.case.participants.get(user=cast.facilitator)
    for kind, description, owner, days, details in (
        (
            "restitution",
            RESTITUTION,
            cast.responsible,
            30,
            {"amount": "250.5", "currency": "nzd", "schedule": "Five payments of 50.10, monthly"},
        ),
        ("learning", LEARNING, cast.responsible, 60, {"programme": "Consent Matters online course"}),
        ("apology", APOLOGY, cast.responsible, 14, {"channel": "By post through the programme"}),
        ("other", SUPPORT, fac_place, 45, {}),
    ):
        services.item_save(
            actor=cast.facilitator,
            version=version,
            kind=kind,
            description=description,
            owner=owner,
            due_on=later(days),
            verification="The facilitator checks it with the parties.",
            details=details,
        )
    version.refresh_from_db()
    return version


def sign(place, version: Version, typed_name: str):
    pair = give_keys(place.user)
    signature = pair.sign.sign(signed_bytes(str(version.document), typed_name))
    return services.version_sign(
        actor=place.user,
        place=place,
        version=version,
        typed_name=typed_name,
        key_id=pair.key_id,
        signature=b64u(signature),
    )


def signed_version(cast) -> Version:
    version = services.version_open(actor=cast.facilitator, version=draft_with_items(cast))
    sign(cast.harmed, version, "Wren of the river")
    sign(cast.responsible, version, "Kestrel K.")
    version.refresh_from_db()
    return version


def pages_of(pdf: bytes) -> list:
    """The PDF's pages, read by pypdf. A font in which a letter is missing (東京 🙂 in Noto Sans) is
    encoded by an embedded CMap that maps that letter's glyph to the empty box; pypdf reads such a
    CMap as a one-byte encoding and garbles the font's text. Every other glyph maps to itself (the
    CMap is the identity but for the missing letters), and ToUnicode gives every glyph's text, so
    reading the font as Identity-H gives back what a PDF viewer's copy would."""
    reader = PdfReader(BytesIO(pdf))
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if isinstance(font.get("/Encoding"), IndirectObject):
                font[NameObject("/Encoding")] = NameObject("/Identity-H")
    return list(reader.pages)


def text_of(pdf: bytes) -> str:
    """The PDF's extracted text with its line breaks and runs of spaces made single spaces."""
    return " ".join(" ".join(page.extract_text() for page in pages_of(pdf)).split())


def give_real_names(cast) -> None:
    """Participants' accounts carry a display name; give them ones that must never be exported."""
    for who, name in REAL_NAMES.items():
        User.objects.filter(pk=getattr(cast, who).user_id).update(display_name=name)


def test_it_prints_the_signed_agreement_with_its_terms_items_and_signatures(cast):
    version = signed_version(cast)
    assert version.state == Version.State.SIGNED

    text = text_of(exports.agreement_pdf(version))

    assert "Agreement" in text
    assert cast.case.reference in text
    assert "Version 1" in text
    assert "Signed by everyone on" in text
    assert TERMS in text
    for description in (RESTITUTION, LEARNING, APOLOGY, SUPPORT):
        assert description in text
    assert "250.50 NZD" in text
    assert "Five payments of 50.10, monthly" in text
    assert "Consent Matters online course" in text
    assert "By post through the programme" in text
    assert "Restitution" in text and "Learning" in text and "Apology" in text
    assert "Signed as “Wren of the river”" in text
    assert "Signed as “Kestrel K.”" in text
    assert "Wren (person harmed)" in text
    assert "Kestrel (person responsible)" in text
    assert f"Document fingerprint (SHA-256): {version.document_sha256}" in text
    for answer in version.signatures.all():
        assert f"Key {answer.key_id} · document {version.document_sha256[:16]}" in text
    assert "NOT SIGNED" not in text


def test_it_names_people_by_pseudonym_only(cast):
    version = signed_version(cast)
    give_real_names(cast)

    text = text_of(exports.agreement_pdf(version))

    assert "Wren" in text and "Kestrel" in text
    for name in REAL_NAMES.values():
        assert name not in text
    for place in (cast.harmed, cast.responsible):
        place.user.refresh_from_db()
        assert place.user.username not in text
    # The facilitator owns an item, and is named only by the program's word for the role.
    assert cast.facilitator.display_name not in text
    assert cast.facilitator.username not in text  # the facilitator's email address
    assert "Who facilitator" in text


def test_it_uses_the_programs_role_words(cast):
    cast.program.role_words = {"en": {"harmed_party": "person who was hurt", "facilitator": "guide"}}
    cast.program.save()
    version = signed_version(cast)
    version.case.program.refresh_from_db()

    text = text_of(exports.agreement_pdf(version))

    assert "Wren (person who was hurt)" in text
    assert "Who guide" in text


def test_it_prints_the_words_frozen_for_signing_not_a_later_change(cast):
    version = services.version_open(actor=cast.facilitator, version=draft_with_items(cast))
    # A row changed behind the services' back must not change what the PDF says was signed.
    item = version.items.get(kind="learning")
    item.description = "Something nobody agreed to."
    item.save()

    text = text_of(exports.agreement_pdf(version))

    assert LEARNING in text
    assert "Something nobody agreed to." not in text


def test_it_marks_a_draft_as_not_signed_on_every_page(cast):
    version = draft_with_items(cast)
    services.item_save(
        actor=cast.facilitator,
        version=version,
        kind="behaviour",
        description="A long commitment. " * 100,
        owner=cast.responsible,
        due_on=later(90),
        verification="Checked each month. " * 90,
        details={"spaces": "Every online space Wren uses"},
    )

    pdf = exports.agreement_pdf(version)
    pages = PdfReader(BytesIO(pdf)).pages

    assert len(pages) >= 2
    for page in pages:
        assert "DRAFT: NOT SIGNED" in page.extract_text()
    text = text_of(pdf)
    assert "Draft, not signed" in text
    assert "Signed by everyone" not in text
    assert TERMS in text and RESTITUTION in text


def test_it_marks_a_version_waiting_for_signatures_as_not_signed(cast):
    version = services.version_open(actor=cast.facilitator, version=draft_with_items(cast))
    sign(cast.harmed, version, "Wren of the river")
    version.refresh_from_db()

    text = text_of(exports.agreement_pdf(version))

    assert "NOT SIGNED: waiting for signatures" in text
    assert "Signed by everyone" not in text
    assert "Signed as “Wren of the river”" in text
    assert "Kestrel (person responsible): not signed yet" in text


def test_it_shows_a_decline_without_blame(cast):
    version = services.version_open(actor=cast.facilitator, version=draft_with_items(cast))
    services.version_decline(actor=cast.responsible.user, place=cast.responsible, version=version)
    version.refresh_from_db()

    text = text_of(exports.agreement_pdf(version))

    assert "Chose not to sign" in text
    assert "Kestrel (person responsible)" in text
    assert "NOT SIGNED" in text
    assert "Signed by everyone" not in text


def test_it_prints_markup_and_accents_literally(cast):
    version = draft_with_items(cast)
    services.item_save(
        actor=cast.facilitator,
        version=version,
        kind="other",
        description="Return the <b>photos</b> & the <script> file; café, Zoë, naïve, 東京 🙂",
        owner=cast.responsible,
        due_on=later(10),
        verification="Line one\nline <i>two</i> &amp; three",
    )

    text = text_of(exports.agreement_pdf(version))

    assert "Return the <b>photos</b> & the <script> file; café, Zoë, naïve" in text
    assert "line <i>two</i> &amp; three" in text


def test_it_sets_the_title_and_no_author(cast):
    version = signed_version(cast)

    info = PdfReader(BytesIO(exports.agreement_pdf(version))).metadata

    assert info.title == f"Agreement {cast.case.reference} v1"
    assert not info.author
    assert cast.facilitator.display_name not in str(dict(info))


def test_it_names_the_files_safely(cast):
    version = draft_with_items(cast)

    assert exports.pdf_filename(version) == f"agreement-{cast.case.reference}-v1.pdf"
    assert exports.ics_filename(version.agreement) == f"agreement-{cast.case.reference}.ics"
    version.case.reference = version.agreement.case.reference = 'C-AB/"CD ÉF'
    assert exports.pdf_filename(version) == "agreement-C-AB-CD-F-v1.pdf"
    assert exports.ics_filename(version.agreement) == "agreement-C-AB-CD-F.ics"


def check_ins_for(cast, version) -> list[CheckIn]:
    return [
        CheckIn.objects.create(
            case=cast.case,
            agreement=version.agreement,
            kind=kind,
            with_participant=place,
            due_on=later(days),
            created_by=cast.facilitator,
        )
        for kind, place, days in (
            (CheckIn.Kind.CHECK_IN, cast.responsible, 21),
            (CheckIn.Kind.SUPPORT, cast.harmed, 35),
        )
    ]


def events_of(ics: bytes) -> list:
    calendar = icalendar.Calendar.from_ical(ics)
    return list(calendar.walk("VEVENT"))


@pytest.mark.parametrize("program_tz", ["Pacific/Auckland", None])
def test_it_lists_the_due_dates_and_check_ins_in_a_calendar(cast, program_tz):
    version = signed_version(cast)
    items = selectors.items_in_force(version.agreement)
    check_ins = check_ins_for(cast, version)

    ics = exports.agreement_ics(version.agreement, items=items, check_ins=check_ins, program_tz=program_tz)
    calendar = icalendar.Calendar.from_ical(ics)
    events = events_of(ics)

    assert str(calendar["PRODID"]) == "-//Mend//Agreements//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == f"Agreement {cast.case.reference}"
    assert calendar.get("X-WR-TIMEZONE") == program_tz
    starts = [event.decoded("DTSTART") for event in events]
    assert all(type(start) is date for start in starts)
    assert sorted(starts) == sorted([later(30), later(60), later(14), later(45), later(21), later(35)])
    due = [e for e in events if str(e["SUMMARY"]).startswith("Due: ")]
    assert {(str(e["SUMMARY"]), e.decoded("DTSTART")) for e in due} == {
        (f"Due: Restitution ({cast.case.reference})", later(30)),
        (f"Due: Learning ({cast.case.reference})", later(60)),
        (f"Due: Apology ({cast.case.reference})", later(14)),
        (f"Due: Other ({cast.case.reference})", later(45)),
    }
    assert {str(e["DESCRIPTION"]) for e in due} == {RESTITUTION, LEARNING, APOLOGY, SUPPORT}
    assert {(str(e["SUMMARY"]), e.decoded("DTSTART")) for e in events if e not in due} == {
        (f"Check-in ({cast.case.reference})", later(21)),
        (f"Support contact ({cast.case.reference})", later(35)),
    }


def test_its_calendar_uids_are_stable_and_unique(cast):
    version = signed_version(cast)
    items = selectors.items_in_force(version.agreement)
    check_ins = check_ins_for(cast, version)

    def uids():
        ics = exports.agreement_ics(version.agreement, items=items, check_ins=check_ins, program_tz="UTC")
        return [str(event["UID"]) for event in events_of(ics)]

    first = uids()
    assert first == uids()
    assert len(set(first)) == len(first) == 6
    suffix = f"@mend-agreement-{version.agreement.pk}"
    assert {f"{item.uid}{suffix}" for item in items} <= set(first)
    assert all(uid.endswith(suffix) for uid in first)

    # An amendment keeps the item ids, so a calendar imported again updates its events.
    amendment = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    assert {f"{item.uid}{suffix}" for item in amendment.items.all()} == {f"{i.uid}{suffix}" for i in items}


def test_its_calendar_carries_no_names(cast):
    version = signed_version(cast)
    give_real_names(cast)
    items = selectors.items_in_force(version.agreement)

    ics = exports.agreement_ics(
        version.agreement, items=items, check_ins=check_ins_for(cast, version), program_tz="UTC"
    ).decode()

    for name in (*REAL_NAMES.values(), cast.facilitator.display_name, "Wren of the river", "Kestrel K."):
        assert name not in ics
    for event in events_of(ics.encode()):
        assert "Wren" not in str(event["SUMMARY"]) and "Kestrel" not in str(event["SUMMARY"])
