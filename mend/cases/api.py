"""The case operations of the JSON API: the same access functions and services as the pages."""

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Status

from mend.accounts import selectors as account_selectors
from mend.cases import access, contexts, schemas, selectors, services, timeline
from mend.cases.models import Role
from mend.core.errors import DomainError

router = Router(tags=["cases"])


def _errors(*codes: int) -> dict:
    """The error answers a route documents; every one has the shape {"detail": "..."}."""
    return {code: schemas.ErrorOut for code in (401, 422, *codes)}


@router.get("/programs", response={200: list[schemas.ProgramOut], **_errors()}, tags=["programs"])
def list_programs(request):
    """The programs the caller is a member of."""
    return list(account_selectors.programs_of_member(request.auth))


@router.get("/cases", response={200: schemas.CasePage, **_errors()})
def list_cases(request, filters: Query[schemas.CaseFilters]):
    """The cases the caller runs, newest change first, 25 to a page; `older` and `newer` are the cursors of
    the pages around this one (pass one back as `after` or `before`), and no cursor gives the newest page."""
    page = selectors.case_page(
        user=request.auth,
        stage=filters.stage or "",
        category=filters.category or "",
        facilitator_id=filters.facilitator,
        after=filters.after,
        before=filters.before,
    )
    return {
        "items": [contexts.case_out(c) for c in page.cases],
        "count": page.count,
        "count_is_exact": page.count_is_exact,
        "older": page.older,
        "newer": page.newer,
    }


@router.post("/cases", response={201: schemas.CaseDetailOut, **_errors(400, 404)})
def create_case(request, payload: schemas.CaseIn):
    """Opens a case at the referral stage, in a program where the caller may take referrals."""
    program = access.access_program_for_intake(request.auth, payload.program_id)
    case = services.case_create(
        actor=request.auth,
        program=program,
        harm_category=payload.harm_category,
        jurisdictions=payload.jurisdictions,
        referral_source=payload.referral_source,
        referral_details=payload.referral_details,
        intake_notes=payload.intake_notes,
        facilitator=request.auth if payload.assign_me else None,
    )
    return Status(201, contexts.case_detail_out(case))


@router.get("/cases/{reference}", response={200: schemas.CaseDetailOut, **_errors(404)})
def get_case(request, reference: schemas.Reference):
    """A case the caller runs, with its participants by pseudonym and the actions its stage allows."""
    return contexts.case_detail_out(access.access_managed_case(request.auth, reference))


@router.get("/cases/{reference}/timeline", response={200: list[schemas.TimelineOut], **_errors(404)})
def get_timeline(request, reference: schemas.Reference):
    """The case's latest audit events, newest first, in plain words."""
    case = access.access_managed_case(request.auth, reference)
    return timeline.timeline(selectors.case_events(case), case.program)


@router.post(
    "/cases/{reference}/transitions",
    response={200: schemas.CaseDetailOut, **_errors(404, 409)},
)
def transition_case(request, reference: schemas.Reference, payload: schemas.TransitionIn):
    """Takes one step in the stage table; 409 says what the step is waiting for."""
    case = access.access_managed_case(request.auth, reference)
    case = services.case_transition(
        actor=request.auth,
        case=case,
        action=payload.action,
        closure_reason=payload.closure_reason or "",
        send_closing_message=payload.send_closing_message,
    )
    return contexts.case_detail_out(case)


SUPPORTS_UNKNOWN = (
    "supports_id must be the participant id of a harmed or responsible party of this case; "
    "GET the case to see its participants."
)


def _invitation_out(invitation, link=None) -> dict:
    return {
        "id": invitation.pk,
        "participant_id": invitation.participant_id,
        "role": invitation.participant.role,
        "expires_at": invitation.expires_at,
        "state": invitation.state(timezone.now()),
        "link": link,
    }


@router.post(
    "/cases/{reference}/invitations",
    response={201: schemas.InvitationOut, **_errors(400, 404, 409)},
)
def invite(request, reference: schemas.Reference, payload: schemas.InvitationIn):
    """A place in the case and its one-time join link, which is shown in this answer only."""
    case = access.access_managed_case(request.auth, reference)
    supports = None
    if payload.role == Role.SUPPORTER:
        try:
            supports = access.access_case_place(request.auth, case, payload.supports_id)
        except Http404:
            raise DomainError(SUPPORTS_UNKNOWN, field="supports_id") from None
    invitation, raw = services.participant_invite(
        actor=request.auth,
        case=case,
        role=payload.role,
        supports=supports,
        expires_in_days=payload.expires_in_days,
    )
    return Status(201, _invitation_out(invitation, request.build_absolute_uri(reverse("join", args=[raw]))))


@router.post(
    "/cases/{reference}/invitations/{invitation_id}/revoke",
    response={200: schemas.InvitationOut, **_errors(404, 409)},
)
def revoke_invitation(request, reference: schemas.Reference, invitation_id: schemas.Id):
    """Withdraws an invitation that has not been used yet, so its link stops working."""
    case = access.access_managed_case(request.auth, reference)
    invitation = access.access_case_invitation(request.auth, case, invitation_id)
    return _invitation_out(services.invitation_revoke(actor=request.auth, invitation=invitation))
