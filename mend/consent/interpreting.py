"""Whether a party is asked the interpreter consent: the one place for that rule.

A party is asked it only while an interpreter is attached to them (an interpreter's place whose `supports`
is theirs), and for as long as they have given it, so that they can always take it back."""

from mend.cases.models import PARTY_ROLES, Participant, Role
from mend.consent.models import Consent, Scope


def interpreter_asked(place: Participant) -> bool:
    if place.role not in PARTY_ROLES:
        return False
    attached = Participant.objects.filter(
        case_id=place.case_id, role=Role.INTERPRETER, supports_id=place.pk, removed_at__isnull=True
    )
    given = Consent.objects.filter(
        participant_id=place.pk, scope=Scope.INTERPRETER, withdrawn_at__isnull=True
    )
    return attached.exists() or given.exists()
