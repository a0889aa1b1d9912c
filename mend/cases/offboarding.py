"""A staff member's case places end with their access. accounts.offboarding runs this through the hook that
cases registers in its AppConfig.ready(): accounts sits below cases in the layers (docs/layers.md)."""

from django.utils import timezone

from mend import audit
from mend.accounts.models import User
from mend.audit.codes import AuditCode
from mend.cases.models import FACILITATING_ROLES, AssignmentRequest, Participant
from mend.cases.services import facilitator_unassign


def staff_places_end(*, actor: User, user: User, program_id: int | None, reason: str) -> int:
    """Ends the person's facilitator places (in one program, or in all), as the cases app ends one, and
    withdraws their requests to join a case's team (each audited). Returns how many places ended."""
    places = Participant.objects.filter(user=user, role__in=FACILITATING_ROLES, removed_at__isnull=True)
    requests = AssignmentRequest.objects.filter(requested_by=user, outcome=AssignmentRequest.Outcome.PENDING)
    if program_id is not None:
        places = places.filter(case__program_id=program_id)
        requests = requests.filter(case__program_id=program_id)
    ended = 0
    for place in places.order_by("pk"):
        facilitator_unassign(actor=actor, place=place, reason=reason)
        ended += 1
    now = timezone.now()
    for request in requests.select_for_update(of=("self",)).select_related("case").order_by("pk"):
        request.outcome = AssignmentRequest.Outcome.WITHDRAWN
        request.decided_by, request.decided_at = actor, now
        request.save(update_fields=["outcome", "decided_by", "decided_at"])
        # The same event as the person withdrawing it themselves (cases.services.assignment_request_decide).
        audit.record(
            actor=actor,
            code=AuditCode.CASE_ASSIGNMENT_WITHDRAWN,
            target=request,
            case=request.case,
            data={"role": request.role, "requested_by": request.requested_by_id, "reason": reason},
        )
    return ended
