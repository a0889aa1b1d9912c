"""Writes of preparation records: assessments signed off, acknowledgments, safety plans, conflicts."""

import functools
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import Program, User
from mend.assessments.models import (
    Acknowledgment,
    Assessment,
    ConflictDeclaration,
    Outcome,
    QuestionSet,
    SafetyPlan,
)
from mend.assessments.questions import default_questions
from mend.assessments.selectors import latest_acknowledgment
from mend.audit.codes import AuditCode
from mend.cases.models import PARTY_ROLES, Case, Participant, Role
from mend.cases.services import case_recheck
from mend.core import validators
from mend.core.errors import Conflict, DomainError

MAX_ANSWER = 4000


_text = functools.partial(validators.text, max_length=MAX_ANSWER)


@transaction.atomic
def question_set_update(*, actor: User, program: Program, questions: list[dict]) -> QuestionSet:
    if not questions:
        raise DomainError(_("Keep at least one question."), field="questions")
    seen = set()
    cleaned = []
    for question in questions:
        qid = str(question.get("id", "")).strip()
        text = _text(str(question.get("text", "")), "question", required=True, max_length=300)
        section = str(question.get("section", "readiness"))
        if not qid.replace("_", "").isalnum() or qid in seen:
            raise DomainError(_("Each question needs its own short id, like motivation."), field="questions")
        if section not in ("readiness", "safety", "digital"):
            raise DomainError(_("A question's section is readiness, safety or digital."), field="questions")
        seen.add(qid)
        cleaned.append({"id": qid, "section": section, "text": text})
    Program.objects.select_for_update().filter(pk=program.pk).first()  # one version number at a time
    latest = QuestionSet.objects.filter(program=program).order_by("-version").first()
    question_set = QuestionSet.objects.create(
        program=program, version=(latest.version + 1 if latest else 1), questions=cleaned
    )
    audit.record(
        actor=actor,
        code=AuditCode.ASSESSMENT_QUESTIONS_CHANGED,
        target=question_set,
        program=program,
        data={"version": question_set.version},
    )
    return question_set


def _recheck(*, actor: User, case: Case) -> None:
    case_recheck(actor=actor, case=case)


def _question_set_for(case: Case) -> QuestionSet:
    latest = QuestionSet.objects.filter(program=case.program).order_by("-version").first()
    if latest is not None:
        return latest
    # The first set holds every default question; each case is asked the ones that fit its kind of harm.
    Program.objects.select_for_update().filter(pk=case.program_id).first()
    latest = QuestionSet.objects.filter(program=case.program).order_by("-version").first()
    if latest is not None:
        return latest
    return QuestionSet.objects.create(
        program=case.program, version=1, questions=default_questions(cybercrime=True)
    )


@transaction.atomic
def assessment_sign_off(
    *,
    actor: User,
    place: Participant,
    answers: dict[str, str],
    outcome: str,
    reassess_on: date | None = None,
) -> Assessment:
    """A facilitator records the readiness and safety assessment of a party and signs it off."""
    if place.role not in PARTY_ROLES or not place.has_joined:
        raise DomainError(_("Assessments are for the parties who have joined the case."))
    if outcome not in Outcome.values:
        raise DomainError(_("Choose ready, not yet, or not suitable."), field="outcome")
    if outcome == Outcome.NOT_YET and reassess_on is None:
        raise DomainError(_("Choose a date to assess again."), field="reassess_on")
    if reassess_on is not None and reassess_on <= timezone.localdate():
        raise DomainError(_("The date to assess again must be in the future."), field="reassess_on")
    question_set = _question_set_for(place.case)
    known = {
        q["id"] for q in question_set.questions if place.case.is_cybercrime or q.get("section") != "digital"
    }
    unknown = set(answers) - known
    if unknown:
        raise DomainError(
            _("These are not questions of this assessment: %(ids)s.") % {"ids": ", ".join(sorted(unknown))}
        )
    cleaned = {qid: _text(text, "answer", required=False) for qid, text in answers.items()}
    if outcome == Outcome.READY and not any(cleaned.values()):
        raise DomainError(_("Write down at least one answer before signing off as ready."), field="answers")
    assessment = Assessment.objects.create(
        participant=place,
        question_set=question_set,
        answers=cleaned,
        outcome=outcome,
        reassess_on=reassess_on,
        signed_off_by=actor,
        signed_off_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        code=AuditCode.ASSESSMENT_SIGNED_OFF,
        target=assessment,
        case=place.case,
        data={"outcome": outcome, "role": place.role},
    )
    _recheck(actor=actor, case=place.case)
    return assessment


