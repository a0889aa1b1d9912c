"""Who reaches a party's own consent pages: the party themself; the choices are the person harmed's."""

from mend.cases import access
from mend.cases.models import Participant, Role


def access_own_party_place(user, reference: str) -> Participant:
    case = access.access_case(user, reference)
    return access.access_own_taking_part(user, case)


def may_choose(place: Participant) -> bool:
    """Only the person harmed chooses how the process goes (the page is a 404 for everyone else)."""
    return place.role == Role.HARMED_PARTY
