"""A case's people and their consent and preparation records, read once in a fixed number of queries.

The snapshot is a value: nothing is hung on model instances and nothing needs resetting. Whoever needs a
fresh view after a change takes a new snapshot.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.db.models import Exists, OuterRef

from mend.accounts.models import Membership, User
from mend.assessments.models import Acknowledgment, Assessment, ConflictDeclaration, SafetyPlan
from mend.cases.models import FACILITATING_ROLES, Case, Participant
from mend.consent.models import Consent, HarmedPartyChoices, Mode


class PartialSnapshot(RuntimeError):
    """A rule that reads every record was given a partial snapshot (consent_snapshot, choices_snapshot): a
    programming error, never a person's. A partial snapshot's empty records mean "not read", not "nothing
    missing", so such a rule would let through what it exists to stop."""


@dataclass(frozen=True)
class Snapshot:
    """Records are keyed by participant id and cover every place of the case, active or not, so that a
    meeting's attendee who has since left is judged on their own records, as before."""

    case: Case
    places: tuple[Participant, ...]  # the active places, by pk, with `user` and `in_program`
    scopes: Mapping[int, frozenset[str]] = field(default_factory=dict)  # current consent scopes
    consented: frozenset[int] = frozenset()  # everyone who ever gave a consent, withdrawn or not
    took_part: frozenset[int] = frozenset()  # everyone who ever consented to take part, withdrawn or not
    choices: Mapping = field(default_factory=dict)  # HarmedPartyChoices by participant id
    outcomes: Mapping[int, str] = field(default_factory=dict)  # the latest signed-off assessment
    acknowledgments: Mapping[int, str] = field(default_factory=dict)  # "submitted" or "confirmed"
    plans: frozenset[int] = frozenset()  # who has a safety plan
    undeclared: tuple[User, ...] = ()  # assigned facilitators without a no-conflict declaration
    complete: bool = False  # every record read (snapshot_of); a partial snapshot holds only some

    def require_complete(self, rule: str) -> None:
        """For a rule that reads every record: refuse a partial snapshot (PartialSnapshot)."""
        if not self.complete:
            raise PartialSnapshot(f"{rule} needs a complete snapshot (snapshot_of), not a partial one")

    def place(self, participant_id) -> Participant | None:
        return next((p for p in self.places if p.pk == participant_id), None)

    def scopes_of(self, place) -> frozenset[str]:
        return self.scopes.get(place.pk, frozenset())

    def choices_of(self, place):
        """The person harmed's choices, or the defaults (nothing decided, nobody else attends, no updates)."""
        found = self.choices.get(place.pk)
        return found or HarmedPartyChoices(participant=place, mode=Mode.UNDECIDED)

    def outcome_of(self, place) -> str | None:
        return self.outcomes.get(place.pk)

    def acknowledgment_of(self, place) -> str:
        """none, submitted (the latest text waits for a facilitator), or confirmed (the latest was read)."""
        return self.acknowledgments.get(place.pk, "none")

    def has_safety_plan(self, place) -> bool:
        return place.pk in self.plans


def places_of(case: Case) -> tuple[Participant, ...]:
    """Everyone active in the case, in one query: enough to know who holds which place. Whether each person
    is still a member of the case's program comes with it: a facilitating place counts for conversations
    only while it is (mend.dialogue.rules.facilitators)."""
    members = Membership.objects.filter(user=OuterRef("user_id"), program=case.program_id)
    places = tuple(
        Participant.objects.filter(case_id=case.pk, removed_at__isnull=True)
        .select_related("user")
        .annotate(in_program=Exists(members))
        .order_by("pk")
    )
    for place in places:
        place.case = case  # the caller's case object, not a query per place
    return places