@transaction.atomic
def acknowledgment_submit(*, actor: User, place: Participant, text: str) -> Acknowledgment:
    """The person responsible puts the harm in their own words; a facilitator then confirms it."""
    if place.user_id != actor.pk or place.role != Role.RESPONSIBLE_PARTY:
        raise DomainError(_("Only the person responsible can write their acknowledgment."))
    text = _text(text, "acknowledgment", required=True)
    if len(text) < 30:
        raise DomainError(
            _("Please say a little more, in your own words (at least 30 characters)."), field="acknowledgment"
        )
    acknowledgment = Acknowledgment.objects.create(participant=place, text=text, submitted_at=timezone.now())
    audit.record(actor=actor, code=AuditCode.ACKNOWLEDGMENT_SUBMITTED, target=acknowledgment, case=place.case)
    # A new text replaces the confirmed one until a facilitator has read it.
    _recheck(actor=actor, case=place.case)
    return acknowledgment


@transaction.atomic
def acknowledgment_confirm(*, actor: User, place: Participant) -> Acknowledgment:
    latest = latest_acknowledgment(place)
    if latest is None:
        raise Conflict(_("%(name)s has not written an acknowledgment yet.") % {"name": place.pseudonym})
    latest = Acknowledgment.objects.select_for_update().get(pk=latest.pk)
    if latest.confirmed_at is not None:
        raise Conflict(_("This acknowledgment is already confirmed."))
    latest.confirmed_by, latest.confirmed_at = actor, timezone.now()
    latest.save(update_fields=["confirmed_by", "confirmed_at"])
    audit.record(actor=actor, code=AuditCode.ACKNOWLEDGMENT_CONFIRMED, target=latest, case=place.case)
    return latest


@transaction.atomic
def safety_plan_save(
    *, actor: User, place: Participant, risks: str, measures: str, emergency_contacts: str = ""
) -> SafetyPlan:
    if not place.has_joined or place.role not in PARTY_ROLES:
        raise DomainError(_("Safety plans are for the parties who have joined the case."))
    values = {
        "risks": _text(risks, "risks", required=True),
        "measures": _text(measures, "measures", required=True),
        "emergency_contacts": _text(
            emergency_contacts, "emergency contacts", required=False, max_length=1000
        ),
    }
    plan, created = SafetyPlan.objects.select_for_update().get_or_create(
        participant=place, defaults={**values, "updated_by": actor}
    )
    if not created:
        for field, value in values.items():
            setattr(plan, field, value)
        plan.updated_by = actor
        plan.save()
    audit.record(
        actor=actor, code=AuditCode.SAFETY_PLAN_SAVED, target=plan, case=place.case, data={"created": created}
    )
    return plan


@transaction.atomic
def conflict_declare(
    *, actor: User, case: Case, has_conflict: bool, details: str = ""
) -> ConflictDeclaration:
    """A facilitator's own declaration for a case. A conflict ends their assignment and blocks a new one."""
    details = _text(details, "details", required=False, max_length=1000)
    if has_conflict and not details:
        raise DomainError(
            _("Say briefly what the conflict is, so a coordinator can assign someone else."), field="details"
        )
    declaration = ConflictDeclaration.objects.create(
        case=case, facilitator=actor, has_conflict=has_conflict, details=details, declared_at=timezone.now()
    )
    audit.record(
        actor=actor,
        code=AuditCode.CONFLICT_DECLARED,
        target=declaration,
        case=case,
        data={"has_conflict": has_conflict},
    )
    if has_conflict:
        for place in case.participants.select_for_update().filter(user=actor, removed_at__isnull=True):
            place.removed_at = timezone.now()
            place.save(update_fields=["removed_at"])
            audit.record(
                actor=actor,
                code=AuditCode.CASE_FACILITATOR_UNASSIGNED,
                target=place,
                case=case,
                data={"role": place.role},
            )
        _recheck(actor=actor, case=case)
    return declaration
