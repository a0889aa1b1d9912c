"""Invented cases made through the real services, for the demo, the benchmark's and browser journeys' seeds
and the tests: people join by invitation, give their consents, and the person harmed, the person responsible
and the facilitator each do what the stage table asks of them, so that every record (and its audit entry)
is the one a real case would have.

It lives in the package, not in tests/, because `mend demo` loads the demo program through it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mend.accounts.credentials import new_sign_in_name
from mend.accounts.keys import unknown_credentials
from mend.accounts.models import Program, User
from mend.assessments import services as assessments
from mend.cases import services as case_services
from mend.cases.models import Case, Participant, Role
from mend.consent import services as consent_services
from mend.consent.selectors import language_of_place, text_to_read

# The stage actions that take a new case to preparation, and on to the encounter.
TO_PREPARATION = ("accept_referral", "start_assessment", "start_preparation")
TO_ENCOUNTER = (*TO_PREPARATION, "begin_encounter")

MODE_SCOPE = {"direct": "direct_meeting", "indirect": "indirect_exchange"}


def join(
    *,
    actor: User,
    case: Case,
    role: str,
    pseudonym: str,
    supports: Participant | None = None,
    credentials: dict | None = None,
    **accept,
) -> Participant:
    """Invites a person and has them take up the place. `credentials` (mend.accounts.keys) default to a new
    sign-in name and a phrase nobody knows; `accept` passes on to invitation_accept (time_zone, ...)."""
    invitation, raw = case_services.participant_invite(actor=actor, case=case, role=role, supports=supports)
    case_services.invitation_accept(
        raw_token=raw,
        pseudonym=pseudonym,
        **accept,
        **(credentials or unknown_credentials(new_sign_in_name())),
    )
    place = invitation.participant
    place.refresh_from_db()
    return place


def give_consent(place: Participant, *scopes: str) -> None:
    """The person gives each consent to the program's current wording in their language, as the consent page
    shows it to them."""
    for scope in scopes:
        text = text_to_read(place.case.program, scope, language_of_place(place)).text
        consent_services.consent_give(actor=place.user, place=place, scope=scope, text_sha256=text.sha256)


def stop(place: Participant) -> None:
    """The person presses "Stop taking part": they withdraw their consent to take part."""
    consent_services.consent_withdraw(actor=place.user, place=place, scope="take_part")


@dataclass(frozen=True)
class Readiness:
    """What the people of a case say and choose while they prepare. The defaults are plain invented words;
    callers pass their own so that each journey reads as its own story."""

    mode: str = "direct"
    extra_scopes: tuple[str, ...] = ()  # given by every person harmed and responsible, after the mode's
    harmed_scopes: tuple[str, ...] = ()  # given by the people harmed only, last
    supporters_may_attend: bool = False
    community_may_attend: bool = False
    # One value for every person harmed, or one each, in order.
    progress_updates: str | tuple[str, ...] = "at_end"
    progress_every_weeks: int | None = None
    acknowledgment: str = "I did what I was referred for, and I know it hurt."
    motivation: str = "Ready."
    risks: str = "Contact outside the process."
    measures: str = "Meetings only with the facilitator present."


def prepare(
    case: Case,
    *,
    facilitator: User,
    harmed: Sequence[Participant],
    responsible: Sequence[Participant],
    readiness: Readiness = Readiness(),
    ready: bool = True,
    actions: Sequence[str] = TO_PREPARATION,
) -> Case:
    """Consents, the choices of each person harmed and each acknowledgment; then, when `ready`, the
    facilitator's confirmation, assessment sign-offs, safety plans and conflict declaration: everything the
    encounter guards ask for. Then the stage `actions`, by the facilitator. Returns the case as it is now."""
    scopes = ("take_part", "facilitator_contact", MODE_SCOPE[readiness.mode], *readiness.extra_scopes)
    for place in (*harmed, *responsible):
        give_consent(place, *scopes, *(readiness.harmed_scopes if place in harmed else ()))
    updates = readiness.progress_updates
    for number, place in enumerate(harmed):
        consent_services.choices_update(
            actor=place.user,
            place=place,
            mode=readiness.mode,
            supporters_may_attend=readiness.supporters_may_attend,
            community_may_attend=readiness.community_may_attend,
            progress_updates=updates if isinstance(updates, str) else updates[number],
            progress_every_weeks=readiness.progress_every_weeks,
        )
    for place in responsible:
        assessments.acknowledgment_submit(actor=place.user, place=place, text=readiness.acknowledgment)
        if ready:
            assessments.acknowledgment_confirm(actor=facilitator, place=place)
    if ready:
        for place in (*harmed, *responsible):
            assessments.assessment_sign_off(
                actor=facilitator, place=place, answers={"motivation": readiness.motivation}, outcome="ready"
            )
        for place in harmed:
            assessments.safety_plan_save(
                actor=facilitator, place=place, risks=readiness.risks, measures=readiness.measures
            )
        assessments.conflict_declare(actor=facilitator, case=case, has_conflict=False)
    for action in actions:
        case = case_services.case_transition(actor=facilitator, case=case, action=action)
    case.refresh_from_db()
    return case


@dataclass
class PreparedCase:
    case: Case
    harmed: list[Participant] = field(default_factory=list)
    responsible: list[Participant] = field(default_factory=list)


def prepared_case(
    *,
    program: Program,
    facilitator: User,
    harmed: Sequence[str] = ("Marram",),
    responsible: Sequence[str] = ("Tarn",),
    readiness: Readiness = Readiness(),
    ready: bool = True,
    actions: Sequence[str] = TO_PREPARATION,
    credentials: Callable[[str], dict] | None = None,
    time_zones: Callable[[str], str] | None = None,
    actor: User | None = None,
    **case_fields,
) -> PreparedCase:
    """A new case of `program` run by `facilitator` (opened by `actor`, the facilitator unless given), its
    people harmed and responsible joined under the given pseudonyms and prepared (see `prepare`).
    `credentials(pseudonym)` gives a person known sign-in credentials, `time_zones(pseudonym)` their time
    zone (UTC otherwise); `case_fields` go to case_create."""
    case = case_services.case_create(
        actor=actor or facilitator,
        program=program,
        jurisdictions=case_fields.pop("jurisdictions", ["NZ"]),
        facilitator=facilitator,
        **{"harm_category": "online_harassment", "referral_source": "self", **case_fields},
    )

    def joined(role: str, pseudonym: str) -> Participant:
        given = credentials(pseudonym) if credentials else None
        zone = {"time_zone": time_zones(pseudonym)} if time_zones else {}
        return join(actor=facilitator, case=case, role=role, pseudonym=pseudonym, credentials=given, **zone)

    places = PreparedCase(
        case=case,
        harmed=[joined(Role.HARMED_PARTY, name) for name in harmed],
        responsible=[joined(Role.RESPONSIBLE_PARTY, name) for name in responsible],
    )
    places.case = prepare(
        case,
        facilitator=facilitator,
        harmed=places.harmed,
        responsible=places.responsible,
        readiness=readiness,
        ready=ready,
        actions=actions,
    )
    return places
