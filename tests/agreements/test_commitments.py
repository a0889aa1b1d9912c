"""Carrying out an agreement: evidence sent as a real envelope into the owner's conversation with their
facilitators, checked or asked about kindly, restitution payments on a ledger, the follow-up plan, and the
case closed with the agreement's outcome (docs/agreements.md). Each action is atomic: a refusal leaves
nothing half-written."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from mend.agreements import commitments, selectors
from mend.agreements.models import CheckIn, Commitment, Evidence, Outcome, Payment, ProgressUpdate
from mend.audit.models import AuditEvent
from mend.cases.models import Case
from mend.core import envelope as env
from mend.core.errors import Conflict, DomainError
from mend.dialogue import services as dialogue
from mend.dialogue.models import Message
from tests.agreements.builders import at_encounter, commitment, keys_for, signed
from tests.agreements.progress_helpers import choose
from tests.builders import signed_in
from tests.dialogue.helpers import recipients_now, seal

EVIDENCE = "I finished the course on Tuesday; the certificate is attached."
NOTE = "Thank you. Could you add a photo of the certificate, so we can mark it done?"


def support_of(place):
    return dialogue.conversation_open(case=place.case, kind="support", party=place)


def evidence_envelope(cast, keys, text: str = EVIDENCE, **kwargs) -> dict:
    """Evidence as the item page seals it: into the person responsible's conversation with their
    facilitators, to everyone who reads it."""
    return seal(support_of(cast.responsible), keys["responsible"], text, **kwargs)


def submit(cast, item: Commitment, envelope: dict, place=None) -> Evidence:
    place = place or cast.responsible
    return commitments.commitment_submit(actor=place.user, place=place, commitment=item, envelope=envelope)


def state_of(item: Commitment) -> str:
    return Commitment.objects.get(pk=item.pk).state


@pytest.fixture
def keys(cast):
    at_encounter(cast)
    return keys_for(cast)


@pytest.fixture
def version(cast, keys):
    """In force: a learning item (0) and a restitution item of 250 NZD (1), both the person responsible's."""
    return signed(cast, items=2, keys=keys)


# --- evidence -------------------------------------------------------------------------------------------


def test_the_owner_marks_an_item_done_with_evidence_sealed_to_their_conversation(cast, keys, version):
    item = commitment(version, 0)
    sealed = evidence_envelope(cast, keys)
    evidence = submit(cast, item, sealed)

    message = Message.objects.get()
    assert evidence.message_id == message.pk and message.message_id == sealed["id"]
    assert message.conversation == support_of(cast.responsible) and message.sender == cast.responsible.user
    assert evidence.commitment_id == item.pk and evidence.submitted_by == cast.responsible.user
    assert state_of(item) == Commitment.State.SUBMITTED
    # The server stores the envelope, which the facilitator can open, and never the words themselves.
    assert EVIDENCE not in message.envelope
    opened = env.open_envelope(json.loads(message.envelope), keys["facilitator"])
    assert opened == {"text": EVIDENCE}
    event = AuditEvent.objects.get(code="commitment.submitted")
    assert event.payload == {"item": item.item_uid, "message": sealed["id"]}
    assert event.actor == cast.responsible.user and event.case_id == cast.case.pk
    assert "course" not in json.dumps(event.payload)


@pytest.mark.parametrize("who", ["harmed", "supporter"])
def test_nobody_else_can_mark_the_responsible_partys_item_done(cast, keys, version, who):
    item = commitment(version, 0)
    place = getattr(cast, who)
    if who == "harmed":
        sealed = seal(support_of(place), keys["harmed"], "It is done, trust me.")
    else:
        sealed = evidence_envelope(cast, keys)
    with pytest.raises(DomainError, match="Only the person this item belongs to"):
        submit(cast, item, sealed, place=place)
    assert state_of(item) == Commitment.State.OPEN
    assert not Evidence.objects.exists() and not Message.objects.exists()
    assert not AuditEvent.objects.filter(code="commitment.submitted").exists()


def test_nobody_can_mark_it_done_in_the_owners_name(cast, keys, version):
    item = commitment(version, 0)
    with pytest.raises(DomainError):
        commitments.commitment_submit(
            actor=cast.harmed.user,
            place=cast.responsible,
            commitment=item,
            envelope=evidence_envelope(cast, keys),
        )
    assert state_of(item) == Commitment.State.OPEN and not Evidence.objects.exists()


def _only_to_self(cast, keys) -> dict:
    support = support_of(cast.responsible)
    mine = [r for r in recipients_now(support) if r.key_id == keys["responsible"].key_id]
    return seal(support, keys["responsible"], EVIDENCE, recipients=mine)


