"""Reads of one person's preparation records (a whole case's: mend.readiness.snapshot)."""

from mend.assessments.models import Acknowledgment, Assessment, ConflictDeclaration, QuestionSet, SafetyPlan
from mend.assessments.questions import default_questions


def latest_assessment(place) -> Assessment | None:
    return Assessment.objects.filter(participant=place).order_by("-signed_off_at", "-pk").first()


def acknowledgment_state(place) -> str:
    """none, submitted (the latest text waits for a facilitator), or confirmed (the latest text was read)."""
    latest = latest_acknowledgment(place)
    if latest is None:
        return "none"
    return "confirmed" if latest.confirmed_at else "submitted"


def latest_acknowledgment(place) -> Acknowledgment | None:
    return Acknowledgment.objects.filter(participant=place).order_by("-submitted_at", "-pk").first()


def latest_declaration(case, user) -> ConflictDeclaration | None:
    return (
        ConflictDeclaration.objects.filter(case=case, facilitator=user)
        .order_by("-declared_at", "-pk")
        .first()
    )


def conflict_declared(case, user) -> bool:
    """Whether this staff member's latest declaration in the case declares a conflict of interest: such a
    person cannot facilitate it (asked by mend.cases.services through mend.cases.hooks)."""
    declaration = latest_declaration(case, user)
    return declaration is not None and declaration.has_conflict


def current_questions(program, *, cybercrime: bool) -> tuple[QuestionSet | None, list[dict]]:
    found = QuestionSet.objects.filter(program=program).order_by("-version").first()
    questions = found.questions if found is not None else default_questions(cybercrime=True)
    # Digital-safety questions belong to cybercrime cases only.
    return found, [q for q in questions if cybercrime or q.get("section") != "digital"]


def safety_plan_of(place) -> SafetyPlan | None:
    return SafetyPlan.objects.filter(participant=place).first()


def safety_plan_initial(plan: SafetyPlan | None) -> dict | None:
    """The plan's fields to start its form from (None for a first plan)."""
    if plan is None:
        return None
    return {"risks": plan.risks, "measures": plan.measures, "emergency_contacts": plan.emergency_contacts}
