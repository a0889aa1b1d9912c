"""Meetings for the tests of mend.circles.meetings: a dialogue in the shared cast's case, and a conference
case with two people harmed, two people responsible, their supporters and a community member."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from mend import builders
from mend.cases import services as case_services
from mend.cases.models import Case, Participant, Role
from mend.meetings import scheduling
from mend.meetings.models import Meeting
from tests.builders import consent, facilitator_place, join, prepare_for_encounter


def in_two_days() -> datetime:
    """A whole hour two days ahead: every moment the tests travel to stays ahead of the real clock."""
    return (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


def dialogue(cast, *, starts_at: datetime | None = None, format: str = "video", attendees=None) -> Meeting:
    """A dialogue of the person harmed and the person responsible with their facilitator, scheduled through
    the guards (call prepare_for_encounter first)."""
    people = attendees if attendees is not None else [cast.harmed, cast.responsible]
    return scheduling.meeting_schedule(
        actor=cast.facilitator,
        case=cast.case,
        kind="dialogue",
        format=format,
        starts_at=starts_at or in_two_days(),
        time_zone="Pacific/Auckland",
        attendees=[facilitator_place(cast.case, cast.facilitator), *people],
        duration_minutes=90,
    )


def prepared_dialogue(cast, **kwargs) -> Meeting:
    prepare_for_encounter(cast, mode="direct")
    return dialogue(cast, **kwargs)


@dataclass
class Conference:
    case: Case
    facilitator: Participant
    harmed: list[Participant]
    responsible: list[Participant]
    harmed_supporter: Participant  # supports harmed[0]
    responsible_supporter: Participant  # supports responsible[0]
    community: Participant


def conference_case(
    cast, *, community_may_attend: bool = True, supporters_may_attend: bool = True
) -> Conference:
    """Two people harmed (Kauri, Rimu), two people responsible (Sparrow, Finch), a supporter on each side
    (Puriri for Kauri, Totara for Sparrow) and a community member (Matai), prepared for a conference."""
    case = case_services.case_create(
        actor=cast.coordinator,
        program=cast.program,
        harm_category="unauthorised_access",
        jurisdictions=["NZ"],
        referral_source="education",
        referral_details="The school's grades system was entered.",
        facilitator=cast.facilitator,
    )
    harmed = [
        join(actor=cast.facilitator, case=case, role=Role.HARMED_PARTY, pseudonym=n)
        for n in ("Kauri", "Rimu")
    ]
    responsible = [
        join(actor=cast.facilitator, case=case, role=Role.RESPONSIBLE_PARTY, pseudonym=n)
        for n in ("Sparrow", "Finch")
    ]
    puriri = join(
        actor=cast.facilitator, case=case, role=Role.SUPPORTER, pseudonym="Puriri", supports=harmed[0]
    )
    totara = join(
        actor=cast.facilitator, case=case, role=Role.SUPPORTER, pseudonym="Totara", supports=responsible[0]
    )
    matai = join(actor=cast.facilitator, case=case, role=Role.COMMUNITY_MEMBER, pseudonym="Matai")
    for place in (puriri, totara, matai):
        consent(place, "take_part")
    builders.prepare(
        case,
        facilitator=cast.facilitator,
        harmed=harmed,
        responsible=responsible,
        readiness=builders.Readiness(
            extra_scopes=("supporters_present",),
            supporters_may_attend=supporters_may_attend,
            community_may_attend=community_may_attend,
            acknowledgment="I went into the school's system and changed what I should not have.",
            motivation="Wants to put it right.",
            risks="Meeting the others.",
            measures="A supporter present.",
        ),
    )
    case.refresh_from_db()
    return Conference(
        case=case,
        facilitator=facilitator_place(case, cast.facilitator),
        harmed=harmed,
        responsible=responsible,
        harmed_supporter=puriri,
        responsible_supporter=totara,
        community=matai,
    )


def schedule_conference(cast, conference: Conference, *, extra=(), starts_at=None) -> Meeting:
    return scheduling.meeting_schedule(
        actor=cast.facilitator,
        case=conference.case,
        kind="conference",
        format="in_person",
        starts_at=starts_at or in_two_days(),
        time_zone="Pacific/Auckland",
        attendees=[conference.facilitator, *conference.harmed, *conference.responsible, *extra],
        duration_minutes=120,
    )
