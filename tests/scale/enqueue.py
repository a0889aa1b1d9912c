"""Work for the scale-out test's job workers, done from a server's side with its environment:

    python -m tests.scale.enqueue expire     sessions that have expired, for the purge job to drop
    python -m tests.scale.enqueue queue N    `mend.accounts.tasks.sessions_purge`, queued N times

Run it from the repository root; it prints one JSON line, last: the session keys, or the job ids.
"""

import json
import os
import sys


def expire() -> list[str]:
    from datetime import timedelta
    from importlib import import_module

    from django.conf import settings
    from django.utils import timezone

    keys = []
    for _ in range(3):
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session["visit"] = "over"
        session.set_expiry(timezone.now() - timedelta(hours=1))
        session.create()
        keys.append(session.session_key)
    return keys


def queue(jobs: int) -> list[str]:
    from mend.accounts.tasks import sessions_purge

    return [sessions_purge.enqueue().id for _ in range(jobs)]


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    done = expire() if sys.argv[1] == "expire" else queue(int(sys.argv[2]))
    sys.stdout.write("\n" + json.dumps(done) + "\n")
