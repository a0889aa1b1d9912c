"""Every change to a case, its stage, its people and their invitations happens here."""

import functools
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts import credentials
from mend.accounts import services as account_services
from mend.accounts.keys import check_auth_key, key_bundle_create
from mend.accounts.models import Invitation, Membership, Program, User
from mend.audit.codes import AuditCode
from mend.cases import hooks, notices, workflow
from mend.cases.access import facilitates_case, manages_case
from mend.cases.models import (
    FACILITATING_ROLES,
    AssignmentRequest,
    Case,
    ClosureReason,
    HarmCategory,
    Participant,
    ReferralSource,
    Role,
)
from mend.core import i18n, ids, validators
from mend.core.errors import Conflict, DomainError
from mend.core.realtime import case_group, publish_after_commit

MAX_TEXT = 5000
PSEUDONYM_MAX = 40


_text = functools.partial(validators.text, max_length=MAX_TEXT)


def _pseudonym(value: str) -> str:
    value = " ".join((value or "").split())
    if len(value) < 2:
        raise DomainError(
            _("Choose a name of at least 2 letters. It does not need to be your real name."),
            field="pseudonym",
        )
    if len(value) > PSEUDONYM_MAX:
        raise DomainError(
            _("Choose a name of at most %(n)d characters.") % {"n": PSEUDONYM_MAX}, field="pseudonym"
        )
    if "@" in value or any(ch.isdigit() for ch in value[:1]):
        raise DomainError(_("Choose a name that is not an email address or a number."), field="pseudonym")
    return value


def _staff_member(program: Program, user: User, roles: set[str]) -> Membership:
    membership = Membership.objects.filter(program=program, user=user, role__in=roles).first()
    if membership is None:
        raise DomainError(_("That person is not a facilitator in this program."), field="facilitator")
    return membership


@transaction.atomic
def case_create(
    *,
    actor: User,
    program: Program,
    harm_category: str,
    jurisdictions: list[str],
    referral_source: str,
    referral_details: str = "",
    intake_notes: str = "",
    facilitator: User | None = None,
) -> Case:
    if harm_category not in HarmCategory.values:
        raise DomainError(_("Choose the kind of harm from the list."), field="harm_category")
    if referral_source not in ReferralSource.values:
        raise DomainError(_("Choose where the referral came from."), field="referral_source")
    referral_details = _text(referral_details, "referral details")
    intake_notes = _text(intake_notes, "intake notes")
    case = Case(
        program=program,
        harm_category=harm_category,
        jurisdictions=validators.jurisdictions(jurisdictions),
        referral_source=referral_source,
    )
    for _attempt in range(5):
        case.reference = ids.reference_code("C")
        try:
            with transaction.atomic():
                case.save()
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - 31^8 codes make five collisions in a row practically impossible
        raise Conflict(_("Please try again."))
    if referral_details or intake_notes:
        # Sealed with the case's own data key (mend.core.at_rest), so written once the case has its id.
        case.referral_details, case.intake_notes = referral_details, intake_notes
        case.save(update_fields=["referral_details", "intake_notes"])
    audit.record(
        actor=actor,
        code=AuditCode.CASE_CREATED,
        target=case,
        case=case,
        data={"harm_category": harm_category, "referral_source": referral_source},
    )
    if facilitator is not None:
        # A new case has nobody in it yet: whoever opens it may take it on themselves at once.
        _facilitator_place_add(actor=actor, case=case, user=facilitator, role=Role.FACILITATOR)
    return case


class NeedsApproval(DomainError):
    """Staff assigning themselves to a case: a colleague must approve it (assignment_request_create)."""


def _check_assignable(*, case: Case, user: User, role: str) -> None:
    if role not in FACILITATING_ROLES:
        raise DomainError(_("Choose facilitator or co-facilitator."), field="role")
    if not user.is_active:
        raise DomainError(_("That person's account is closed."), field="facilitator")
    _staff_member(
        case.program, user, {Membership.Role.FACILITATOR, Membership.Role.COORDINATOR, Membership.Role.ADMIN}
    )
    if case.participants.filter(user=user, removed_at__isnull=True).exists():
        raise Conflict(_("%(name)s is already part of this case.") % {"name": user.display_name})
    if hooks.conflict_declared.ask(case, user):
        raise Conflict(
            _("%(name)s has declared a conflict of interest in this case, so they cannot facilitate it.")
            % {"name": user.display_name}
        )


