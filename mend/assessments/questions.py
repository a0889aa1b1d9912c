"""The default readiness and safety questions, drawn from restorative-justice practice."""

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

# Each question: a stable id, the section it belongs to, and the words a facilitator asks or reads.
DEFAULT_QUESTIONS = [
    {
        "id": "motivation",
        "section": "readiness",
        "text": _("What brings this person to the process, and what do they hope for?"),
    },
    {
        "id": "understanding",
        "section": "readiness",
        "text": _("Do they understand how the process works, that it is voluntary, and that they can stop?"),
    },
    {
        "id": "support",
        "section": "readiness",
        "text": _("Who supports them: family, friends, community, professionals?"),
    },
    {
        "id": "retraumatisation",
        "section": "safety",
        "text": _("What could re-open the harm for them, and how can it be avoided?"),
    },
    {
        "id": "power_imbalance",
        "section": "safety",
        "text": _("Is there a power imbalance between the parties (age, position, money, threats)?"),
    },
    {
        "id": "contact_and_risk",
        "section": "safety",
        "text": _("Is there current contact between the parties? Is there a risk to anyone's safety?"),
    },
    {
        "id": "counselling",
        "section": "readiness",
        "text": _("Do they have access to counselling or other care if they need it?"),
    },
]

DIGITAL_QUESTIONS = [
    {
        "id": "account_security",
        "section": "digital",
        "text": _("Are their accounts and devices secure (passwords, two-step sign-in, shared devices)?"),
    },
    {
        "id": "data_exposure",
        "section": "digital",
        "text": _("What personal data of theirs is exposed online, and what is being done about it?"),
    },
]


def default_questions(*, cybercrime: bool) -> list[dict]:
    """Mend's questions in the language being shown (a program's own questions are in its own words)."""
    return [
        {**q, "text": gettext(q["text"])}
        for q in DEFAULT_QUESTIONS + (DIGITAL_QUESTIONS if cybercrime else [])
    ]
