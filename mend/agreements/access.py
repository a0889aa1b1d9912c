"""Who may see a case's agreement, and as whom. Outsiders get the same 404 as for a case that does not
exist; the pages then show each viewer only what their role may see (`selectors.board_for`)."""

from dataclasses import dataclass

from django.http import Http404

from mend.agreements.document import party_ids
from mend.agreements.models import Agreement, CheckIn, Commitment, Item, Version
from mend.agreements.selectors import away, board_for, items_in_force
from mend.cases import access
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Case, Participant, Role


@dataclass
class Viewer:
    case: Case
    place: Participant | None  # their own place in the case, if they have one
    staff: bool  # runs the case (a facilitator of it, or a coordinator or admin of its program)

    @property
    def facilitates(self) -> bool:
        return self.place is not None and self.place.role in FACILITATING_ROLES

    @property
    def party(self) -> bool:
        return not self.staff and self.place is not None and self.place.role in PARTY_ROLES

    @property
    def harmed(self) -> bool:
        return self.party and self.place.role == Role.HARMED_PARTY


def access_agreement_viewer(user, reference: str) -> Viewer:
    case = access.access_case(user, reference)
    staff = access.manages_case(user, case.pk)
    place = (
        Participant.objects.filter(case=case, user=user, joined_at__isnull=False, removed_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if not staff and place is None:
        raise Http404
    return Viewer(case=case, place=place, staff=staff)


def access_facilitator(user, reference: str) -> Viewer:
    """Someone who facilitates this case: the only people who write its agreement."""
    viewer = access_agreement_viewer(user, reference)
    if not viewer.staff or not viewer.facilitates:
        raise Http404
    return viewer


def access_party(user, reference: str) -> Viewer:
    viewer = access_agreement_viewer(user, reference)
    if not viewer.party:
        raise Http404
    return viewer


def access_agreement(viewer: Viewer) -> Agreement:
    agreement = Agreement.objects.filter(case=viewer.case).first()
    if agreement is None:
        raise Http404
    return agreement


def access_version(viewer: Viewer, number: int) -> Version:
    """Staff see every version, drafts included; the parties see versions once they are opened for signing."""
    version = (
        Version.objects.select_related("case__program", "agreement")
        .filter(agreement__case=viewer.case, number=number)
        .first()
    )
    if (
        version is None
        or not (viewer.staff or viewer.party)
        or (not viewer.staff and version.state == Version.State.DRAFT)
    ):
        raise Http404
    if viewer.party and viewer.place.pk not in party_ids(version) and away(viewer):
        raise Http404  # a version opened while they were away is nothing of theirs until they are back
    return version


def access_commitment(viewer: Viewer, uid: str) -> Commitment:
    """An item of the agreement in force: staff and both parties see it; its evidence is the owner's and
    the facilitators' only (the pages check `viewer` for that)."""
    commitment = (
        Commitment.objects.select_related("agreement__case__program")
        .filter(agreement__case=viewer.case, item_uid=uid)
        .first()
    )
    if commitment is None or not (viewer.staff or viewer.party):
        raise Http404
    return commitment


def access_check_in(viewer: Viewer, check_in_id: int) -> CheckIn:
    """A check-in of the case's agreement, for the facilitators who keep the follow-up plan."""
    check_in = CheckIn.objects.filter(agreement__case=viewer.case, pk=check_in_id).first()
    if check_in is None:
        raise Http404
    return check_in


def sees_evidence(viewer: Viewer, item: Item) -> bool:
    """An item's evidence is its owner's and the facilitators' only."""
    return viewer.facilitates or (viewer.party and item.owner_id == viewer.place.pk)


def access_item(viewer: Viewer, commitment: Commitment) -> tuple[Item, str]:
    """The item of the version in force behind `commitment`, and the state this viewer may see of it.

    The person harmed sees an item of the other side only as their status board shows it: not at all with
    "never" or "only at the end", or when it is owed to another person harmed, and otherwise only whether
    it is done and checked."""
    found = next((i for i in items_in_force(commitment.agreement) if i.uid == commitment.item_uid), None)
    if found is None:
        raise Http404
    state = commitment.state
    if (
        viewer.harmed
        and found.owner_id != viewer.place.pk
        and found.owed_to_id not in (None, viewer.place.pk)
    ):
        raise Http404  # owed to another person harmed: not this person's to follow
    if viewer.party and found.owner_id != viewer.place.pk and away(viewer):
        raise Http404  # away from the process: only their own part
    if viewer.harmed and found.owner_id != viewer.place.pk:
        if board_for(viewer, commitment.agreement)["shows"] != "verified":
            raise Http404
        if state != Commitment.State.VERIFIED:
            state = "not_yet"
    return found, state
