"""Giving and withdrawing consent, the harmed party's choices, and a party's pause: one action each."""

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import Program, User
from mend.audit.codes import AuditCode
from mend.cases import notices, workflow
from mend.cases import services as case_services
from mend.cases.models import PARTY_ROLES, Case, Participant, Role
from mend.consent import hooks
from mend.consent.models import Consent, ConsentText, HarmedPartyChoices, Mode, ProgressUpdates, Scope
from mend.consent.selectors import current_text
from mend.consent.texts import DEFAULT_TEXTS
from mend.core.errors import Conflict, DomainError

# Which scopes each role is asked about; others do not apply to them.
SCOPES_FOR_ROLE = {
    Role.HARMED_PARTY: list(Scope.values),
    Role.RESPONSIBLE_PARTY: [s for s in Scope.values if s != Scope.PROGRESS_UPDATES],
    Role.SUPPORTER: [Scope.TAKE_PART, Scope.FACILITATOR_CONTACT, Scope.DATA_PROCESSING],
    Role.COMMUNITY_MEMBER: [Scope.TAKE_PART, Scope.FACILITATOR_CONTACT, Scope.DATA_PROCESSING],
    Role.INTERPRETER: [Scope.TAKE_PART, Scope.DATA_PROCESSING],
}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def consent_texts_seed(*, actor: User | None, program: Program) -> None:
    """Every new program starts with Mend's default wording, as version 1 of each scope."""
    for scope, text in DEFAULT_TEXTS.items():
        if not ConsentText.objects.filter(program=program, scope=scope).exists():
            ConsentText.objects.create(
                program=program, scope=scope, version=1, text=text, sha256=_sha256(text), created_by=actor
            )


@transaction.atomic
def consent_text_update(*, actor: User, program: Program, scope: str, text: str) -> ConsentText:
    if scope not in Scope.values:
        raise DomainError(_("Choose a consent scope from the list."), field="scope")
    text = (text or "").strip()
    if not 20 <= len(text) <= 2000:
        raise DomainError(_("Write the consent text in 20 to 2000 characters."), field="text")
    Program.objects.select_for_update().filter(pk=program.pk).first()  # one version number at a time
    latest = current_text(program, scope)
    if latest is not None and latest.text == text:
        return latest
    new = ConsentText.objects.create(
        program=program,
        scope=scope,
        version=(latest.version + 1 if latest else 1),
        text=text,
        sha256=_sha256(text),
        created_by=actor,
    )
    audit.record(
        actor=actor,
        code=AuditCode.CONSENT_TEXT_CHANGED,
        target=new,
        program=program,
        data={"scope": scope, "version": new.version},
    )
    return new


def _lock(place: Participant) -> Participant:
    """Every change that starts or stops contact locks the case first, then the person, in that order,
    so that a session scheduled at the same moment sees the change or waits for it."""
    Case.objects.select_for_update().filter(pk=place.case_id).first()
    locked = Participant.objects.select_for_update().select_related("case__program").get(pk=place.pk)
    return locked


def _check_scope(place: Participant, scope: str) -> None:
    if scope not in SCOPES_FOR_ROLE.get(place.role, []):
        raise DomainError(_("That kind of consent does not apply to your part in this case."), field="scope")


@transaction.atomic
def consent_give(*, actor: User, place: Participant, scope: str, text_sha256: str) -> Consent:
    """Records consent to the exact wording the person saw; if it changed meanwhile, they read it again."""
    if place.user_id != actor.pk:
        raise DomainError(_("Only the person themselves can give their consent."))
    _check_scope(place, scope)
    place = _lock(place)
    text = current_text(place.case.program, scope)
    if text is None or text.sha256 != text_sha256:
        raise Conflict(
            _("The wording of this consent has just changed. Please read it again before you agree.")
        )
    if (
        Consent.objects.select_for_update()
        .filter(participant=place, scope=scope, withdrawn_at__isnull=True)
        .exists()
    ):
        raise Conflict(_("You have already given this consent."))
    consent = Consent.objects.create(
        participant=place, scope=scope, text=text, text_sha256=text.sha256, given_at=timezone.now()
    )
    audit.record(
        actor=actor,
        code=AuditCode.CONSENT_GIVEN,
        target=consent,
        case=place.case,
        data={"scope": scope, "version": text.version},
    )
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User, place: Participant, scope: str) -> Consent:
    """One action, no reason asked, effective at once. Withdrawing from taking part pauses the process."""
    if place.user_id != actor.pk:
        raise DomainError(_("Only the person themselves can withdraw their consent."))
    _check_scope(place, scope)
    place = _lock(place)
    consent = (
        Consent.objects.select_for_update()
        .filter(participant=place, scope=scope, withdrawn_at__isnull=True)
        .first()
    )
    if consent is None:
        raise Conflict(_("This consent is already withdrawn. Nothing more is needed."))
    consent.withdrawn_at = timezone.now()
    consent.save(update_fields=["withdrawn_at"])
    audit.record(
        actor=actor, code=AuditCode.CONSENT_WITHDRAWN, target=consent, case=place.case, data={"scope": scope}
    )
    if scope == Scope.TAKE_PART:
        for step in hooks.took_part_withdrawn:
            step(actor=actor, place=place)
        if place.role in PARTY_ROLES:
            _pause_process(actor=actor, place=place)
        else:
            # A supporter or community member stepping back does not stop the parties' process.
            notices.stepped_back(case=place.case, who=place)
    # Meetings that needed this consent cannot happen now, nor can an encounter that needed it.
    _recheck(actor=actor, case=place.case)
    return consent