@transaction.atomic
def facilitator_assign(
    *, actor: User, case: Case, user: User, role: str = Role.FACILITATOR, pseudonym: str = ""
) -> Participant:
    """Assigns someone else. Assigning oneself to an existing case needs a colleague's approval: whoever
    oversees a program could otherwise join any case's conversations unseen (assignment_request_create)."""
    if user.pk == actor.pk:
        raise NeedsApproval(
            _("Joining a case's team yourself needs a colleague's approval. Ask for it on the case page.")
        )
    return _facilitator_place_add(actor=actor, case=case, user=user, role=role, pseudonym=pseudonym)


def _facilitator_place_add(
    *, actor: User, case: Case, user: User, role: str, pseudonym: str = ""
) -> Participant:
    _check_assignable(case=case, user=user, role=role)
    now = timezone.now()
    place = Participant.objects.create(
        case=case,
        user=user,
        role=role,
        pseudonym=_pseudonym(pseudonym or user.display_name),
        time_zone=user.time_zone,
        joined_at=now,
    )
    audit.record(
        actor=actor, code=AuditCode.CASE_FACILITATOR_ASSIGNED, target=place, case=case, data={"role": role}
    )
    case_recheck(actor=actor, case=case)
    return place


@transaction.atomic
def facilitator_unassign(*, actor: User, place: Participant, reason: str) -> Participant:
    """Ends a staff member's place as facilitator (they left the program, or their account was closed):
    they leave its open meetings at once, and the case is checked again, as after any change of team."""
    place = Participant.objects.select_for_update(of=("self",)).select_related("case").get(pk=place.pk)
    if place.removed_at is not None or place.role not in FACILITATING_ROLES:
        return place
    place.removed_at = timezone.now()
    place.save(update_fields=["removed_at"])
    audit.record(
        actor=actor,
        code=AuditCode.CASE_FACILITATOR_UNASSIGNED,
        target=place,
        case=place.case,
        data={"role": place.role, "reason": reason},
    )
    for leave in hooks.place_left:
        leave(place=place)
    case_recheck(actor=actor, case=place.case)
    return place


@transaction.atomic
def case_transition(
    *, actor: User, case: Case, action: str, closure_reason: str = "", send_closing_message: bool = False
) -> Case:
    """The only way a case changes stage: lock, check the table and its guards, save, audit, publish.
    Closing needs a reason; the person harmed may be sent a short, neutral closing message."""
    if action == "close" and closure_reason not in ClosureReason.values:
        raise DomainError(_("Choose why the case is closing."), field="closure_reason")
    case = Case.objects.select_for_update().select_related("program").get(pk=case.pk)
    try:
        transition = workflow.transition_for(case.stage, action)
        target = workflow.target_of(transition, paused_from=case.paused_from)
    except workflow.NotAllowed:
        raise Conflict(
            _("This case is at the %(stage)s stage, where that step is not possible.")
            % {"stage": case.get_stage_display().lower()}
        ) from None
    guard_names = transition.guards
    if target == workflow.ENCOUNTER and "encounter_ready" not in guard_names:
        guard_names = (*guard_names, "encounter_ready")  # resuming into an encounter needs it all again
    missing = hooks.guards_missing.ask(case, guard_names)
    if missing:
        raise Conflict(_("Waiting for: %(items)s.") % {"items": "; ".join(missing)})
    source = case.stage
    case.paused_from = source if target == workflow.PAUSED else ""
    case.stage = target
    case.closure_reason = closure_reason if target == workflow.CLOSED else ""
    case.save(update_fields=["stage", "paused_from", "closure_reason", "updated_at"])
    data = {"action": action, "from": source, "to": target}
    if target == workflow.CLOSED:
        data["reason"] = closure_reason
    audit.record(actor=actor, code=AuditCode.CASE_STAGE_CHANGED, target=case, case=case, data=data)
    if target == workflow.PAUSED:
        for step in hooks.case_paused:
            step(actor=actor, case=case)
    if target == workflow.CLOSED:
        for step in hooks.case_closing:
            step(actor=actor, case=case)
        if send_closing_message:
            notices.case_closed(case=case)
        # Someone asked for their information to be deleted while the case went on: now it has closed,
        # its records are destroyed (docs/data-rights.md).
        for step in hooks.case_closed:
            step(actor=actor, case=case)
    publish_after_commit(group=case_group(case.pk), event={"event": "stage_changed", "stage": target})
    return case


