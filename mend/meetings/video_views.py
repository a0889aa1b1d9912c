"""The page that holds a meeting's video room. The room itself runs in the browser (static/mend/video.js)
and over its websocket (mend.meetings.consumer); this page gives them what they need, as data attributes."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from mend.meetings import contexts
from mend.meetings.access import access_meeting


@require_GET
def room(request, session_id):
    meeting = access_meeting(request.user, session_id)
    return render(request, "meetings/room.html", contexts.room_page(meeting))