def _to_someone_else_too(cast, keys) -> dict:
    support = support_of(cast.responsible)
    harmed = env.Recipient(keys["harmed"].key_id, keys["harmed"].enc_public)
    return seal(support, keys["responsible"], EVIDENCE, recipients=[*recipients_now(support), harmed])


def _forged(cast, keys) -> dict:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    sealed = evidence_envelope(cast, keys)
    sealed["sig"] = env.b64u(Ed25519PrivateKey.generate().sign(env.signed_part(sealed)))
    return sealed


def _changed_after_signing(cast, keys) -> dict:
    sealed = evidence_envelope(cast, keys)
    sealed["meta"] = {"kind": "message", "approved": True}
    return sealed


def _into_another_conversation(cast, keys) -> dict:
    return seal(support_of(cast.harmed), keys["responsible"], EVIDENCE)


@pytest.mark.parametrize(
    "make,code",
    [
        (_only_to_self, "recipients"),
        (_to_someone_else_too, "recipients"),
        (_forged, "signature"),
        (_changed_after_signing, "signature"),
        (_into_another_conversation, "form"),
    ],
)
def test_evidence_sealed_wrongly_is_refused_and_nothing_is_half_written(cast, keys, version, make, code):
    item = commitment(version, 0)
    with pytest.raises(DomainError) as refused:
        submit(cast, item, make(cast, keys))
    assert refused.value.code == code and refused.value.message
    assert state_of(item) == Commitment.State.OPEN
    assert not Evidence.objects.exists() and not Message.objects.exists()
    assert not AuditEvent.objects.filter(code="commitment.submitted").exists()


def test_the_same_envelope_sent_again_is_one_piece_of_evidence(cast, keys, version):
    item = commitment(version, 0)
    sealed = evidence_envelope(cast, keys)
    first = submit(cast, item, sealed)
    again = submit(cast, item, json.loads(json.dumps(sealed)))  # a retry after a lost answer
    assert again.pk == first.pk
    assert Evidence.objects.count() == 1 and Message.objects.count() == 1
    assert AuditEvent.objects.filter(code="commitment.submitted").count() == 1


def test_a_retry_after_the_facilitator_asked_for_more_does_not_undo_the_request(cast, keys, version):
    item = commitment(version, 0)
    sealed = evidence_envelope(cast, keys)
    submit(cast, item, sealed)
    commitments.commitment_ask_more(actor=cast.facilitator, commitment=item, note=NOTE)
    submit(cast, item, json.loads(json.dumps(sealed)))  # the old evidence again is not more evidence
    assert state_of(item) == Commitment.State.MORE_NEEDED
    assert Evidence.objects.count() == 1
    # New evidence is.
    submit(cast, item, evidence_envelope(cast, keys, "Here is the photo."))
    assert state_of(item) == Commitment.State.SUBMITTED and Evidence.objects.count() == 2


def test_one_message_is_evidence_for_one_item_only(cast, keys, version):
    first, second = commitment(version, 0), commitment(version, 1)
    sealed = evidence_envelope(cast, keys)
    submit(cast, first, sealed)
    with pytest.raises(Conflict):
        submit(cast, second, sealed)
    assert state_of(second) == Commitment.State.OPEN
    assert list(Evidence.objects.values_list("commitment_id", flat=True)) == [first.pk]


def test_evidence_is_not_taken_for_an_item_already_checked(cast, keys, version):
    item = commitment(version, 0)
    commitments.commitment_verify(actor=cast.facilitator, commitment=item)
    with pytest.raises(Conflict):
        submit(cast, item, evidence_envelope(cast, keys))
    assert not Message.objects.exists() and state_of(item) == Commitment.State.VERIFIED


# --- checking ------------------------------------------------------------------------------------------


def test_a_facilitator_checks_it_and_a_person_harmed_who_asked_hears_of_it(cast, keys, version):
    choose(cast, "each_verified")
    first, second = commitment(version, 0), commitment(version, 1)
    submit(cast, first, evidence_envelope(cast, keys))
    commitments.commitment_verify(actor=cast.facilitator, commitment=first)

    first.refresh_from_db()
    assert first.state == Commitment.State.VERIFIED and first.verified_by == cast.facilitator
    assert first.verified_at is not None
    queued = ProgressUpdate.objects.get()
    assert (queued.recipient, queued.trigger, queued.state) == (cast.harmed, "verified", "queued")
    assert AuditEvent.objects.get(code="commitment.verified").payload == {"item": first.item_uid}
    with pytest.raises(Conflict):
        commitments.commitment_verify(actor=cast.facilitator, commitment=first)

    # The last item checked completes the agreement: the update that says so replaces the waiting one.
    commitments.commitment_verify(actor=cast.facilitator, commitment=second)
    updates = dict(ProgressUpdate.objects.values_list("trigger", "state"))
    assert updates == {"verified": "cancelled", "completion": "queued"}