# What pauses an encounter of its own accord: no facilitator left, or nobody left on one side. One person's
# narrower consent stops only what involves them (their meetings, their conversations), not the case.
ENCOUNTER_HOLDS = ("facilitator_assigned", "each_side_taking_part")


def case_recheck(*, actor: User, case: Case) -> Case:
    """After any change to consent, choices, preparation records or assignments: meetings that no longer
    meet their guards are cancelled, and an encounter pauses at once when it has no facilitator or nobody
    left on one side (ENCOUNTER_HOLDS)."""
    case = Case.objects.select_for_update().select_related("program").get(pk=case.pk)
    for step in hooks.case_rechecked:
        step(actor=actor, case=case)
    if case.stage == workflow.ENCOUNTER and hooks.guards_missing.ask(case, ENCOUNTER_HOLDS):
        return case_transition(actor=actor, case=case, action="pause")
    return case


INVITABLE_ROLES = [r for r in Role.values if r not in FACILITATING_ROLES]


def _party_of(case: Case, place: Participant) -> bool:
    """Whether `place` is a party (harmed or responsible) of `case`: whom a supporter or interpreter helps."""
    return place.case_id == case.pk and place.role in {Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY}


@transaction.atomic
def participant_invite(
    *,
    actor: User,
    case: Case,
    role: str,
    supports: Participant | None = None,
    expires_in_days: int | None = None,
) -> tuple[Invitation, str]:
    """A place in the case and a one-time link to take it up; the raw link is returned once, never stored."""
    if role not in INVITABLE_ROLES:
        raise DomainError(_("Choose who you are inviting from the list."), field="role")
    if case.stage == workflow.CLOSED:
        raise Conflict(_("This case is closed. Reopen it before inviting anyone."))
    # A supporter is there for one party; an interpreter may be attached to one from the start.
    if role == Role.SUPPORTER or (role == Role.INTERPRETER and supports is not None):
        if supports is None or not _party_of(case, supports):
            raise DomainError(_("Choose which party this supporter is there for."), field="supports")
    else:
        supports = None
    days = expires_in_days or settings.MEND_INVITATION_DAYS
    if not 1 <= days <= 30:
        raise DomainError(_("A link can stay open for 1 to 30 days."), field="expires_in_days")
    place = Participant.objects.create(case=case, role=role, supports=supports)
    raw = ids.token()
    invitation = Invitation.objects.create(
        participant=place,
        digest=ids.token_digest(raw),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit.record(
        actor=actor, code=AuditCode.PARTICIPANT_INVITED, target=place, case=case, data={"role": role}
    )
    if role == Role.INTERPRETER and supports is not None:
        for step in hooks.interpreter_changed:
            step(actor=actor, party=supports)
    return invitation, raw


@transaction.atomic
def interpreter_attach(*, actor: User, interpreter: Participant, party: Participant | None) -> Participant:
    """Staff who run the case attach an interpreter to one party (`supports`, as for a supporter), or to
    nobody. The interpreter takes part in that party's conversations and meetings only once the party has
    given the interpreter consent (mend.dialogue.rules.interpreting); a change is checked again at once, so
    an interpreter no longer attached leaves them (case_recheck)."""
    case = interpreter.case
    if not manages_case(actor, case.pk):
        raise DomainError(_("Only staff who run this case can do this."))
    if interpreter.role != Role.INTERPRETER or interpreter.removed_at is not None:
        raise DomainError(_("Choose an interpreter in this case."))
    if party is not None and (not _party_of(case, party) or party.removed_at is not None):
        raise DomainError(_("Choose which party the interpreter helps."), field="party")
    # The same order as a change of consent: the case, then the person.
    Case.objects.select_for_update().filter(pk=case.pk).first()
    interpreter = Participant.objects.select_for_update().get(pk=interpreter.pk)
    before = interpreter.supports_id
    if before == (party.pk if party else None):
        return interpreter
    interpreter.supports = party
    interpreter.save(update_fields=["supports"])
    if party is not None:
        for step in hooks.interpreter_changed:
            step(actor=actor, party=party)
    if before is not None:
        audit.record(actor=actor, code=AuditCode.INTERPRETER_DETACHED, target=interpreter, case=case)
    if party is not None:
        audit.record(
            actor=actor,
            code=AuditCode.INTERPRETER_ATTACHED,
            target=interpreter,
            case=case,
            data={"role": party.role},
        )
    case_recheck(actor=actor, case=case)
    return interpreter


@transaction.atomic
def participant_settings_update(
    *, actor: User, place: Participant, time_zone: str, preferred_language: str
) -> Participant:
    """A facilitator of the case changes a person's time zone and language in this case (dates and the
    words of their pages and notices follow them). Their account's own settings stay theirs."""
    if not facilitates_case(actor, place.case_id):
        raise DomainError(_("Only a facilitator of this case can do this."))
    if place.role in FACILITATING_ROLES or place.removed_at is not None:
        raise DomainError(_("Choose a person taking part in this case."))
    time_zone = validators.time_zone((time_zone or "").strip())
    preferred_language = validators.language((preferred_language or "").strip())
    place = Participant.objects.select_for_update(of=("self",)).select_related("case").get(pk=place.pk)
    if (place.time_zone, place.preferred_language) == (time_zone, preferred_language):
        return place
    changed = [
        name
        for name, value in (("time_zone", time_zone), ("preferred_language", preferred_language))
        if getattr(place, name) != value
    ]
    place.time_zone = time_zone
    place.preferred_language = preferred_language
    place.save(update_fields=changed)
    audit.record(
        actor=actor,
        code=AuditCode.PARTICIPANT_SETTINGS_CHANGED,
        target=place,
        case=place.case,
        data={"role": place.role, "changed": changed},
    )
    return place


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update().select_related("participant__case").get(pk=invitation.pk)
    )
    if invitation.used_at is not None:
        raise Conflict(_("This link has already been used, so it cannot be withdrawn."))
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        case = invitation.participant.case
        audit.record(actor=actor, code=AuditCode.INVITATION_REVOKED, target=invitation, case=case)
    return invitation


