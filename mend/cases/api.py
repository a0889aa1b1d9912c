"""The case operations of the JSON API: the same access functions and services as the pages."""

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema

from mend.accounts.models import Program
from mend.cases import access, schemas, selectors, services, timeline, workflow
from mend.cases.models import FACILITATING_ROLES, Case, Participant

router = Router(tags=["cases"])


class CaseFilters(Schema):
    stage: str = ""
    category: str = ""
    facilitator: int | None = None
    page: int = 1


def _case_out(case: Case) -> dict:
    facilitators = getattr(case, "facilitators", None)
    if facilitators is None:
        facilitators = [
            p for p in case.participants.all() if p.role in FACILITATING_ROLES and not p.removed_at
        ]
    return {
        "reference": case.reference,
        "program_id": case.program_id,
        "harm_category": case.harm_category,
        "jurisdictions": case.jurisdictions,
        "referral_source": case.referral_source,
        "stage": case.stage,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "facilitators": [{"pseudonym": p.pseudonym, "role": p.role} for p in facilitators],
    }


def _case_detail_out(case: Case) -> dict:
    participants = list(case.participants.filter(removed_at__isnull=True).order_by("pk"))
    out = _case_out(case)
    out.update(
        referral_details=case.referral_details,
        participants=[
            {
                "id": p.pk,
                "role": p.role,
                "pseudonym": p.pseudonym,
                "joined": p.has_joined,
                "supports_id": p.supports_id,
            }
            for p in participants
        ],
        next_actions=[t.action for t in workflow.actions_from(case.stage)],
    )
    return out


@router.get("/programs", response=list[schemas.ProgramOut], tags=["programs"])
def list_programs(request):
    return list(Program.objects.filter(memberships__user=request.auth).order_by("name"))


@router.get("/cases", response={200: schemas.CasePage, 422: schemas.ErrorOut})
def list_cases(request, filters: Query[CaseFilters]):
    page = selectors.paginate(
        selectors.case_list(
            user=request.auth,
            stage=filters.stage,
            category=filters.category,
            facilitator_id=filters.facilitator,
        ),
        max(filters.page, 1),
    )
    return {
        "items": [_case_out(c) for c in page.object_list],
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
    }


@router.post("/cases", response={201: schemas.CaseDetailOut, 400: schemas.ErrorOut, 404: schemas.ErrorOut})
def create_case(request, payload: schemas.CaseIn):
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
    return 201, _case_detail_out(case)


@router.get("/cases/{reference}", response={200: schemas.CaseDetailOut, 404: schemas.ErrorOut})
def get_case(request, reference: str):
    return _case_detail_out(access.access_managed_case(request.auth, reference))


@router.get("/cases/{reference}/timeline", response={200: list[schemas.TimelineOut], 404: schemas.ErrorOut})
def get_timeline(request, reference: str):
    case = access.access_managed_case(request.auth, reference)
    return timeline.timeline(selectors.case_detail(case)["events"], case.program)


@router.post(
    "/cases/{reference}/transitions",
    response={200: schemas.CaseDetailOut, 404: schemas.ErrorOut, 409: schemas.ErrorOut},
)
def transition_case(request, reference: str, payload: schemas.TransitionIn):
    case = access.access_managed_case(request.auth, reference)
    case = services.case_transition(actor=request.auth, case=case, action=payload.action)
    return _case_detail_out(case)


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
    response={
        201: schemas.InvitationOut,
        400: schemas.ErrorOut,
        404: schemas.ErrorOut,
        409: schemas.ErrorOut,
    },
)
def invite(request, reference: str, payload: schemas.InvitationIn):
    case = access.access_managed_case(request.auth, reference)
    supports = None
    if payload.supports_id is not None:
        supports = Participant.objects.filter(
            case=case, pk=payload.supports_id, removed_at__isnull=True
        ).first()
        if supports is None:
            raise Http404
    invitation, raw = services.participant_invite(
        actor=request.auth,
        case=case,
        role=payload.role,
        supports=supports,
        expires_in_days=payload.expires_in_days,
    )
    return 201, _invitation_out(invitation, request.build_absolute_uri(reverse("join", args=[raw])))


@router.post(
    "/cases/{reference}/invitations/{invitation_id}/revoke",
    response={200: schemas.InvitationOut, 404: schemas.ErrorOut, 409: schemas.ErrorOut},
)
def revoke_invitation(request, reference: str, invitation_id: int):
    case = access.access_managed_case(request.auth, reference)
    invitation = access.access_invitation(request.auth, invitation_id)
    if invitation.participant.case_id != case.pk:
        raise Http404
    return _invitation_out(services.invitation_revoke(actor=request.auth, invitation=invitation))
