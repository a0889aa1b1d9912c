"""What each stage means for a person taking part, in short and plain words."""

from django.utils.translation import gettext_lazy as _

from mend.cases import workflow

NEXT_FOR_PARTICIPANT = {
    workflow.REFERRAL: _("Your facilitator is looking at how the program can help. They will be in touch."),
    workflow.INTAKE: _(
        "Your facilitator will talk with you about what you hope for, and answer your questions."
    ),
    workflow.ASSESSMENT: _(
        "Your facilitator will meet with you to see if this process is right for you now."
    ),
    workflow.PREPARATION: _(
        "You and your facilitator will get ready together. Nothing happens until you are ready."
    ),
    workflow.ENCOUNTER: _("The exchange you agreed to is happening. You can take a break at any time."),
    workflow.AGREEMENT: _("Everyone is working out an agreement about how to repair the harm."),
    workflow.FOLLOW_UP: _("Your facilitator is following up on what was agreed."),
    workflow.CLOSED: _("This process has ended. Thank you for taking part."),
    workflow.PAUSED: _("The process is paused for now. Nothing will happen until it starts again."),
}

# For a person off their own path, whatever the case's stage: what happens for them, and how they come back.
ON_A_BREAK = _(
    "You are taking a break. Nothing is scheduled with you until you say you are ready again. "
    "The others may go on in the meantime."
)
STEPPED_BACK = _(
    "You are not taking part at the moment, so nothing new will reach you. "
    "If you want to come back, you can give your consent again whenever you are ready."
)
