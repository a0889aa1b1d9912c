"""Seeds a conversation case (tests/e2e/dialogue_seed.py) with an interpreter for the person harmed: Linden,
attached to Sorrel, who has joined with a phrase the tests know and consents to take part. Sorrel has not
agreed to an interpreter yet. Run it as dialogue_seed.py is run; it prints one JSON line, last. Every name
here is invented.

    interpreter_seed.py TAG
"""

import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def seed(tag: str) -> dict:
    from mend import builders
    from mend.accounts.keys import join_credentials
    from mend.cases.models import Case, Participant
    from tests.e2e import dialogue_seed

    seeded = dialogue_seed.seed(tag)
    case = Case.objects.get(reference=seeded["case_reference"])
    sorrel = Participant.objects.get(case=case, pseudonym=seeded["harmed_pseudonym"])
    facilitator = Participant.objects.get(case=case, role="facilitator").user
    name = f"linden-{tag}"
    linden = builders.join(
        actor=facilitator,
        case=case,
        role="interpreter",
        pseudonym="Linden",
        supports=sorrel,
        credentials=join_credentials(name, dialogue_seed.PHRASE),
    )
    builders.give_consent(linden, "take_part")
    return {**seeded, "interpreter_sign_in": name}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    tag = sys.argv[1] if len(sys.argv) > 1 else secrets.token_hex(3)
    sys.stdout.write("\n" + json.dumps(seed(tag)) + "\n")