def _recheck(*, actor: User, case) -> None:
    case_services.case_recheck(actor=actor, case=case)


def _pause_process(*, actor: User, place: Participant) -> None:
    case = Case.objects.select_related("program").get(pk=place.case_id)  # locked by _lock already
    if case.stage in workflow.ACTIVE_STAGES:
        case_services.case_transition(actor=actor, case=case, action="pause")
    notices.process_paused(case=case, because_of=place)


@transaction.atomic
def participant_pause(*, actor: User, place: Participant) -> Participant:
    """ "I need a break": scheduled contact stops until the person says they are ready again."""
    if place.user_id != actor.pk or place.role not in (Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY):
        raise DomainError(_("Only a party can take a break for themselves."))
    place = _lock(place)
    if place.paused_at is not None:
        raise Conflict(_("You are already taking a break. Take all the time you need."))
    place.paused_at = timezone.now()
    place.save(update_fields=["paused_at"])
    audit.record(actor=actor, code=AuditCode.PARTICIPANT_PAUSED, target=place, case=place.case)
    for step in hooks.break_taken:
        step(actor=actor, place=place)
    _pause_process(actor=actor, place=place)
    return place


@transaction.atomic
def participant_resume(*, actor: User, place: Participant) -> Participant:
    if place.user_id != actor.pk:
        raise DomainError(_("Only the person who took the break can end it."))
    place = _lock(place)
    if place.paused_at is None:
        raise Conflict(_("You are not on a break."))
    place.paused_at = None
    place.save(update_fields=["paused_at"])
    audit.record(actor=actor, code=AuditCode.PARTICIPANT_RESUMED, target=place, case=place.case)
    notices.ready_to_continue(case=place.case, who=place)
    return place


@transaction.atomic
def choices_update(
    *,
    actor: User,
    place: Participant,
    mode: str,
    supporters_may_attend: bool,
    community_may_attend: bool,
    progress_updates: str,
    progress_every_weeks: int | None = None,
) -> HarmedPartyChoices:
    """The person harmed decides; a change applies at once. The other side learns only what they need."""
    if place.user_id != actor.pk or place.role != Role.HARMED_PARTY:
        raise DomainError(_("Only the person harmed can make these choices."))
    if mode not in Mode.values:
        raise DomainError(_("Choose how you want to take part."), field="mode")
    if progress_updates not in ProgressUpdates.values:
        raise DomainError(_("Choose how you want to hear about progress."), field="progress_updates")
    if progress_updates == ProgressUpdates.EVERY_N_WEEKS:
        if not progress_every_weeks or not 1 <= progress_every_weeks <= 52:
            raise DomainError(_("Choose every how many weeks, from 1 to 52."), field="progress_every_weeks")
    else:
        progress_every_weeks = None
    place = _lock(place)
    choices, _created = HarmedPartyChoices.objects.select_for_update().get_or_create(participant=place)
    mode_changed = choices.mode != mode
    choices.mode = mode
    choices.supporters_may_attend = supporters_may_attend
    choices.community_may_attend = community_may_attend
    choices.progress_updates = progress_updates
    choices.progress_every_weeks = progress_every_weeks
    choices.save()
    audit.record(
        actor=actor,
        code=AuditCode.CHOICES_UPDATED,
        target=choices,
        case=place.case,
        data={"mode": mode, "progress_updates": progress_updates},
    )
    # Who may attend may have narrowed: meetings that no longer fit the choices are cancelled.
    _recheck(actor=actor, case=place.case)
    # Progress updates already waiting follow the new choice at once.
    for step in hooks.choices_changed:
        step(place=place)
    if mode_changed:
        notices.mode_chosen(case=place.case, mode=mode)
    return choices
