"""The default plain-language text of each consent scope. Programs may replace them with their own."""

from django.utils.translation import gettext_noop as _

DEFAULT_TEXTS = {
    "take_part": _(
        "I want to take part in this restorative process. I know I can take a break or stop at any time, "
        "without giving a reason."
    ),
    "facilitator_contact": _(
        "My facilitator may contact me through Mend about this process. I can ask them to stop at any time."
    ),
    "indirect_exchange": _(
        "I agree to exchange messages with the other person through my facilitator. My facilitator reads "
        "them first and only passes them on with my approval."
    ),
    "direct_meeting": _(
        "I agree to meet the other person, in person or by video, with my facilitator there. I can leave the "
        "meeting at any time."
    ),
    "supporters_present": _("People who support me may be present when I take part."),
    "progress_updates": _(
        "I want to hear about the other person's progress on what they agreed to do, in the way I choose."
    ),
    "share_statement": _("My facilitator may share my statement with the other side."),
    "data_processing": _(
        "The program may keep what I share and use it for this process only. It keeps it for a set time, "
        "which it will tell me. I can ask to see my information, or ask for it to be deleted."
    ),
    "interpreter": _(
        "An interpreter may join my conversations and meetings to help me. They read what I read and write, "
        "and keep it private. I can take this back at any time, and they leave at once."
    ),
}
