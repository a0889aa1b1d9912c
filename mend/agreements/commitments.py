"""Carrying out the agreement: the owner marks an item done with evidence, a facilitator checks it or asks
for more, restitution payments are recorded, the follow-up plan is kept, and the agreement ends with an
outcome. Each is one atomic, audited action (docs/agreements.md)."""

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import User
from mend.agreements import progress, selectors
from mend.agreements.models import Agreement, CheckIn, Commitment, Evidence, Outcome, Payment
from mend.agreements.services import _facilitating, _money, _text
from mend.audit.codes import AuditCode
from mend.cases.models import ClosureReason, Participant
from mend.cases.services import case_transition
from mend.core.errors import Conflict, DomainError
from mend.dialogue import services as dialogue
from mend.dialogue.models import Conversation

CLOSURE_FOR = {
    Outcome.COMPLETED: ClosureReason.AGREEMENT_COMPLETED,
    Outcome.PARTLY_COMPLETED: ClosureReason.OTHER,
    Outcome.NOT_COMPLETED: ClosureReason.OTHER,
    Outcome.WITHDRAWN: ClosureReason.OTHER,
}


def _locked(commitment: Commitment) -> tuple[Commitment, object]:
    """The commitment, locked, with its item in the version in force. The agreement is locked first, always
    in this order, so that two items checked at the same moment still see each other (completion)."""
    Agreement.objects.select_for_update().filter(pk=commitment.agreement_id).first()
    commitment = (
        Commitment.objects.select_for_update()
        .select_related("agreement__case__program")
        .get(pk=commitment.pk)
    )
    item = next(
        (i for i in selectors.items_in_force(commitment.agreement) if i.uid == commitment.item_uid), None
    )
    if item is None:
        raise Conflict(_("This item is no longer part of the agreement in force."))
    if commitment.agreement.completed_at is not None:
        raise Conflict(_("This agreement has ended, so its items no longer change."))
    return commitment, item


@transaction.atomic
def commitment_submit(*, actor: User, place: Participant, commitment: Commitment, envelope: dict) -> Evidence:
    """The owner marks the item done. Their evidence is a message encrypted in their browser (envelope v2)
    into their conversation with their facilitators, accepted with every check of the dialogue."""
    commitment, item = _locked(commitment)
    if place.user_id != actor.pk or item.owner_id != place.pk:
        raise DomainError(_("Only the person this item belongs to can mark it done."))
    if commitment.state == Commitment.State.VERIFIED:
        raise Conflict(_("This item is already done and checked. Nothing more is needed."))
    conversation = dialogue.conversation_open(case=place.case, kind=Conversation.Kind.SUPPORT, party=place)
    message, _new = dialogue.message_post(actor=actor, conversation=conversation, envelope=envelope)
    evidence, created = Evidence.objects.get_or_create(
        message=message,
        defaults={
            "case": place.case,
            "commitment": commitment,
            "submitted_by": actor,
            "submitted_at": timezone.now(),
        },
    )
    if evidence.commitment_id != commitment.pk:
        raise Conflict(_("That message is already evidence for another item."))
    if not created:
        # The same evidence again (a retry after a lost answer): already recorded. It is not new evidence,
        # so it neither undoes a facilitator's request for more nor writes a second audit event.
        return evidence
    commitment.state = Commitment.State.SUBMITTED
    commitment.save(update_fields=["state", "updated_at"])
    audit.record(
        actor=actor,
        code=AuditCode.COMMITMENT_SUBMITTED,
        target=commitment,
        case=place.case,
        data={"item": commitment.item_uid, "message": message.message_id},
    )
    return evidence


@transaction.atomic
def commitment_verify(*, actor: User, commitment: Commitment) -> Commitment:
    """A facilitator has checked the evidence: the item is done. Progress updates follow the person
    harmed's choice; when the last item is done, the agreement is complete."""
    commitment, item = _locked(commitment)
    case = commitment.agreement.case
    _facilitating(actor, case)
    if commitment.state == Commitment.State.VERIFIED:
        raise Conflict(_("This item is already checked."))
    commitment.state = Commitment.State.VERIFIED
    commitment.verified_at = timezone.now()
    commitment.verified_by = actor
    commitment.save(update_fields=["state", "verified_at", "verified_by", "updated_at"])
    audit.record(
        actor=actor,
        code=AuditCode.COMMITMENT_VERIFIED,
        target=commitment,
        case=case,
        data={"item": commitment.item_uid},
    )
    progress.item_verified(case=case, item=item)
    in_force = {i.uid for i in selectors.items_in_force(commitment.agreement)}
    done = set(
        Commitment.objects.filter(
            agreement=commitment.agreement, state=Commitment.State.VERIFIED, item_uid__in=in_force
        ).values_list("item_uid", flat=True)
    )
    if in_force and in_force <= done:
        progress.agreement_completed(case=case)
    return commitment


