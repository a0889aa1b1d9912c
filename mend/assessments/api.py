"""Preparation in the JSON API: assessments, acknowledgment confirmations and conflict declarations."""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Router, Schema, Status

from mend.assessments import services
from mend.assessments.models import Outcome
from mend.cases import access
from mend.cases.schemas import ErrorOut, Id, Reference

router = Router(tags=["preparation"])
ERRORS = {code: ErrorOut for code in (400, 401, 404, 409, 422)}


class AssessmentIn(Schema):
    outcome: Literal[tuple(Outcome.values)]
    answers: dict[str, str] = Field(default_factory=dict, description="question id to answer")
    reassess_on: date | None = Field(None, description="needed when the outcome is not_yet")


class AssessmentOut(Schema):
    id: int
    participant_id: int
    outcome: str
    reassess_on: date | None
    signed_off_at: datetime


class DeclarationIn(Schema):
    has_conflict: bool
    details: str = Field("", max_length=1000)


class DeclarationOut(Schema):
    id: int
    has_conflict: bool
    declared_at: datetime


class AcknowledgmentOut(Schema):
    participant_id: int
    confirmed_at: datetime


@router.post(
    "/cases/{reference}/people/{participant_id}/assessments", response={201: AssessmentOut, **ERRORS}
)
def sign_off(request, reference: Reference, participant_id: Id, payload: AssessmentIn):
    case = access.access_managed_case(request.auth, reference)
    place = access.access_facilitated_place(request.auth, case, participant_id)
    assessment = services.assessment_sign_off(
        actor=request.auth,
        place=place,
        answers=payload.answers,
        outcome=payload.outcome,
        reassess_on=payload.reassess_on,
    )
    return Status(
        201,
        {
            "id": assessment.pk,
            "participant_id": place.pk,
            "outcome": assessment.outcome,
            "reassess_on": assessment.reassess_on,
            "signed_off_at": assessment.signed_off_at,
        },
    )


@router.post(
    "/cases/{reference}/people/{participant_id}/acknowledgment/confirm",
    response={200: AcknowledgmentOut, **ERRORS},
)
def confirm(request, reference: Reference, participant_id: Id):
    case = access.access_managed_case(request.auth, reference)
    place = access.access_facilitated_place(request.auth, case, participant_id)
    acknowledgment = services.acknowledgment_confirm(actor=request.auth, place=place)
    return {"participant_id": place.pk, "confirmed_at": acknowledgment.confirmed_at}


@router.post("/cases/{reference}/conflict-declarations", response={201: DeclarationOut, **ERRORS})
def declare(request, reference: Reference, payload: DeclarationIn):
    case = access.access_managed_case(request.auth, reference)
    declaration = services.conflict_declare(
        actor=request.auth, case=case, has_conflict=payload.has_conflict, details=payload.details
    )
    return Status(
        201,
        {
            "id": declaration.pk,
            "has_conflict": declaration.has_conflict,
            "declared_at": declaration.declared_at,
        },
    )
