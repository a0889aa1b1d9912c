"""Seeds a browser server's throwaway database with the permission matrix's cast (tests.builders.build_cast
and tests/test_permission_matrix.py's build_extra), and prints, as one JSON line, last:

- "cookie": the session cookie's name;
- "sessions": for each role of the matrix but the anonymous one, a ready session key (staff with their
  second factor checked, as tests.builders.signed_in makes them);
- "pages": for each GET row of PAGE_CALLS, the path the matrix asks for.

Run with the venv's python in the server's environment, as tests/e2e/conftest.py runs seed.py. Every name in
the cast is invented.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def seed() -> dict:
    from django.conf import settings
    from django.test import override_settings

    from tests import test_permission_matrix as matrix
    from tests.builders import FAST_HASHERS, build_cast

    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        cast = build_cast()
        extra = matrix.build_extra(cast)
    sessions = {}
    for role in matrix.ROLES:
        if role == "anonymous":
            continue
        client = matrix.client_for(cast, role)
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    pages = {
        name: call(cast, extra, cast.case.reference).path
        for (name, method), call in matrix.PAGE_CALLS.items()
        if method == "GET"
    }
    return {"cookie": settings.SESSION_COOKIE_NAME, "sessions": sessions, "pages": pages}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    # One JSON line on stdout, last, so that anything else printed cannot be mistaken for it.
    sys.stdout.write("\n" + json.dumps(seed()) + "\n")