@transaction.atomic
def commitment_ask_more(*, actor: User, commitment: Commitment, note: str) -> Commitment:
    """The facilitator needs more before the item counts as done; the note says what, kindly."""
    commitment, item = _locked(commitment)
    case = commitment.agreement.case
    _facilitating(actor, case)
    if commitment.state == Commitment.State.VERIFIED:
        raise Conflict(_("This item is already checked."))
    commitment.facilitator_note = _text(note, "note", _("note saying what more is needed"), required=True)
    commitment.state = Commitment.State.MORE_NEEDED
    commitment.save(update_fields=["facilitator_note", "state", "updated_at"])
    audit.record(
        actor=actor,
        code=AuditCode.COMMITMENT_MORE_NEEDED,
        target=commitment,
        case=case,
        data={"item": commitment.item_uid},
    )
    return commitment


@transaction.atomic
def payment_record(*, actor: User, commitment: Commitment, amount, paid_on: date, note: str = "") -> Payment:
    """One payment on a restitution item's ledger."""
    commitment, item = _locked(commitment)
    case = commitment.agreement.case
    _facilitating(actor, case)
    if item.kind != "restitution":
        raise DomainError(_("Payments are recorded on restitution items only."))
    if isinstance(paid_on, datetime) or not isinstance(paid_on, date) or paid_on > timezone.localdate():
        raise DomainError(_("Give the day it was paid: today or an earlier day."), field="paid_on")
    payment = Payment.objects.create(
        case=case,
        commitment=commitment,
        amount=Decimal(_money(amount, "amount")),
        paid_on=paid_on,
        note=_text(note, "note", _("note"), max_length=500),
        recorded_by=actor,
    )
    audit.record(
        actor=actor,
        code=AuditCode.PAYMENT_RECORDED,
        target=payment,
        case=case,
        data={"item": commitment.item_uid},
    )
    return payment


def ledger_of(commitment: Commitment, item) -> dict:
    """What was agreed, what has been paid, and what is left."""
    paid = sum((p.amount for p in commitment.payments.all()), Decimal("0"))
    agreed = Decimal(str((item.details or {}).get("amount", "0")))
    return {
        "agreed": agreed,
        "paid": paid,
        "left": max(agreed - paid, Decimal("0")),
        "currency": (item.details or {}).get("currency", ""),
    }


@transaction.atomic
def checkin_schedule(
    *, actor: User, agreement: Agreement, kind: str, with_participant: Participant, due_on: date
) -> CheckIn:
    """A step of the follow-up plan: a check-in, or a support contact."""
    case = agreement.case
    _facilitating(actor, case)
    if kind not in CheckIn.Kind.values:
        raise DomainError(_("Choose a check-in or a support contact."), field="kind")
    if with_participant.case_id != case.pk or with_participant.removed_at is not None:
        raise DomainError(_("Choose someone in the case."), field="with_participant")
    if isinstance(due_on, datetime) or not isinstance(due_on, date) or due_on < timezone.localdate():
        raise DomainError(_("Choose today or a later day."), field="due_on")
    check_in = CheckIn.objects.create(
        case=case,
        agreement=agreement,
        kind=kind,
        with_participant=with_participant,
        due_on=due_on,
        created_by=actor,
    )
    audit.record(
        actor=actor, code=AuditCode.CHECKIN_SCHEDULED, target=check_in, case=case, data={"kind": kind}
    )
    return check_in


@transaction.atomic
def checkin_done(*, actor: User, check_in: CheckIn, notes: str = "") -> CheckIn:
    check_in = CheckIn.objects.select_for_update().select_related("case").get(pk=check_in.pk)
    _facilitating(actor, check_in.case)
    if check_in.done_at is not None:
        raise Conflict(_("This check-in is already marked done."))
    check_in.done_at = timezone.now()
    check_in.notes = _text(notes, "notes", _("notes"))
    check_in.save(update_fields=["done_at", "notes"])
    audit.record(
        actor=actor,
        code=AuditCode.CHECKIN_DONE,
        target=check_in,
        case=check_in.case,
        data={"kind": check_in.kind},
    )
    return check_in


@transaction.atomic
def agreement_close(*, actor: User, agreement: Agreement, outcome: str) -> Agreement:
    """The case closes with the agreement's outcome: completed, partly completed, not completed, or
    withdrawn. The stage change goes through the one stage changer."""

    if outcome not in Outcome.values:
        raise DomainError(_("Choose how the agreement ended."), field="outcome")
    agreement = Agreement.objects.select_for_update().select_related("case__program").get(pk=agreement.pk)
    _facilitating(actor, agreement.case)
    if agreement.outcome:
        raise Conflict(_("This agreement already has its outcome."))
    agreement.outcome = outcome
    agreement.completed_at = timezone.now()
    agreement.save(update_fields=["outcome", "completed_at"])
    audit.record(
        actor=actor,
        code=AuditCode.AGREEMENT_CLOSED,
        target=agreement,
        case=agreement.case,
        data={"outcome": outcome},
    )
    if outcome == Outcome.COMPLETED:
        progress.agreement_completed(case=agreement.case)
    case_transition(actor=actor, case=agreement.case, action="close", closure_reason=CLOSURE_FOR[outcome])
    return agreement
