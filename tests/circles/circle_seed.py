"""Seeds, for the browser journey of minutes, a case as tests/e2e/dialogue_seed.py makes it, plus a circle
of support and accountability kept by its facilitator around its person responsible, with one meeting that
ended an hour ago. Run with the venv's python in the server's environment; prints one JSON line, last."""

import json
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def seed(tag: str) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from mend.accounts.models import User
    from mend.cases.models import Participant
    from mend.circles import standing
    from mend.meetings.models import Meeting
    from tests.e2e.dialogue_seed import seed as seed_case

    seeded = seed_case(tag)
    keeper = User.objects.get(username=seeded["facilitator_email"])
    brook = Participant.objects.get(case__reference=seeded["case_reference"], pseudonym="Brook")
    circle = standing.circle_create(
        actor=keeper,
        program=brook.case.program,
        kind="cosa",
        name="Wednesday circle",
        keeper=keeper,
        starts_on=timezone.localdate() - timedelta(days=7),
    )
    core = standing.member_add(actor=keeper, circle=circle, user=brook.user, role="core", name="Kauri")
    # Held already: set up directly, since a meeting is only ever scheduled ahead.
    session = Meeting.objects.create(
        circle=circle,
        kind="circle",
        format="in_person",
        starts_at=timezone.now() - timedelta(hours=3),
        time_zone="Pacific/Auckland",
        duration_minutes=120,
        created_by=keeper,
    )
    session.member_attendees.set([core])
    return {**seeded, "circle_id": circle.pk, "session_id": session.pk}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    tag = sys.argv[1] if len(sys.argv) > 1 else secrets.token_hex(3)
    sys.stdout.write("\n" + json.dumps(seed(tag)) + "\n")
