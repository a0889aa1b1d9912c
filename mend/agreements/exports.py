"""The two files a case can take away: the agreement as a PDF and its dates as an iCalendar file.

Both name people by pseudonym or by the program's word for their role, never by account names, and leave
the facilitators' names out: the files travel beyond Mend (printed, forwarded, synced to a phone). The
PDF of a version that was opened for signing is made from its frozen document, so it shows exactly the
words that were signed; a draft's PDF is made from its items and says on every page that it is not
signed."""

import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from mend.agreements import document as doc
from mend.agreements import pdf_text
from mend.agreements.models import CheckIn, ItemKind, Signature, Version
from mend.cases.models import FACILITATING_ROLES, Participant
from mend.core import i18n

PRODID = "-//Mend//Agreements//EN"
FINGERPRINT_SHOWN = 16
_plain = pdf_text.plain


def _day(value: date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _local_day(moment: datetime, tz: ZoneInfo) -> str:
    return _day(timezone.localtime(moment, tz).date())


def _safe_reference(reference: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", str(reference)).strip("-") or "case"


def pdf_filename(version: Version) -> str:
    return f"agreement-{_safe_reference(version.case.reference)}-v{version.number}.pdf"


def ics_filename(agreement) -> str:
    return f"agreement-{_safe_reference(agreement.case.reference)}.ics"


def _person(place: Participant | None, program, *, frozen_name: str | None = None) -> str:
    """How a file names someone: a party by their pseudonym (as the signed document froze it), a
    facilitator only by the program's word for the role."""
    if place is None:
        return frozen_name or _("someone in the case")
    if place.role in FACILITATING_ROLES:
        return program.word_for(place.role)
    return frozen_name or place.pseudonym or program.word_for(place.role)


def _amount(amount, currency) -> str:
    return f"{i18n.amount(amount)} {str(currency).strip()}".strip()


def _detail_lines(kind: str, details: dict) -> list[tuple[str, str]]:
    details = details or {}
    lines: list[tuple[str, str]] = []
    if kind == ItemKind.RESTITUTION:
        amount = _amount(details.get("amount", ""), details.get("currency", ""))
        lines += [(_("Amount"), amount), (_("Schedule"), details.get("schedule", ""))]
    elif kind == ItemKind.SERVICE:
        hours = details.get("hours", "")
        lines += [(_("Hours"), f"{hours}" if hours != "" else ""), (_("Where"), details.get("where", ""))]
    elif kind in (ItemKind.LEARNING, ItemKind.COUNSELLING):
        lines.append((_("Course or programme"), details.get("programme", "")))
    elif kind == ItemKind.APOLOGY:
        lines.append((_("How it is passed on"), details.get("channel", "")))
    elif kind == ItemKind.BEHAVIOUR:
        lines.append((_("Spaces or kinds of contact"), details.get("spaces", "")))
    elif kind == ItemKind.DIGITAL_REPAIR:
        lines.append((_("What is put right"), details.get("what", "")))
    return [(label, str(value)) for label, value in lines if str(value).strip()]


def _kind_label(kind: str) -> str:
    return str(dict(ItemKind.choices).get(kind, kind))


def _words_of(version: Version) -> tuple[dict, dict[str, int]]:
    """What the PDF shows: the frozen document once the version was opened for signing, else the draft;
    and the document's references back to participant ids (format 1 names them by id)."""
    if version.document_sha256:
        return json.loads(str(version.document)), doc.ids_by_ref(version)
    items = version.items.select_related("owner").order_by("position", "pk")
    return {
        "case": version.case.reference,
        "version": version.number,
        "terms": str(version.terms),
        "parties": [],
        "items": [doc.item_entry(item) for item in items],
    }, {}


def _id_of(value, ids: dict[str, int]):
    return value if isinstance(value, int) or value is None else ids.get(value)


def _state_line(version: Version, tz: ZoneInfo) -> tuple[str, str | None]:
    """The state in words, and the warning each page carries when the version is not signed."""
    State = Version.State
    if version.state in (State.SIGNED, State.SUPERSEDED) and version.signed_at:
        line = _("Signed by everyone on %(day)s.") % {"day": _local_day(version.signed_at, tz)}
        if version.state == State.SUPERSEDED:
            return f"{line} {_('Replaced by a later version.')}", _("REPLACED BY A LATER VERSION")
        return line, None
    if version.state == State.SIGNING:
        return _("Waiting for signatures. Not signed yet."), _("NOT SIGNED: waiting for signatures")
    if version.state == State.DECLINED:
        return _("Not signed."), _("NOT SIGNED")
    return _("Draft, not signed."), _("DRAFT: NOT SIGNED")


def _written(text) -> dict:
    """Text as someone wrote it, with its own direction (that of its first letter that has one, as
    HTML's dir="auto"): a commitment written in English reads rightly in an Arabic PDF."""
    shown = _plain(text)
    return {"text": shown, "dir": pdf_text.direction_of(shown)}


def _around_page_number(running: str) -> tuple[SafeString, SafeString]:
    """The footer's words before and after its page number, which the layout fills in page by page."""
    mark = 987654321  # the msgid takes a number (%d): one that no running line holds
    footer = _("%(running)s · page %(page)d") % {"running": "\x01", "page": mark}
    before, _sep, after = footer.partition(str(mark))
    running_html = i18n.isolate(running)
    return (
        mark_safe(escape(before).replace("\x01", running_html)),  # noqa: S308 - escaped above
        mark_safe(escape(after).replace("\x01", running_html)),  # noqa: S308 - escaped above
    )


def agreement_pdf(
    version: Version, *, names: dict[int, str] | None = None, seen: set[int] | None = None
) -> bytes:
    """The version as a tagged PDF: its state, shared terms, items and signatures, with pseudonyms only.
    `names` and `seen` (mend.agreements.names.names_and_visible) name people as the reader may see them:
    someone they may not see is "another person harmed", and the name they typed to sign is left out."""
    program = version.case.program
    tz = ZoneInfo(program.time_zone)
    words, ids = _words_of(version)
    reference = str(words.get("case") or version.case.reference)
    number = words.get("version") or version.number
    frozen_names = {party["id"]: party.get("name") for party in doc.parties_of(version) if party["id"]}
    if words.get("v") == doc.FORMAT_1:
        frozen_names = {party["id"]: party["name"] for party in words.get("parties", [])}
    owner_ids = {_id_of(entry.get("owner"), ids) for entry in words["items"]}
    owed_ids = {_id_of(entry.get("owed_to"), ids) for entry in words["items"]} - {None}
    answers = list(version.signatures.order_by("at", "pk"))
    places = {
        p.pk: p
        for p in Participant.objects.filter(
            case_id=version.case_id,
            pk__in=owner_ids | owed_ids | set(frozen_names) | {a.participant_id for a in answers},
        )
    }

    def who(participant_id) -> str:
        place = places.get(participant_id)
        if names is not None and place is not None and place.role not in FACILITATING_ROLES:
            return names.get(participant_id, _("someone in the case"))
        return _person(place, program, frozen_name=frozen_names.get(participant_id))

    def label_of(participant_id) -> SafeString:
        """Their name and place; someone the reader may not see is named by their place alone."""
        if seen is not None and participant_id not in seen:
            return i18n.isolate(who(participant_id))
        place = places.get(participant_id)
        role = program.word_for(place.role) if place else ""
        return format_html("<bdi>{}</bdi> ({})", who(participant_id), role)

    state_line, page_warning = _state_line(version, tz)
    running = _("Agreement %(reference)s, version %(n)s") % {"reference": reference, "n": number}
    footer_before, footer_after = _around_page_number(running)
    context = {
        "language": translation.get_language() or settings.LANGUAGE_CODE,
        "direction": i18n.direction(),
        "title": _("Agreement %(reference)s v%(n)s") % {"reference": reference, "n": number},
        "heading": _("Agreement"),
        "case_line": i18n.isolated(_("Case %(reference)s · Version %(n)s"), reference=reference, n=number),
        "state_line": state_line,
        "page_warning": page_warning,
        "running": i18n.isolate(running),
        "footer_before": footer_before,
        "footer_after": footer_after,
        "fingerprint_line": version.document_sha256
        and i18n.isolated(_("Document fingerprint (SHA-256): %(sha)s"), sha=version.document_sha256),
        "headings": {
            "terms": _("What everyone agrees"),
            "items": _("Commitments"),
            "signatures": _("Signatures"),
        },
        "terms": _written(_plain(words.get("terms")).strip() or _("No shared terms were written.")),
        "items": [
            _item_context(position, entry, ids=ids, who=who)
            for position, entry in enumerate(words["items"], 1)
        ],
        "no_items": _("No commitments yet."),
        "answers": [_answer_context(answer, version, tz, label_of=label_of, seen=seen) for answer in answers],
        "waiting": [
            i18n.isolated(_("%(party)s: not signed yet"), party=label_of(party_id))
            for party_id in (frozen_names if version.state == Version.State.SIGNING else ())
            if party_id not in {answer.participant_id for answer in answers}
        ],
        "nobody": _("Nobody has signed this version: it is a draft.")
        if not answers and not frozen_names
        else "",
    }
    return pdf_text.render(context)


def _item_context(position: int, entry: dict, *, ids: dict[str, int], who) -> dict:
    owed = _id_of(entry.get("owed_to"), ids)
    rows = [
        (_("Who"), who(_id_of(entry.get("owner"), ids))),
        *([(_("Who it is for"), who(owed))] if owed is not None else []),
        (_("Due"), _day(date.fromisoformat(entry["due_on"]))),
        (_("How it will be checked"), _plain(entry.get("verification", ""))),
        *(
            (label, _plain(value))
            for label, value in _detail_lines(entry.get("kind", ""), entry.get("details") or {})
        ),
    ]
    return {
        "position": position,
        "kind": _kind_label(entry.get("kind", "")),
        "description": _written(entry.get("description")),
        "rows": [(label, _written(value)) for label, value in rows],
    }


def _answer_context(answer: Signature, version: Version, tz: ZoneInfo, *, label_of, seen) -> dict:
    """A signature, or a choice not to sign, in up to three lines."""
    party = label_of(answer.participant_id)
    day = _local_day(answer.at, tz)
    if answer.decision != Signature.Decision.SIGNED:
        return {"first": party, "second": _("Chose not to sign, on %(day)s") % {"day": day}}
    typed = seen is None or answer.participant_id in seen
    return {
        "first": i18n.isolated(_("Signed as “%(name)s”"), name=_plain(answer.typed_name))
        if typed
        else _("Signed"),
        "second": i18n.isolated(_("%(party)s, on %(day)s"), party=party, day=day),
        "third": i18n.isolated(
            _("Key %(key)s · document %(sha)s"),
            key=answer.key_id,
            sha=version.document_sha256[:FINGERPRINT_SHOWN],
        ),
    }


def _all_day(*, uid: str, day: date, summary: str, description: str, stamp: datetime) -> icalendar.Event:
    """One all-day event; its title is marked with the language it is written in (the active one)."""
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary, parameters={"LANGUAGE": _language()})
    if description:  # the item's own words, in whatever language they were written
        event.add("description", description)
    event.add("transp", "TRANSPARENT")
    return event


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def agreement_ics(agreement, *, items, check_ins, program_tz) -> bytes:
    """The due dates of the items in force and the follow-up check-ins, as all-day events. Titles are
    short and neutral (a calendar shows them on a lock screen), in the active language (the reader's); the
    item's words are in the description, as the file is only given to people in the case. UIDs are
    stable, so importing it again updates."""
    reference = agreement.case.reference
    stamp = timezone.now().astimezone(ZoneInfo("UTC")).replace(microsecond=0)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("Agreement %(reference)s") % {"reference": reference})
    if program_tz:
        calendar.add("x-wr-timezone", getattr(program_tz, "key", None) or str(program_tz))
    for item in items:
        calendar.add_component(
            _all_day(
                uid=f"{item.uid}@mend-agreement-{agreement.pk}",
                day=item.due_on,
                summary=_("Due: %(kind)s (%(reference)s)")
                % {"kind": _kind_label(item.kind), "reference": reference},
                description=_plain(item.description),
                stamp=stamp,
            )
        )
    for check_in in check_ins:
        if check_in.kind == CheckIn.Kind.SUPPORT:
            summary = _("Support contact (%(reference)s)") % {"reference": reference}
        else:
            summary = _("Check-in (%(reference)s)") % {"reference": reference}
        calendar.add_component(
            _all_day(
                uid=f"check-in-{check_in.pk}@mend-agreement-{agreement.pk}",
                day=check_in.due_on,
                summary=summary,
                description="",
                stamp=stamp,
            )
        )
    return calendar.to_ical()
