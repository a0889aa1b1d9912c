"""The stage table: which action leads from which stage to which, and the guards each must pass.

Pure Python, no ORM, so that a reader can check it against the process it describes and the tests
can walk every (stage, action) pair. Guards are named here (each the condition that must hold) and
evaluated by `mend.readiness.rules.GUARDS`, which says what is still missing for each.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_noop as _

REFERRAL = "referral"
INTAKE = "intake"
ASSESSMENT = "assessment"
PREPARATION = "preparation"
ENCOUNTER = "encounter"
AGREEMENT = "agreement"
FOLLOW_UP = "follow_up"
CLOSED = "closed"
PAUSED = "paused"

STAGES = [REFERRAL, INTAKE, ASSESSMENT, PREPARATION, ENCOUNTER, AGREEMENT, FOLLOW_UP, CLOSED, PAUSED]
ACTIVE_STAGES = [REFERRAL, INTAKE, ASSESSMENT, PREPARATION, ENCOUNTER, AGREEMENT, FOLLOW_UP]

# Where "resume" leads is the stage the case was paused from; the service supplies it.
RETURN_TO_PAUSED_FROM = "<paused_from>"


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str
    guards: tuple[str, ...] = ()
    label: str = ""


def _t(action, source, target, guards=(), label=""):
    return Transition(action, source, target, tuple(guards), label)


TRANSITIONS: list[Transition] = [
    _t("accept_referral", REFERRAL, INTAKE, label=_("Accept the referral")),
    _t("start_assessment", INTAKE, ASSESSMENT, ["facilitator_assigned"], _("Start assessment")),
    _t("start_preparation", ASSESSMENT, PREPARATION, ["parties_joined"], _("Start preparation")),
    _t("begin_encounter", PREPARATION, ENCOUNTER, ["encounter_ready"], _("Begin the encounter")),
    _t("draft_agreement", ENCOUNTER, AGREEMENT, label=_("Move to the agreement")),
    _t("start_follow_up", AGREEMENT, FOLLOW_UP, label=_("Start follow-up")),
    *[_t("close", stage, CLOSED, label=_("Close the case")) for stage in ACTIVE_STAGES],
    _t("close", PAUSED, CLOSED, label=_("Close the case")),
    *[_t("pause", stage, PAUSED, label=_("Pause the case")) for stage in ACTIVE_STAGES],
    _t("resume", PAUSED, RETURN_TO_PAUSED_FROM, ["each_side_taking_part"], _("Resume the case")),
    _t("reopen", CLOSED, INTAKE, ["facilitator_assigned"], _("Reopen the case")),
]

ACTIONS = sorted({t.action for t in TRANSITIONS})
_BY_KEY = {(t.source, t.action): t for t in TRANSITIONS}


class NotAllowed(Exception):
    """The action does not lead anywhere from this stage."""


def transition_for(stage: str, action: str) -> Transition:
    try:
        return _BY_KEY[(stage, action)]
    except KeyError:
        raise NotAllowed(f"{action!r} is not possible from {stage!r}") from None


def actions_from(stage: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == stage]


def target_of(transition: Transition, *, paused_from: str) -> str:
    if transition.target == RETURN_TO_PAUSED_FROM:
        if paused_from not in ACTIVE_STAGES:
            raise NotAllowed("this case has no stage to resume to")
        return paused_from
    return transition.target
