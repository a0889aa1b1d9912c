"""Writing and signing agreements: drafts, frozen versions, signatures checked on the server, amendments,
declines without blame, and tampering detected (invariant 8: every change is in the audit chain)."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from mend.agreements import document, selectors, services
from mend.agreements.models import Commitment, Item, Signature, Version
from mend.audit.models import AuditEvent
from mend.core import envelope as env
from mend.core.errors import Conflict, DomainError
from tests.agreements.builders import TERMS, at_encounter, drafted, keys_for, sign_as, signed
from tests.builders import signed_in


@pytest.fixture
def ready(cast):
    at_encounter(cast)
    return cast


def test_a_facilitator_drafts_and_the_draft_is_kept_until_it_is_opened(ready):
    cast = ready
    version = drafted(cast, items=2)
    assert version.number == 1 and version.state == Version.State.DRAFT
    assert services.agreement_draft(actor=cast.facilitator, case=cast.case).pk == version.pk
    assert [i.kind for i in version.items.all()] == ["learning", "restitution"]
    restitution = version.items.get(kind="restitution")
    assert restitution.details == {
        "amount": "250.00",
        "currency": "NZD",
        "schedule": "Four payments, monthly",
    }
    assert AuditEvent.objects.filter(code="agreement.drafted").count() == 1


def test_the_words_of_an_agreement_are_sealed_at_rest(ready):
    version = drafted(ready, items=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT terms, description FROM agreements_version v"
            " JOIN agreements_item i ON i.version_id = v.id"
        )
        terms, description = cursor.fetchone()
    assert terms.startswith("v1:") and TERMS not in terms
    assert description.startswith("v1:") and "consent education" not in description
    assert str(Version.objects.get(pk=version.pk).terms) == TERMS


@pytest.mark.parametrize(
    "kind,details,field",
    [
        ("restitution", {"amount": "-5", "currency": "NZD", "schedule": "Monthly"}, "amount"),
        ("restitution", {"amount": "12.345", "currency": "NZD", "schedule": "Monthly"}, "amount"),
        ("restitution", {"amount": "250", "currency": "XYZ", "schedule": "Monthly"}, "currency"),
        ("restitution", {"amount": "250", "currency": "NZD", "schedule": ""}, "schedule"),
        ("service", {"hours": "many"}, "hours"),
        ("service", {"hours": "0"}, "hours"),
        ("learning", {"programme": ""}, "programme"),
        ("digital_repair", {"what": ""}, "what"),
        ("nonsense", {}, "kind"),
    ],
)
def test_it_refuses_an_item_with_missing_or_wrong_details_and_says_which(ready, kind, details, field):
    cast = ready
    version = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    with pytest.raises(DomainError) as refused:
        services.item_save(
            actor=cast.facilitator,
            version=version,
            kind=kind,
            description="Something to do.",
            owner=cast.responsible,
            due_on=timezone.localdate() + timedelta(days=10),
            verification="A receipt.",
            details=details,
        )
    assert refused.value.field == field and refused.value.message
    assert not Item.objects.exists()


def test_it_refuses_a_due_date_in_the_past(ready):
    cast = ready
    version = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    with pytest.raises(DomainError) as refused:
        services.item_save(
            actor=cast.facilitator,
            version=version,
            kind="other",
            description="Something.",
            owner=cast.responsible,
            due_on=timezone.localdate() - timedelta(days=1),
            verification="A receipt.",
        )
    assert refused.value.field == "due_on"


def test_only_a_facilitator_of_the_case_writes_the_agreement(ready):
    cast = ready
    for someone in (cast.responsible.user, cast.other_facilitator_same_program, cast.coordinator):
        with pytest.raises(DomainError):
            services.agreement_draft(actor=someone, case=cast.case)


def test_both_parties_sign_and_the_version_comes_into_force_with_its_commitments(ready):
    cast = ready
    version = signed(cast, items=3)
    assert version.state == Version.State.SIGNED and version.signed_at
    assert Commitment.objects.filter(agreement=version.agreement, state="open").count() == 3
    assert selectors.version_in_force(version.agreement).pk == version.pk
    assert selectors.version_check(version).intact
    codes = list(AuditEvent.objects.filter(code__startswith="agreement.").values_list("code", flat=True))
    assert codes == [
        "agreement.drafted",
        "agreement.opened",
        "agreement.signed",
        "agreement.signed",
        "agreement.in_force",
    ]


def test_the_signed_document_names_nobody(ready):
    """Every party signs the same bytes, so the document names people by role and an opaque reference
    only (issue 16: signing must not reveal one person harmed to another)."""
    cast = ready
    version = signed(cast, items=1)
    text = str(version.document)
    parties = json.loads(text)["parties"]
    assert sorted(p["role"] for p in parties) == ["harmed_party", "responsible_party"]
    assert all(set(p) == {"ref", "role"} for p in parties)
    named = json.dumps({k: v for k, v in json.loads(text).items() if k != "terms"})  # terms: staff's words
    for place in (cast.harmed, cast.responsible):
        assert place.pseudonym not in named
        assert '"id"' not in named
    refs = version.refs
    assert {refs[str(cast.harmed.pk)], refs[str(cast.responsible.pk)]} == {p["ref"] for p in parties}
    assert json.loads(text)["items"][0]["owner"] == refs[str(cast.responsible.pk)]
    assert cast.facilitator.display_name not in text, "staff are not named in what the parties sign"
    for user in (cast.harmed.user, cast.responsible.user, cast.facilitator):
        assert user.username not in text


def test_a_signature_over_other_words_or_another_name_is_refused(ready):
    cast = ready
    keys = keys_for(cast)
    version = drafted(cast, items=1)
    services.version_open(actor=cast.facilitator, version=version)
    version.refresh_from_db()
    key_id = cast.harmed.user.key_bundles.get(replaced_at__isnull=True).key_id
    other_words = str(version.document).replace("consent education", "cooking")
    forged = env.b64u(keys["harmed"].sign.sign(document.signed_bytes(other_words, "Sorrel")))
    with pytest.raises(DomainError, match="does not match"):
        services.version_sign(
            actor=cast.harmed.user,
            place=cast.harmed,
            version=version,
            typed_name="Sorrel",
            key_id=key_id,
            signature=forged,
        )
    honest = env.b64u(keys["harmed"].sign.sign(document.signed_bytes(str(version.document), "Sorrel")))
    with pytest.raises(DomainError, match="does not match"):
        services.version_sign(
            actor=cast.harmed.user,
            place=cast.harmed,
            version=version,
            typed_name="Someone else",
            key_id=key_id,
            signature=honest,
        )
    assert not Signature.objects.exists()


def test_someone_else_cannot_sign_for_a_party(ready):
    cast = ready
    keys = keys_for(cast)
    version = drafted(cast, items=1)
    services.version_open(actor=cast.facilitator, version=version)
    version.refresh_from_db()
    with pytest.raises(DomainError):
        services.version_sign(
            actor=cast.responsible.user,
            place=cast.harmed,
            version=version,
            typed_name="Sorrel",
            key_id="x",
            signature=env.b64u(keys["responsible"].sign.sign(b"x")),
        )


def test_a_signed_version_cannot_change_and_an_amendment_is_a_new_version_signed_again(ready):
    cast = ready
    keys = keys_for(cast)
    first = signed(cast, items=2, keys=keys)
    with pytest.raises(Conflict):
        services.version_terms_save(actor=cast.facilitator, version=first, terms="Changed afterwards.")
    amendment = services.agreement_draft(actor=cast.facilitator, case=cast.case)
    assert amendment.number == 2
    assert list(amendment.items.values_list("uid", flat=True)) == list(
        first.items.values_list("uid", flat=True)
    )
    services.item_remove(actor=cast.facilitator, version=amendment, uid=amendment.items.first().uid)
    services.version_open(actor=cast.facilitator, version=amendment)
    assert selectors.version_in_force(first.agreement).pk == first.pk, "not in force before everyone signs"
    sign_as(cast.harmed, amendment, keys["harmed"])
    sign_as(cast.responsible, amendment, keys["responsible"])
    first.refresh_from_db()
    amendment.refresh_from_db()
    assert (first.state, amendment.state) == (Version.State.SUPERSEDED, Version.State.SIGNED)
    assert len(selectors.items_in_force(first.agreement)) == 1
    assert selectors.version_check(first).intact, "the superseded version still checks out"


def test_a_party_may_decline_and_that_is_recorded_without_blame(ready):
    cast = ready
    version = drafted(cast, items=1)
    services.version_open(actor=cast.facilitator, version=version)
    services.version_decline(actor=cast.responsible.user, place=cast.responsible, version=version)
    version.refresh_from_db()
    assert version.state == Version.State.DECLINED
    answer = Signature.objects.get()
    assert answer.decision == "declined" and str(answer.typed_name) == "" and answer.signature == ""
    event = AuditEvent.objects.get(code="agreement.declined")
    assert event.payload == {"version": 1, "role": "responsible_party"}
    page = signed_in(cast.harmed.user).get(f"/cases/{cast.case.reference}/agreement/v1/").content.decode()
    assert "chose not to sign" in page
    # The facilitator can take it back and offer a changed version.
    services.version_withdraw(actor=cast.facilitator, version=version)
    assert Version.objects.get(pk=version.pk).state == Version.State.DRAFT and not Signature.objects.exists()


# --- tampering ---------------------------------------------------------------------------------------


def _page(cast, user, number=1) -> str:
    response = signed_in(user).get(f"/cases/{cast.case.reference}/agreement/v{number}/")
    assert response.status_code == 200
    return response.content.decode()


def test_tamper_an_intact_signed_version_says_so(ready):
    cast = ready
    signed(cast)
    page = _page(cast, cast.harmed.user)
    assert 'data-intact="1"' in page and "every signature matches it" in page


def test_tamper_changing_an_item_after_signing_is_detected_and_the_page_says_so(ready):
    cast = ready
    version = signed(cast)
    item = version.items.first()
    Item.objects.filter(pk=item.pk).update(due_on=item.due_on + timedelta(days=365))
    check = selectors.version_check(version)
    assert check.document_changed and not check.intact
    page = _page(cast, cast.responsible.user)
    assert 'data-intact="0"' in page and "has been changed since it was opened for signing" in page


def test_tamper_changing_the_stored_document_breaks_every_signature(ready):
    cast = ready
    version = signed(cast)
    changed = json.loads(str(version.document))
    changed["items"][0]["description"] = "Nothing at all."
    version.document = document.canonical_text(changed)
    version.save(update_fields=["document"])
    check = selectors.version_check(Version.objects.get(pk=version.pk))
    assert check.document_changed
    assert set(check.bad_signatures) == {cast.harmed.pk, cast.responsible.pk}
    assert "A signature on this version does not match it" in _page(cast, cast.facilitator)


def test_tamper_altering_a_signature_is_detected(ready):
    cast = ready
    version = signed(cast)
    answer = Signature.objects.get(version=version, participant=cast.responsible)
    raw = bytearray(env.unb64u(answer.signature, length=64))
    raw[0] ^= 1
    Signature.objects.filter(pk=answer.pk).update(signature=env.b64u(bytes(raw)))
    check = selectors.version_check(version)
    assert not check.document_changed and check.bad_signatures == [cast.responsible.pk]
    assert 'data-intact="0"' in _page(cast, cast.harmed.user)


def test_tamper_a_signature_moved_to_another_typed_name_is_detected(ready):
    cast = ready
    version = signed(cast)
    answer = Signature.objects.get(version=version, participant=cast.harmed)
    answer.typed_name = "Someone Else"
    answer.save(update_fields=["typed_name"])
    assert selectors.version_check(version).bad_signatures == [cast.harmed.pk]


def test_a_missing_detail_is_named_once_in_plain_words(ready):
    version = services.agreement_draft(actor=ready.facilitator, case=ready.case)
    with pytest.raises(DomainError) as raised:
        services.item_save(
            actor=ready.facilitator,
            version=version,
            kind="restitution",
            description="Pay back the phone.",
            owner=ready.responsible,
            due_on=timezone.localdate() + timedelta(days=5),
            verification="A receipt.",
            details={"amount": "20", "currency": "NZD", "schedule": ""},
        )
    assert raised.value.message == "Please fill in the payment schedule."