LINK_UNUSABLE = "This link cannot be used any more. Links work once and for a short time. Your facilitator can send you a new one."  # noqa: E501


def invitation_open(raw_token: str) -> Invitation:
    """The invitation behind a link, if it can still be used. Every other case gets the same answer."""
    invitation = (
        Invitation.objects.select_related("participant__case__program")
        .filter(digest=ids.token_digest(raw_token or ""))
        .first()
    )
    if invitation is None or invitation.state(timezone.now()) != "open":
        raise Conflict(_(LINK_UNUSABLE))
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    raw_token: str,
    pseudonym: str,
    preferred_language: str = "en",
    page_language: str | None = None,
    time_zone: str = "UTC",
    accessibility_needs: str = "",
    contact_method: str = "",
    sign_in_name: str,
    auth_key: str,
    keys: dict,
) -> User:
    """Takes up the place: makes the person's account with the sign-in key and the keys their browser made
    (the phrase and the recovery code never leave it)."""
    found = invitation_open(raw_token)
    invitation = Invitation.objects.select_for_update().get(pk=found.pk)
    if invitation.state(timezone.now()) != "open":
        raise Conflict(_(LINK_UNUSABLE))
    place = (
        Participant.objects.select_for_update()
        .select_related("case__program")
        .get(pk=invitation.participant_id)
    )
    pseudonym = _pseudonym(pseudonym)
    if place.case.participants.filter(pseudonym__iexact=pseudonym, removed_at__isnull=True).exists():
        raise Conflict(
            _("Someone in this case already uses that name. Please choose another."), field="pseudonym"
        )
    if not credentials.is_sign_in_name(sign_in_name) or User.objects.filter(username=sign_in_name).exists():
        raise Conflict(_("This page has expired. Reload it and join again."))
    user = User(
        username=sign_in_name,
        kind=User.Kind.PARTICIPANT,
        display_name=pseudonym,
        time_zone=validators.time_zone(time_zone),
        # The language Mend's pages are in for them: the one they prefer when Mend is written in it, else
        # the one the join page was in (what they were reading), else the program's. The language they
        # prefer stays on their place for an interpreter (mend.core.i18n; docs/languages.md).
        language=(
            i18n.supported(validators.language(preferred_language))
            or i18n.supported(page_language)
            or i18n.language_of(None, fallback=place.case.program.default_language)
        ),
    )
    user.set_password(check_auth_key(auth_key))
    user.save()
    fields = ("enc_public", "sign_public", "wrapped", "recovery_wrapped", "recovery_auth")
    if not isinstance(keys, dict) or set(keys) != set(fields):
        raise DomainError(
            _("The keys are not in the form Mend's page makes. Reload the page and join again.")
        )
    key_bundle_create(actor=user, **{name: keys[name] for name in fields})
    now = timezone.now()
    place.user = user
    place.pseudonym = pseudonym
    place.preferred_language = validators.language(preferred_language)
    place.time_zone = user.time_zone
    place.accessibility_needs = _text(accessibility_needs, "accessibility needs", max_length=1000)
    place.contact_method = _text(contact_method, "contact method", max_length=200)
    place.joined_at = now
    place.save()
    invitation.used_at = now
    invitation.save(update_fields=["used_at"])
    audit.record(
        actor=user,
        code=AuditCode.PARTICIPANT_JOINED,
        target=place,
        case=place.case,
        data={"role": place.role},
    )
    publish_after_commit(group=case_group(place.case_id), event={"event": "participant_joined"})
    return user


