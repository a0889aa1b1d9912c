"""Reads of preparation records, used by the guards and the case page."""

from mend.assessments.models import Acknowledgment, Assessment, ConflictDeclaration, QuestionSet, SafetyPlan
from mend.assessments.questions import default_questions


def latest_assessment(place) -> Assessment | None:
    return Assessment.objects.filter(participant=place).order_by("-signed_off_at", "-pk").first()


def latest_outcome(place) -> str | None:
    if hasattr(place, "_latest_outcome"):
        return place._latest_outcome
    found = latest_assessment(place)
    return found.outcome if found else None


def acknowledgment_state(place) -> str:
    """none, submitted (the latest text waits for a facilitator), or confirmed (the latest text was read)."""
    if hasattr(place, "_acknowledgment_state"):
        return place._acknowledgment_state
    latest = latest_acknowledgment(place)
    if latest is None:
        return "none"
    return "confirmed" if latest.confirmed_at else "submitted"


def latest_acknowledgment(place) -> Acknowledgment | None:
    return Acknowledgment.objects.filter(participant=place).order_by("-submitted_at", "-pk").first()


def safety_plan_exists(place) -> bool:
    if hasattr(place, "_has_safety_plan"):
        return place._has_safety_plan
    return SafetyPlan.objects.filter(participant=place).exists()


def latest_declaration(case, user) -> ConflictDeclaration | None:
    return (
        ConflictDeclaration.objects.filter(case=case, facilitator=user)
        .order_by("-declared_at", "-pk")
        .first()
    )


def facilitators_without_declaration(case):
    """Assigned facilitators who have not yet declared that they have no conflict of interest."""
    from mend.cases.models import FACILITATING_ROLES

    assigned = case.participants.filter(role__in=FACILITATING_ROLES, removed_at__isnull=True).select_related(
        "user"
    )
    latest: dict[int, bool] = {}
    rows = ConflictDeclaration.objects.filter(case=case).order_by("declared_at", "pk")
    for user_id, has_conflict in rows.values_list("facilitator_id", "has_conflict"):
        latest[user_id] = has_conflict  # later declarations replace earlier ones
    return [p.user for p in assigned if latest.get(p.user_id, True)]


def current_questions(program, *, cybercrime: bool) -> tuple[QuestionSet | None, list[dict]]:
    found = QuestionSet.objects.filter(program=program).order_by("-version").first()
    questions = found.questions if found is not None else default_questions(cybercrime=True)
    # Digital-safety questions belong to cybercrime cases only.
    return found, [q for q in questions if cybercrime or q.get("section") != "digital"]