def test_a_person_harmed_who_chose_to_hear_only_at_the_end_gets_nothing_for_one_item(cast, keys, version):
    choose(cast, "at_end")
    commitments.commitment_verify(actor=cast.facilitator, commitment=commitment(version, 0))
    assert not ProgressUpdate.objects.exists()


@pytest.mark.parametrize("who", ["responsible", "harmed", "other_facilitator_same_program", "coordinator"])
def test_only_a_facilitator_of_the_case_checks_an_item(cast, keys, version, who):
    someone = getattr(cast, who)
    item = commitment(version, 0)
    with pytest.raises(DomainError):
        commitments.commitment_verify(actor=getattr(someone, "user", someone), commitment=item)
    with pytest.raises(DomainError):
        commitments.commitment_ask_more(actor=getattr(someone, "user", someone), commitment=item, note=NOTE)
    assert state_of(item) == Commitment.State.OPEN


@pytest.mark.parametrize("note", ["", "   "])
def test_asking_for_more_needs_a_note(cast, keys, version, note):
    item = commitment(version, 0)
    submit(cast, item, evidence_envelope(cast, keys))
    with pytest.raises(DomainError) as refused:
        commitments.commitment_ask_more(actor=cast.facilitator, commitment=item, note=note)
    assert refused.value.field == "note"
    assert state_of(item) == Commitment.State.SUBMITTED
    assert not AuditEvent.objects.filter(code="commitment.more_needed").exists()


def test_the_owner_reads_the_note_and_the_person_harmed_does_not(cast, keys, version):
    choose(cast, "each_verified")  # so that the person harmed may open the item's page at all
    item = commitment(version, 0)
    submit(cast, item, evidence_envelope(cast, keys))
    commitments.commitment_ask_more(actor=cast.facilitator, commitment=item, note=NOTE)

    item.refresh_from_db()
    assert item.state == Commitment.State.MORE_NEEDED and str(item.facilitator_note) == NOTE
    event = AuditEvent.objects.get(code="commitment.more_needed")
    assert event.payload == {"item": item.item_uid}, "the note stays out of the audit trail"
    path = f"/cases/{cast.case.reference}/agreement/items/{item.item_uid}/"
    owners = signed_in(cast.responsible.user).get(path)
    assert owners.status_code == 200
    assert 'data-testid="more-needed"' in owners.content.decode() and NOTE in owners.content.decode()
    harmed = signed_in(cast.harmed.user).get(path)
    assert harmed.status_code == 200
    assert NOTE not in harmed.content.decode() and 'data-testid="more-needed"' not in harmed.content.decode()


# --- restitution payments -------------------------------------------------------------------------------


def test_payments_go_on_the_ledger_of_what_was_agreed_paid_and_left(cast, keys, version):
    item = commitment(version, 1)
    today = timezone.localdate()
    commitments.payment_record(
        actor=cast.facilitator, commitment=item, amount="100", paid_on=today - timedelta(days=3)
    )
    commitments.payment_record(
        actor=cast.facilitator, commitment=item, amount="50.00", paid_on=today, note="Cash, at the office."
    )
    restitution = next(i for i in selectors.items_in_force(version.agreement) if i.uid == item.item_uid)
    ledger = commitments.ledger_of(Commitment.objects.get(pk=item.pk), restitution)
    assert ledger == {
        "agreed": Decimal("250"),
        "paid": Decimal("150"),
        "left": Decimal("100"),
        "currency": "NZD",
    }
    assert AuditEvent.objects.filter(code="payment.recorded").count() == 2
    for event in AuditEvent.objects.filter(code="payment.recorded"):
        assert event.payload == {"item": item.item_uid}


def test_a_payment_is_refused_on_an_item_that_is_not_restitution(cast, keys, version):
    with pytest.raises(DomainError, match="restitution"):
        commitments.payment_record(
            actor=cast.facilitator,
            commitment=commitment(version, 0),
            amount="100",
            paid_on=timezone.localdate(),
        )
    assert not Payment.objects.exists()


def _today():
    return timezone.localdate()


@pytest.mark.parametrize(
    "amount,paid_on,field",
    [
        ("100", lambda: _today() + timedelta(days=1), "paid_on"),
        ("100", lambda: timezone.now(), "paid_on"),  # a moment, not a day
        ("100", lambda: _today().isoformat(), "paid_on"),
        ("abc", _today, "amount"),
        ("-5", _today, "amount"),
        ("0", _today, "amount"),
        ("10.005", _today, "amount"),
        ("", _today, "amount"),
    ],
)
def test_a_payment_with_a_wrong_day_or_amount_is_refused(cast, keys, version, amount, paid_on, field):
    with pytest.raises(DomainError) as refused:
        commitments.payment_record(
            actor=cast.facilitator, commitment=commitment(version, 1), amount=amount, paid_on=paid_on()
        )
    assert refused.value.field == field and refused.value.message
    assert not Payment.objects.exists()


