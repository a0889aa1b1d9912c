"""Giving and withdrawing consent, the harmed party's choices, and a party's pause: one action each."""

import hashlib

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import Program, User
from mend.audit.codes import AuditCode
from mend.cases import hooks as case_hooks
from mend.cases import notices, workflow
from mend.cases import services as case_services
from mend.cases.access import facilitates_case
from mend.cases.models import PARTY_ROLES, Case, Participant, Role
from mend.consent import hooks, interpreting
from mend.consent.models import Consent, ConsentText, HarmedPartyChoices, Mode, ProgressUpdates, Scope
from mend.consent.selectors import (
    current_texts,
    language_of_place,
    reads_current,
    text_to_read,
    withdrawn_ids,
)
from mend.consent.texts import DEFAULT_TEXTS
from mend.core import i18n
from mend.core.errors import Conflict, DomainError

# Which scopes each role is asked about; others do not apply to them.
SCOPES_FOR_ROLE = {
    Role.HARMED_PARTY: [s for s in Scope.values if s != Scope.INTERPRETER],
    Role.RESPONSIBLE_PARTY: [s for s in Scope.values if s not in (Scope.PROGRESS_UPDATES, Scope.INTERPRETER)],
    Role.SUPPORTER: [Scope.TAKE_PART, Scope.FACILITATOR_CONTACT, Scope.DATA_PROCESSING],
    Role.COMMUNITY_MEMBER: [Scope.TAKE_PART, Scope.FACILITATOR_CONTACT, Scope.DATA_PROCESSING],
    Role.INTERPRETER: [Scope.TAKE_PART, Scope.DATA_PROCESSING],
}


def scopes_for(place: Participant) -> list[str]:
    """The scopes this person is asked about: their role's, and the interpreter consent for a party only
    while an interpreter is attached to them or they have given it (mend.consent.interpreting)."""
    scopes = list(SCOPES_FOR_ROLE.get(place.role, []))
    return scopes + [Scope.INTERPRETER] if interpreting.interpreter_asked(place) else scopes


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _default_in(language: str, msgid: str) -> str | None:
    """Mend's default wording of a scope in `language`, or None while that language's catalogue has no
    translation of it (a text in English must not be recorded as another language's: the person then
    reads the fallback, and is told so)."""
    with translation.override(language):
        text = translation.gettext(msgid)
    return text if text != msgid or language == settings.LANGUAGE_CODE else None


@transaction.atomic
def consent_texts_seed(*, actor: User | None, program: Program) -> None:
    """Every new program starts with Mend's default wording, as version 1 of each scope in each interface
    language its catalogue translates. Running it again adds only what is missing."""
    have = set(ConsentText.objects.filter(program=program).values_list("scope", "language").distinct())
    for language, _name in settings.LANGUAGES:
        for scope, msgid in DEFAULT_TEXTS.items():
            text = _default_in(language, msgid)
            if text is None or (scope, language) in have:
                continue
            ConsentText.objects.create(
                program=program,
                scope=scope,
                language=language,
                version=1,
                text=text,
                sha256=_sha256(text),
                created_by=actor,
            )


@transaction.atomic
def consent_text_update(
    *, actor: User, program: Program, scope: str, text: str, language: str
) -> ConsentText:
    """A new version of one scope's wording in one language; each language's versions count on their own."""
    if scope not in Scope.values:
        raise DomainError(_("Choose a consent scope from the list."), field="scope")
    language = i18n.chosen(language)
    text = (text or "").strip()
    if not 20 <= len(text) <= 2000:
        raise DomainError(_("Write the consent text in 20 to 2000 characters."), field="text")
    Program.objects.select_for_update().filter(pk=program.pk).first()  # one version number at a time
    latest = current_texts(program, language).get(scope)
    if latest is not None and latest.text == text:
        return latest
    new = ConsentText.objects.create(
        program=program,
        scope=scope,
        language=language,
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
        data={"scope": scope, "language": language, "version": new.version},
    )
    return new


def _lock(place: Participant) -> Participant:
    """Every change that starts or stops contact locks the case first, then the person, in that order,
    so that a session scheduled at the same moment sees the change or waits for it."""
    Case.objects.select_for_update().filter(pk=place.case_id).first()
    locked = Participant.objects.select_for_update().select_related("case__program").get(pk=place.pk)
    return locked


def _check_scope(place: Participant, scope: str) -> None:
    if scope not in scopes_for(place):
        raise DomainError(_("That kind of consent does not apply to your part in this case."), field="scope")


