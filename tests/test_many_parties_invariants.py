"""Issue 16: invariants 3, 8 and 9 of ARCHITECTURE.md with several people on a side (five harmed and one
responsible; one harmed and three responsible). Invariants 1, 2, 4 and 6 with many people are walked in
tests/cases/test_person_paths.py, tests/meetings/test_paths*.py, tests/dialogue/test_paths.py,
tests/agreements/test_many_parties.py and tests/test_same_side_privacy.py."""

import pytest

from mend import builders
from mend.assessments import services as assessments
from mend.audit.models import AuditEvent
from mend.audit.services import chain_verify
from mend.cases import services as cases
from mend.cases.models import Participant
from mend.consent import services as consent_services
from mend.core.errors import Conflict
from mend.rights import services as rights

pytestmark = pytest.mark.django_db


def test_inv_acknowledgment_and_readiness_the_encounter_waits_for_each_youth_on_their_path(cast):
    """Three youths responsible: the encounter waits for every one of them who takes part to have their
    acknowledgment confirmed; one who stopped is not waited for."""
    school = builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=("Kauri",),
        responsible=("Kea", "Tui", "Weka"),
        ready=False,
    )
    kea, tui, weka = school.responsible
    for place in (kauri := school.harmed[0], kea, tui):
        assessments.assessment_sign_off(
            actor=cast.facilitator, place=place, answers={"motivation": "Ready."}, outcome="ready"
        )
    for place in (kea, tui):
        assessments.acknowledgment_confirm(actor=cast.facilitator, place=place)
    assessments.safety_plan_save(
        actor=cast.facilitator, place=kauri, risks="None.", measures="A facilitator."
    )
    assessments.conflict_declare(actor=cast.facilitator, case=school.case, has_conflict=False)
    with pytest.raises(Conflict, match=r"acknowledgment by the person responsible \(Weka\)"):
        cases.case_transition(actor=cast.facilitator, case=school.case, action="begin_encounter")
    builders.stop(weka)
    assert cases.case_transition(
        actor=cast.facilitator, case=school.case, action="begin_encounter"
    ).stage == ("encounter")


def test_inv_traceable_each_persons_step_back_is_in_the_chain_and_the_chain_verifies(cast):
    breach = builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=("Aspen", "Birch", "Cedar", "Dune", "Elm"),
        responsible=("Falcon",),
    )
    aspen, birch, cedar = breach.harmed[:3]
    builders.stop(aspen)
    consent_services.participant_pause(actor=birch.user, place=birch)
    consent_services.participant_exclude(actor=cast.facilitator, place=cedar, reason="Asked by phone.")
    recorded = set(AuditEvent.objects.filter(case=breach.case).values_list("code", flat=True))
    assert {"consent.withdrawn", "participant.paused", "participant.excluded"} <= recorded
    assert "Asked by phone" not in str(list(AuditEvent.objects.values_list("payload", flat=True)))
    ok, _why = chain_verify()
    assert ok


def test_inv_right_to_leave_one_of_five_leaves_and_the_case_goes_on_for_the_others(cast):
    breach = builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=("Aspen", "Birch", "Cedar", "Dune", "Elm"),
        responsible=("Falcon",),
    )
    aspen = breach.harmed[0]
    rights.participant_data_delete(actor=aspen.user, place=aspen)
    aspen.refresh_from_db()
    breach.case.refresh_from_db()
    assert aspen.removed_at is not None and aspen.pseudonym == ""
    assert breach.case.stage == "preparation" and breach.case.data_deleted_at is None
    still = Participant.objects.filter(case=breach.case, removed_at__isnull=True, role="harmed_party")
    assert sorted(still.values_list("pseudonym", flat=True)) == ["Birch", "Cedar", "Dune", "Elm"]
    assert cases.case_transition(
        actor=cast.facilitator, case=breach.case, action="begin_encounter"
    ).stage == ("encounter")
