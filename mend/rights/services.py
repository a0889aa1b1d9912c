"""Data rights: a person's request to delete their information, and the program's retention period. Both
end in crypto-shredding: the case's data keys are destroyed, so its sealed records can no longer be read,
here or in any copy of the main database (docs/data-rights.md)."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import ApiToken, KeyBundle, Program, User
from mend.audit.codes import AuditCode
from mend.cases import workflow
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Case, Participant
from mend.consent.models import Consent, Scope
from mend.consent.services import consent_withdraw
from mend.core.errors import Conflict, DomainError
from mend.dialogue.models import Attachment, Message
from mend.keystore import services as keystore


def _lock(place: Participant) -> Participant:
    # The same order as consent changes (case, then person), so the two never wait on each other.
    Case.objects.select_for_update().filter(pk=place.case_id).first()
    # Only the place's own row: PostgreSQL cannot lock the nullable side of the join to the account.
    return (
        Participant.objects.select_for_update(of=("self",))
        .select_related("case__program", "user")
        .get(pk=place.pk)
    )


@transaction.atomic
def participant_data_delete(*, actor: User, place: Participant) -> Participant:
    """The person leaves and their information goes, in one step: every consent withdrawn (with its usual
    effects: their own path stops, their sessions are left or cancelled; the case pauses only when nobody is
    left on their side), the messages they wrote and their own
    conversations deleted, their contact details and name in the case blanked, their place ended and, when
    it was their only one, their account closed. When every party has asked, or the case is closed, the
    whole case is crypto-shredded at once; otherwise the records facilitators keep stay sealed until then."""
    if place.user_id != actor.pk or place.is_facilitating:
        raise DomainError(_("Only the person themselves can ask for their information to be deleted."))
    place = _lock(place)
    if place.deletion_requested_at is not None or place.removed_at is not None:
        raise Conflict(_("Your information has already been deleted. Nothing more is needed."))
    case = place.case
    _withdraw_all_consent(actor=actor, place=place)
    messages, files = _delete_own_messages(place)
    now = timezone.now()
    place.accessibility_needs = place.contact_method = place.pseudonym = ""
    place.deletion_requested_at = place.removed_at = now
    place.save(
        update_fields=[
            "accessibility_needs",
            "contact_method",
            "pseudonym",
            "deletion_requested_at",
            "removed_at",
        ]
    )
    audit.record(
        actor=actor,
        code=AuditCode.PARTICIPANT_DATA_DELETED,
        target=place,
        case=case,
        data={"role": place.role, "messages": messages, "files": files},
    )
    _account_close_if_unused(actor)
    case = Case.objects.get(pk=case.pk)
    if case.stage == workflow.CLOSED:
        case_data_shred(actor=actor, case=case, reason="closed_case_request")
    elif _every_party_asked(case):
        case_data_shred(actor=actor, case=case, reason="every_party_asked")
    return place


@transaction.atomic
def participant_data_exported(*, actor: User, place: Participant) -> None:
    """A person downloaded their information: the event says that it happened, never what it held."""
    if place.user_id != actor.pk or place.is_facilitating:
        raise DomainError(_("Only the person themselves can download their information."))
    audit.record(
        actor=actor,
        code=AuditCode.PARTICIPANT_DATA_EXPORTED,
        target=place,
        case=place.case,
        data={"role": place.role},
    )


def _withdraw_all_consent(*, actor: User, place: Participant) -> None:
    held = set(
        Consent.objects.filter(participant=place, withdrawn_at__isnull=True).values_list("scope", flat=True)
    )
    # Taking part first, so that their path stops once, with the usual neutral notice to the others.
    for scope in sorted(held, key=lambda s: s != Scope.TAKE_PART):
        consent_withdraw(actor=actor, place=place, scope=scope)


def _delete_own_messages(place: Participant) -> tuple[int, int]:
    """What the person wrote, and their own conversations (support and relay) with everything in them.
    The server holds these as ciphertext only; deleting the rows is what is left to do. A copy a facilitator
    passed on to the other party, re-encrypted by the facilitator, stays in that party's conversation: it
    is theirs now, as a letter once delivered would be."""

    mine = Q(conversation__case_id=place.case_id) & (
        Q(conversation__party=place) | Q(sender_id=place.user_id)
    )
    files = Attachment.objects.filter(
        Q(conversation__case_id=place.case_id)
        & (
            Q(conversation__party=place)
            | Q(uploader_id=place.user_id)
            | Q(message__in=Message.objects.filter(mine))
        )
    )
    file_count = files.count()
    files.delete()
    _total, deleted = Message.objects.filter(mine).delete()
    return deleted.get("dialogue.Message", 0), file_count


def _account_close_if_unused(user: User) -> None:
    """A participant's account exists for their place in a case: with no place left, it is closed, its
    name blanked and its keys (wrapped in the browser; the server cannot use them) deleted."""
    if user.is_staff_member or Participant.objects.filter(user=user, removed_at__isnull=True).exists():
        return
    KeyBundle.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user).delete()
    user.is_active = False
    user.display_name = ""
    user.set_unusable_password()
    user.save(update_fields=["is_active", "display_name", "password"])


def _every_party_asked(case: Case) -> bool:
    parties = case.participants.filter(role__in=PARTY_ROLES, joined_at__isnull=False)
    return parties.exists() and not parties.filter(deletion_requested_at__isnull=True).exists()


def case_shred_if_asked(*, actor, case: Case) -> None:
    """On closing: if anyone in the case asked for their information to be deleted, the case goes now."""
    if (
        case.data_deleted_at is None
        and case.participants.filter(deletion_requested_at__isnull=False).exists()
    ):
        case_data_shred(actor=actor, case=case, reason="closed_case_request")


@transaction.atomic
def case_data_shred(*, actor, case: Case, reason: str) -> Case:
    """Crypto-shredding of a whole case: its data keys are destroyed, which leaves every sealed record
    (intake notes, contact details, assessments, acknowledgments, safety plans, declarations) unreadable in
    this database and in every earlier copy of it; the messages and files (ciphertext to keys only the
    people had) are deleted; names in the case and contact details are blanked; the places of people taking
    part end, and accounts left with no place are closed. Audit events stay: they hold codes and ids only."""

    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.data_deleted_at is not None:
        return case
    keystore.case_keys_destroy(actor=actor, case=case)
    file_count = Attachment.objects.filter(conversation__case=case).count()
    Attachment.objects.filter(conversation__case=case).delete()
    _total, deleted = Message.objects.filter(conversation__case=case).delete()
    message_count = deleted.get("dialogue.Message", 0)
    now = timezone.now()
    places = list(case.participants.select_related("user"))
    users = {p.user for p in places if p.user is not None and not p.is_facilitating}
    case.participants.update(pseudonym="", accessibility_needs="", contact_method="")
    # Facilitators keep their place, so staff still see that the case existed and what became of it.
    case.participants.filter(removed_at__isnull=True).exclude(role__in=FACILITATING_ROLES).update(
        removed_at=now
    )
    for user in users:
        _account_close_if_unused(user)
    Case.objects.filter(pk=case.pk).update(data_deleted_at=now)
    case.data_deleted_at = now
    audit.record(
        actor=actor,
        code=AuditCode.CASE_DATA_DELETED,
        target=case,
        case=case,
        data={"reason": reason, "messages": message_count, "files": file_count},
    )
    return case


def retention_expire(*, now=None) -> int:
    """The retention period: every case closed longer ago than its program keeps records is
    crypto-shredded. Mend has no closing date of its own, so a closed case counts as closed when it last
    changed (`updated_at`); nothing changes a closed case but reopening it. One transaction per case."""
    now = now or timezone.now()
    done = 0
    for program in Program.objects.order_by("pk"):
        cutoff = now - timedelta(days=program.retention_days)
        expired = Case.objects.filter(
            program=program, stage=workflow.CLOSED, data_deleted_at__isnull=True, updated_at__lt=cutoff
        ).order_by("pk")
        for case in expired:
            case_data_shred(actor=None, case=case, reason="retention")
            done += 1
    return done