def snapshot_of(case: Case, places: tuple[Participant, ...] | None = None) -> Snapshot:
    """Everyone's records in seven queries (six when `places`, already read, are given), whatever the
    number of people."""
    if places is None:
        places = places_of(case)
    scopes: dict[int, set[str]] = {p.pk: set() for p in places}
    consented: set[int] = set()
    took_part: set[int] = set()
    for participant_id, scope, withdrawn_at in Consent.objects.filter(
        participant__case_id=case.pk
    ).values_list("participant_id", "scope", "withdrawn_at"):
        consented.add(participant_id)
        if scope == "take_part":
            took_part.add(participant_id)
        if withdrawn_at is None:
            scopes.setdefault(participant_id, set()).add(scope)
    choices = {c.participant_id: c for c in HarmedPartyChoices.objects.filter(participant__case_id=case.pk)}
    outcomes: dict[int, str] = {}
    for participant_id, outcome in (
        Assessment.objects.filter(participant__case_id=case.pk)
        .order_by("signed_off_at", "pk")
        .values_list("participant_id", "outcome")
    ):
        outcomes[participant_id] = outcome  # the latest sign-off wins
    acknowledged: dict[int, str] = {}
    for participant_id, confirmed_at in (
        Acknowledgment.objects.filter(participant__case_id=case.pk)
        .order_by("submitted_at", "pk")
        .values_list("participant_id", "confirmed_at")
    ):
        acknowledged[participant_id] = "confirmed" if confirmed_at is not None else "submitted"
    plans = frozenset(
        SafetyPlan.objects.filter(participant__case_id=case.pk).values_list("participant_id", flat=True)
    )
    conflicted: dict[int, bool] = {}
    rows = ConflictDeclaration.objects.filter(case_id=case.pk).order_by("declared_at", "pk")
    for user_id, has_conflict in rows.values_list("facilitator_id", "has_conflict"):
        conflicted[user_id] = has_conflict  # later declarations replace earlier ones
    undeclared = tuple(
        p.user for p in places if p.role in FACILITATING_ROLES and conflicted.get(p.user_id, True)
    )
    return Snapshot(
        case=case,
        places=places,
        scopes=MappingProxyType({pk: frozenset(s) for pk, s in scopes.items()}),
        consented=frozenset(consented),
        took_part=frozenset(took_part),
        choices=MappingProxyType(choices),
        outcomes=MappingProxyType(outcomes),
        acknowledgments=MappingProxyType(acknowledged),
        plans=plans,
        undeclared=undeclared,
        complete=True,
    )


def consent_snapshot(case: Case, places: tuple[Participant, ...] | None = None) -> Snapshot:
    """The places and their consent scopes only, in one query (two without `places`): enough for a check
    about one person's consent (mend.readiness.rules.facilitator_contact_missing) or anyone's standing
    (mend.readiness.rules.standing_of), nothing more."""
    if places is None:
        places = places_of(case)
    scopes: dict[int, set[str]] = {}
    took_part: set[int] = set()
    rows = Consent.objects.filter(participant__case_id=case.pk)
    for participant_id, scope, withdrawn_at in rows.values_list("participant_id", "scope", "withdrawn_at"):
        if scope == "take_part":
            took_part.add(participant_id)
        if withdrawn_at is None:
            scopes.setdefault(participant_id, set()).add(scope)
    return Snapshot(
        case=case,
        places=places,
        scopes=MappingProxyType({pk: frozenset(s) for pk, s in scopes.items()}),
        took_part=frozenset(took_part),
    )


def choices_snapshot(case: Case, places: tuple[Participant, ...] | None = None) -> Snapshot:
    """The places and the choices of the people harmed only, in one query (two without `places`): enough
    to know whether direct contact is chosen (mend.readiness.rules.direct_chosen), nothing more."""
    if places is None:
        places = places_of(case)
    choices = {c.participant_id: c for c in HarmedPartyChoices.objects.filter(participant__case_id=case.pk)}
    return Snapshot(case=case, places=places, choices=MappingProxyType(choices))