def test_only_a_facilitator_of_the_case_records_a_payment(cast, keys, version):
    with pytest.raises(DomainError):
        commitments.payment_record(
            actor=cast.responsible.user,
            commitment=commitment(version, 1),
            amount="100",
            paid_on=timezone.localdate(),
        )
    assert not Payment.objects.exists()


# --- follow-up and the end ------------------------------------------------------------------------------


def test_a_check_in_is_planned_and_marked_done_once(cast, keys, version):
    check_in = commitments.checkin_schedule(
        actor=cast.facilitator,
        agreement=version.agreement,
        kind="check_in",
        with_participant=cast.responsible,
        due_on=timezone.localdate() + timedelta(days=14),
    )
    assert check_in.done_at is None
    done = commitments.checkin_done(actor=cast.facilitator, check_in=check_in, notes="Going well.")
    assert done.done_at is not None and str(CheckIn.objects.get(pk=check_in.pk).notes) == "Going well."
    with pytest.raises(Conflict):
        commitments.checkin_done(actor=cast.facilitator, check_in=check_in)
    codes = list(AuditEvent.objects.filter(code__startswith="checkin.").values_list("code", "payload"))
    assert codes == [("checkin.scheduled", {"kind": "check_in"}), ("checkin.done", {"kind": "check_in"})]


@pytest.mark.parametrize("kind,days,field", [("coffee", 14, "kind"), ("check_in", -1, "due_on")])
def test_a_check_in_of_no_known_kind_or_in_the_past_is_refused(cast, keys, version, kind, days, field):
    with pytest.raises(DomainError) as refused:
        commitments.checkin_schedule(
            actor=cast.facilitator,
            agreement=version.agreement,
            kind=kind,
            with_participant=cast.responsible,
            due_on=timezone.localdate() + timedelta(days=days),
        )
    assert refused.value.field == field
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    "outcome,reason",
    [
        (Outcome.COMPLETED, "agreement_completed"),
        (Outcome.PARTLY_COMPLETED, "other"),
        (Outcome.NOT_COMPLETED, "other"),
        (Outcome.WITHDRAWN, "other"),
    ],
)
def test_closing_with_each_outcome_closes_the_case(cast, keys, version, outcome, reason):
    agreement = commitments.agreement_close(
        actor=cast.facilitator, agreement=version.agreement, outcome=outcome
    )
    assert agreement.outcome == outcome and agreement.completed_at is not None
    case = Case.objects.get(pk=cast.case.pk)
    assert (case.stage, case.closure_reason) == ("closed", reason)
    assert AuditEvent.objects.get(code="agreement.closed").payload == {"outcome": outcome}
    # The person harmed (who chose to hear at the end) hears that it is complete only when it is.
    completions = ProgressUpdate.objects.filter(recipient=cast.harmed, trigger="completion").count()
    assert completions == (1 if outcome == Outcome.COMPLETED else 0)
    with pytest.raises(Conflict):
        commitments.agreement_close(actor=cast.facilitator, agreement=version.agreement, outcome=outcome)
    assert AuditEvent.objects.filter(code="agreement.closed").count() == 1


def test_closing_needs_a_known_outcome_and_a_facilitator(cast, keys, version):
    with pytest.raises(DomainError) as refused:
        commitments.agreement_close(actor=cast.facilitator, agreement=version.agreement, outcome="great")
    assert refused.value.field == "outcome"
    with pytest.raises(DomainError):
        commitments.agreement_close(
            actor=cast.responsible.user, agreement=version.agreement, outcome=Outcome.COMPLETED
        )
    assert Case.objects.get(pk=cast.case.pk).stage != "closed"
    assert not version.agreement.__class__.objects.get(pk=version.agreement.pk).outcome


def test_after_the_end_its_items_no_longer_change(cast, keys, version):
    commitments.agreement_close(
        actor=cast.facilitator, agreement=version.agreement, outcome=Outcome.PARTLY_COMPLETED
    )
    item = commitment(version, 0)
    with pytest.raises(Conflict):
        submit(cast, item, evidence_envelope(cast, keys))
    with pytest.raises(Conflict):
        commitments.commitment_verify(actor=cast.facilitator, commitment=item)
    assert state_of(item) == Commitment.State.OPEN and not Message.objects.exists()
