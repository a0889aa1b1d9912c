"""The stage table, walked pair by pair, and through the service that applies it."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mend.audit.models import AuditEvent
from mend.cases import services, workflow
from mend.cases.models import Case, Stage
from mend.core.errors import Conflict
from mend.readiness import rules as readiness

ALL_PAIRS = [(s, a) for s in workflow.STAGES for a in workflow.ACTIONS]


def test_it_names_every_stage_of_the_process():
    assert (
        set(workflow.STAGES)
        == set(Stage.values)
        == {
            "referral",
            "intake",
            "assessment",
            "preparation",
            "encounter",
            "agreement",
            "follow_up",
            "closed",
            "paused",
        }
    )


@pytest.mark.parametrize(("stage", "action"), ALL_PAIRS)
def test_it_answers_every_stage_action_pair(stage, action):
    try:
        transition = workflow.transition_for(stage, action)
    except workflow.NotAllowed:
        assert (stage, action) not in {(t.source, t.action) for t in workflow.TRANSITIONS}
        return
    assert transition.source == stage
    assert transition.target in workflow.STAGES or transition.target == workflow.RETURN_TO_PAUSED_FROM
    assert all(g in readiness.GUARDS for g in transition.guards)


def test_it_reaches_every_stage_from_referral():
    reached, frontier = {workflow.REFERRAL}, [workflow.REFERRAL]
    while frontier:
        stage = frontier.pop()
        for t in workflow.actions_from(stage):
            target = t.target if t.target != workflow.RETURN_TO_PAUSED_FROM else None
            if target and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(workflow.STAGES)


def test_it_allows_closing_and_pausing_from_every_active_stage():
    for stage in workflow.ACTIVE_STAGES:
        assert workflow.transition_for(stage, "close").target == workflow.CLOSED
        assert workflow.transition_for(stage, "pause").target == workflow.PAUSED


def test_it_guards_the_encounter():
    assert "encounter_ready" in workflow.transition_for(workflow.PREPARATION, "begin_encounter").guards


def test_it_resumes_to_the_stage_the_case_was_paused_from():
    resume = workflow.transition_for(workflow.PAUSED, "resume")
    assert workflow.target_of(resume, paused_from=workflow.ASSESSMENT) == workflow.ASSESSMENT
    with pytest.raises(workflow.NotAllowed):
        workflow.target_of(resume, paused_from="")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.sampled_from(workflow.ACTIONS), max_size=12))
def test_it_keeps_every_case_in_a_known_stage_whatever_is_tried(cast, actions):
    case = Case.objects.get(pk=cast.case.pk)
    case.stage, case.paused_from = workflow.REFERRAL, ""
    case.save()
    for action in actions:
        before = Case.objects.get(pk=case.pk)
        events = AuditEvent.objects.count()
        try:
            after = services.case_transition(
                actor=cast.facilitator,
                case=before,
                action=action,
                closure_reason="other" if action == "close" else "",
            )
        except Conflict:
            assert Case.objects.get(pk=case.pk).stage == before.stage
            assert AuditEvent.objects.count() == events
            continue
        expected = workflow.target_of(
            workflow.transition_for(before.stage, action), paused_from=before.paused_from
        )
        assert after.stage == expected
        assert AuditEvent.objects.count() == events + 1
        assert after.stage in workflow.STAGES