@transaction.atomic
def assignment_request_create(*, actor: User, case: Case, role: str = Role.FACILITATOR) -> AssignmentRequest:
    """Asks to join the case's team oneself; another staff member who runs the case decides."""
    _check_assignable(case=case, user=actor, role=role)
    try:
        with transaction.atomic():
            request = AssignmentRequest.objects.create(case=case, requested_by=actor, role=role)
    except IntegrityError:
        raise Conflict(_("You have already asked to join this case. A colleague will decide.")) from None
    audit.record(
        actor=actor, code=AuditCode.CASE_ASSIGNMENT_REQUESTED, target=request, case=case, data={"role": role}
    )
    return request


@transaction.atomic
def assignment_request_decide(*, actor: User, request: AssignmentRequest, approve: bool) -> AssignmentRequest:
    """Approves or declines someone's request to join a case's team. Only another staff member who runs the
    case approves; the person who asked may withdraw it. Once approved they join, and everyone taking part
    in the case is told who joined."""
    request = (
        AssignmentRequest.objects.select_for_update(of=("self",))
        .select_related("case__program", "requested_by")
        .get(pk=request.pk)
    )
    if request.outcome != AssignmentRequest.Outcome.PENDING:
        raise Conflict(_("This request has already been decided."))
    own = request.requested_by_id == actor.pk
    if not manages_case(actor, request.case_id):
        raise DomainError(_("Only staff who run this case can decide this."))
    if own and approve:
        raise DomainError(_("A colleague must approve this, not the person who asked."))
    Outcome = AssignmentRequest.Outcome
    request.outcome = Outcome.APPROVED if approve else (Outcome.WITHDRAWN if own else Outcome.DECLINED)
    request.decided_by, request.decided_at = actor, timezone.now()
    request.save(update_fields=["outcome", "decided_by", "decided_at"])
    case = request.case
    audit.record(
        actor=actor,
        code={
            Outcome.APPROVED: AuditCode.CASE_ASSIGNMENT_APPROVED,
            Outcome.DECLINED: AuditCode.CASE_ASSIGNMENT_DECLINED,
            Outcome.WITHDRAWN: AuditCode.CASE_ASSIGNMENT_WITHDRAWN,
        }[request.outcome],
        target=request,
        case=case,
        data={"role": request.role, "requested_by": request.requested_by_id},
    )
    if approve:
        place = _facilitator_place_add(actor=actor, case=case, user=request.requested_by, role=request.role)
        notices.team_joined(case=case, place=place)
    return request


@transaction.atomic
def participant_contact_method_set(*, actor: User, place: Participant, contact_method: str) -> Participant:
    """The person themselves changes how they are told of new messages in one case (their settings page).
    What they typed is sealed like at joining; no audit event, as at joining (it is content)."""
    if place.user_id != actor.pk or place.removed_at is not None or place.role in FACILITATING_ROLES:
        raise DomainError(_("Only the person themselves can change how they are told of new messages."))
    value = _text(contact_method, "contact method", max_length=200)
    place = Participant.objects.select_for_update(of=("self",)).get(pk=place.pk)
    if str(place.contact_method or "") != value:
        place.contact_method = value
        place.save(update_fields=["contact_method"])
    return place


@transaction.atomic
def person_time_zone_set(*, actor: User, time_zone: str) -> User:
    """A person changes their own time zone (their settings page): their account, and their places in cases
    with it, so that meetings, invitations and notices show their clock (mend.meetings.access reads the
    place's zone first). A facilitator may still set one place's zone (participant_settings_update)."""
    user = account_services.user_time_zone_set(user=actor, time_zone=time_zone)
    Participant.objects.filter(user=user, removed_at__isnull=True).exclude(time_zone=user.time_zone).update(
        time_zone=user.time_zone
    )
    return user