@transaction.atomic
def consent_give(*, actor: User, place: Participant, scope: str, text_sha256: str) -> Consent:
    """Records consent to the exact wording the person saw, in their language (or the fallback they were
    shown); if it changed meanwhile, they read it again. A consent given to wording that has since changed
    is given anew to the current wording (selectors.reads_current), the old one ending at the same moment.
    Consent to take part given again brings the person back onto their own path: someone staff marked as
    not in the process is readmitted (their take-part consent, if still current, is renewed), and the
    facilitators hear that they are ready to continue. A case that paused stays paused until staff resume
    it."""
    if place.user_id != actor.pk:
        raise DomainError(_("Only the person themselves can give their consent."))
    _check_scope(place, scope)
    place = _lock(place)
    to_read = text_to_read(place.case.program, scope, language_of_place(place))
    text = to_read.text if to_read else None
    if text is None or text.sha256 != text_sha256:
        raise Conflict(
            _("The wording of this consent has just changed. Please read it again before you agree.")
        )
    readmitted = scope == Scope.TAKE_PART and place.excluded_at is not None
    coming_back = readmitted or (scope == Scope.TAKE_PART and place.pk in withdrawn_ids([place]))
    current = (
        Consent.objects.select_for_update()
        .filter(participant=place, scope=scope, withdrawn_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if current is not None:
        if not readmitted and reads_current(current, text):
            raise Conflict(_("You have already given this consent."))
        # Coming back after staff marked them as not in the process, or agreeing to new wording: the
        # consent is given anew, now, and never lapses in between.
        current.withdrawn_at = now
        current.save(update_fields=["withdrawn_at"])
    consent = Consent.objects.create(
        participant=place,
        scope=scope,
        text=text,
        text_sha256=text.sha256,
        language=text.language,
        given_at=now,
    )
    data = {"scope": scope, "language": text.language, "version": text.version}
    if current is not None:
        data["renews"] = current.pk
    audit.record(actor=actor, code=AuditCode.CONSENT_GIVEN, target=consent, case=place.case, data=data)
    if readmitted:
        place.excluded_at = None
        place.exclusion_reason = ""
        place.save(update_fields=["excluded_at", "exclusion_reason"])
        audit.record(
            actor=actor,
            code=AuditCode.PARTICIPANT_READMITTED,
            target=place,
            case=place.case,
            data={"role": place.role},
        )
    if coming_back:
        notices.ready_to_continue(case=place.case, who=place)
    for step in hooks.consent_given:
        step(actor=actor, place=place)
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User, place: Participant, scope: str) -> Consent:
    """One action, no reason asked, effective at once. Withdrawing from taking part pauses that person's own
    path; the whole case pauses only when nobody is left on their side (_step_back)."""
    if place.user_id != actor.pk:
        raise DomainError(_("Only the person themselves can withdraw their consent."))
    _check_scope(place, scope)
    place = _lock(place)
    was_on_path = _on_path(place)
    consent = _withdraw_current(actor=actor, place=place, scope=scope, data={"scope": scope})
    if consent is None:
        raise Conflict(_("This consent is already withdrawn. Nothing more is needed."))
    if scope == Scope.TAKE_PART:
        for step in hooks.took_part_withdrawn:
            step(actor=actor, place=place)
        if place.role in PARTY_ROLES:
            _step_back(actor=actor, place=place, was_on_path=was_on_path)
        else:
            # A supporter or community member stepping back does not stop the parties' process.
            notices.stepped_back(case=place.case, who=place)
    # Meetings that needed this consent cannot happen now; an encounter pauses only when a side is empty.
    _recheck(actor=actor, case=place.case)
    return consent


def _recheck(*, actor: User, case) -> None:
    case_services.case_recheck(actor=actor, case=case)


def _on_path(place: Participant) -> bool:
    """Whether the person is on their own path now (not on a break, stopped or excluded): read before a
    change, so that a person already off their path is not announced a second time."""
    return place.paused_at is None and place.pk not in withdrawn_ids([place])


def _step_back(*, actor: User, place: Participant, was_on_path: bool = True) -> None:
    """A party stepped off their own path: they stopped, took a break, or staff marked them as not in the
    process. The whole case pauses only when nobody is left on one side (mend.readiness.rules.sides_missing,
    the resume guard each_side_taking_part); otherwise it goes on for the others, and they are told only
    that one person will not take part for now, never who or why."""
    case = Case.objects.select_related("program").get(pk=place.case_id)  # locked by _lock already
    if case.stage == workflow.CLOSED or not was_on_path:
        # Nothing goes on for the others to be told of, or they already were: the facilitators hear.
        notices.stepped_back(case=case, who=place)
    elif case_hooks.guards_missing.ask(case, ("each_side_taking_part",)):
        if case.stage in workflow.ACTIVE_STAGES:
            case_services.case_transition(actor=actor, case=case, action="pause")
        notices.process_paused(case=case, because_of=place)
    else:
        notices.one_not_taking_part(case=case, who=place)


@transaction.atomic
def participant_pause(*, actor: User, place: Participant) -> Participant:
    """ "I need a break": scheduled contact with this person stops until they say they are ready again."""
    if place.user_id != actor.pk or place.role not in (Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY):
        raise DomainError(_("Only a party can take a break for themselves."))
    place = _lock(place)
    if place.paused_at is not None:
        raise Conflict(_("You are already taking a break. Take all the time you need."))
    was_on_path = _on_path(place)
    place.paused_at = timezone.now()
    place.save(update_fields=["paused_at"])
    audit.record(actor=actor, code=AuditCode.PARTICIPANT_PAUSED, target=place, case=place.case)
    for step in hooks.break_taken:
        step(actor=actor, place=place)
    _step_back(actor=actor, place=place, was_on_path=was_on_path)
    return place


@transaction.atomic
def participant_resume(*, actor: User, place: Participant) -> Participant:
    """The end of a break: the person is back on their own path, and the facilitators hear it. A case that
    paused because nobody was left on a side stays paused until staff resume it."""
    if place.user_id != actor.pk:
        raise DomainError(_("Only the person who took the break can end it."))
    place = _lock(place)
    if place.paused_at is None:
        raise Conflict(_("You are not on a break."))
    place.paused_at = None
    place.save(update_fields=["paused_at"])
    audit.record(actor=actor, code=AuditCode.PARTICIPANT_RESUMED, target=place, case=place.case)
    if _on_path(place):  # not when they also stopped or were marked as not in the process
        notices.ready_to_continue(case=place.case, who=place)
    return place


EXCLUSION_REASON_MIN, EXCLUSION_REASON_MAX = 3, 500


@transaction.atomic
def participant_exclude(*, actor: User, place: Participant, reason: str) -> Participant:
    """A facilitator of the case marks a party as not in the process for now. The reason is kept sealed for
    staff only, never in the audit payload and never shown to anyone in the case. It stops what involves
    that person as a withdrawal does (took_part_withdrawn, then _step_back); they come back by giving their
    consent to take part again (consent_give)."""
    if not facilitates_case(actor, place.case_id):
        raise DomainError(_("Only a facilitator of this case can do this."))
    if place.role not in PARTY_ROLES:
        raise DomainError(_("Only a person harmed or a person responsible can be marked this way."))
    reason = " ".join((reason or "").split())
    if not EXCLUSION_REASON_MIN <= len(reason) <= EXCLUSION_REASON_MAX:
        raise DomainError(
            _("Write the reason in %(min)d to %(max)d characters. Only staff will see it.")
            % {"min": EXCLUSION_REASON_MIN, "max": EXCLUSION_REASON_MAX},
            field="reason",
        )
    place = _lock(place)
    if place.excluded_at is not None:
        raise Conflict(_("This person is already marked as not taking part for now."))
    was_on_path = _on_path(place)
    place.excluded_at = timezone.now()
    place.exclusion_reason = reason
    place.save(update_fields=["excluded_at", "exclusion_reason"])
    audit.record(
        actor=actor,
        code=AuditCode.PARTICIPANT_EXCLUDED,
        target=place,
        case=place.case,
        data={"role": place.role},
    )
    for step in hooks.took_part_withdrawn:
        step(actor=actor, place=place)
    _step_back(actor=actor, place=place, was_on_path=was_on_path)
    _recheck(actor=actor, case=place.case)
    return place


@transaction.atomic
def same_side_visibility_set(*, actor: User, place: Participant, seen: bool) -> Participant:
    """The person's own choice whether the others on their side (other people harmed, or other people
    responsible) may see their pseudonym. Two people on the same side see each other only when both agreed
    (mend.readiness.rules.visible_to). Off unless they turn it on."""
    if place.user_id != actor.pk or place.role not in PARTY_ROLES:
        raise DomainError(_("Only the person themselves can make this choice."))
    place = _lock(place)
    if place.seen_by_same_side == bool(seen):
        return place
    place.seen_by_same_side = bool(seen)
    place.save(update_fields=["seen_by_same_side"])
    audit.record(
        actor=actor,
        code=AuditCode.PARTICIPANT_VISIBILITY_CHANGED,
        target=place,
        case=place.case,
        data={"seen": place.seen_by_same_side},
    )
    # Who may be in a meeting or conversation together may have changed.
    _recheck(actor=actor, case=place.case)
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
    seen_by_same_side: bool | None = None,
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
    if seen_by_same_side is not None:
        same_side_visibility_set(actor=actor, place=place, seen=seen_by_same_side)
    return choices


@transaction.atomic
def interpreter_consent_end(*, actor: User, party: Participant) -> Consent | None:
    """Another interpreter was attached to this party (mend.cases.hooks.interpreter_changed). Their consent
    was to an interpreter they knew of, so it ends now: the new one reads nothing of theirs until the party
    agrees again (their consent page asks them). Audited as a withdrawal the staff member's change caused."""
    party = _lock(party)
    data = {"scope": Scope.INTERPRETER, "because": "another_interpreter"}
    return _withdraw_current(actor=actor, place=party, scope=Scope.INTERPRETER, data=data)


def _withdraw_current(*, actor: User, place: Participant, scope: str, data: dict) -> Consent | None:
    """The one way a current consent ends: its row (locked) gets `withdrawn_at`, and the audit log says so.
    None when there is no current consent for the scope."""
    consent = (
        Consent.objects.select_for_update()
        .filter(participant=place, scope=scope, withdrawn_at__isnull=True)
        .first()
    )
    if consent is None:
        return None
    consent.withdrawn_at = timezone.now()
    consent.save(update_fields=["withdrawn_at"])
    audit.record(actor=actor, code=AuditCode.CONSENT_WITHDRAWN, target=consent, case=place.case, data=data)
    return consent
