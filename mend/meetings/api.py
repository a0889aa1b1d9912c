"""Sessions in the JSON API: schedule, list and cancel, under the same guards as the pages."""

from datetime import datetime
from typing import Literal

from django.http import Http404
from ninja import Field, Router, Schema, Status

from mend.cases import access
from mend.cases.schemas import ErrorOut, Id, Reference
from mend.meetings import scheduling as services
from mend.meetings.models import Meeting, MeetingFormat, MeetingKind
from mend.readiness.rules import encounter_missing
from mend.readiness.snapshot import snapshot_of

router = Router(tags=["sessions"])
ERRORS = {code: ErrorOut for code in (401, 404, 409, 422)}


class SessionIn(Schema):
    kind: Literal[tuple(MeetingKind.values)]
    format: Literal[tuple(MeetingFormat.values)]
    starts_at: datetime = Field(description="with an offset, or read in `time_zone`")
    time_zone: str = Field(examples=["Pacific/Auckland"], max_length=64)
    duration_minutes: int = Field(60, ge=15, le=480)
    attendee_ids: list[Id] = Field(min_length=1, max_length=50)


class SessionOut(Schema):
    id: int
    kind: str
    format: str
    starts_at: datetime
    time_zone: str
    duration_minutes: int
    status: str
    attendee_ids: list[int]


class ReadinessOut(Schema):
    missing: list[str]


def _out(session: Meeting) -> dict:
    return {
        "id": session.pk,
        "kind": session.kind,
        "format": session.format,
        "starts_at": session.starts_at,
        "time_zone": session.time_zone,
        "duration_minutes": session.duration_minutes,
        "status": session.status,
        "attendee_ids": sorted(p.pk for p in session.attendees.all()),
    }


@router.get("/cases/{reference}/readiness", response={200: ReadinessOut, **ERRORS})
def readiness(request, reference: Reference):
    """What the encounter still waits for, in words, naming people by pseudonym."""
    case = access.access_managed_case(request.auth, reference)
    return {"missing": encounter_missing(snapshot_of(case))}


@router.get("/cases/{reference}/sessions", response={200: list[SessionOut], **ERRORS})
def list_sessions(request, reference: Reference):
    case = access.access_managed_case(request.auth, reference)
    sessions = Meeting.objects.filter(case=case).prefetch_related("attendees").order_by("-starts_at")[:100]
    return [_out(s) for s in sessions]


@router.post("/cases/{reference}/sessions", response={201: SessionOut, 400: ErrorOut, **ERRORS})
def schedule(request, reference: Reference, payload: SessionIn):
    case = access.access_managed_case(request.auth, reference)
    attendees = [
        access.access_case_place(request.auth, case, pid) for pid in dict.fromkeys(payload.attendee_ids)
    ]
    session = services.meeting_schedule(
        actor=request.auth,
        case=case,
        kind=payload.kind,
        format=payload.format,
        starts_at=payload.starts_at,
        time_zone=payload.time_zone,
        attendees=attendees,
        duration_minutes=payload.duration_minutes,
    )
    return Status(201, _out(session))


@router.post("/cases/{reference}/sessions/{session_id}/cancel", response={200: SessionOut, **ERRORS})
def cancel(request, reference: Reference, session_id: Id):
    case = access.access_managed_case(request.auth, reference)
    session = Meeting.objects.filter(case=case, pk=session_id).first()
    if session is None:
        raise Http404
    return _out(services.meeting_cancel(actor=request.auth, session=session))
