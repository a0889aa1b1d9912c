"""The page that holds a meeting's video room. The room itself runs in the browser (static/mend/video.js)
and over its websocket (mend.meetings.consumer); this page gives them what they need, as data attributes."""

import json

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from mend.meetings import rules
from mend.meetings.access import access_room


@require_GET
def room(request, session_id):
    session, person = access_room(request.user, session_id)
    everyone = rules.attendees(session)
    program = session.case.program if session.case_id else session.circle.program
    facilitates = rules.facilitates(session, person)
    large = len(everyone) > rules.ROOM_SIZE
    barred = rules.person_missing(session, person)
    missing = rules.signalling_missing(session, person)
    if facilitates:
        why = _("Waiting for: %(items)s.") % {"items": "; ".join(missing)} if missing else ""
    elif barred:
        # Only that it is not open to them: never what another person did or did not consent to.
        why = _("This meeting is not open to you at the moment. Your facilitator will be in touch.")
    else:
        why = _("The meeting is not open yet. You will come in as soon as your facilitator opens it.")
    ice = settings.MEND_ICE_SERVERS
    # With a TURN server, all media goes through it, so nobody learns another person's network address.
    relay = any(str(url).startswith(("turn:", "turns:")) for s in ice for url in _urls(s))
    context = {
        "session": session,
        "case": session.case,
        "circle": session.circle,
        "large": large,
        "jitsi_url": program.jitsi_url if large else "",
        "may_enter": not large and not barred,
        "why": why if missing else "",
        "facilitates": facilitates,
        "me": rules.person_id(person),
        "ws_path": f"/ws/meetings/{session.pk}/",
        "ice_json": json.dumps(ice),
        "relay": relay,
        "names_json": json.dumps({rules.person_id(p): rules.name_of(session, p) for p in everyone}),
        "facilitators_json": json.dumps(
            [rules.person_id(p) for p in everyone if rules.facilitates(session, p)]
        ),
        "others": [
            {"id": rules.person_id(p), "name": rules.name_of(session, p)}
            for p in everyone
            if not rules.facilitates(session, p)
        ],
    }
    return render(request, "meetings/room.html", context)


def _urls(server: dict) -> list[str]:
    urls = server.get("urls", [])
    return [urls] if isinstance(urls, str) else list(urls)
