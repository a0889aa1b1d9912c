"""A meeting's room (video), under /meetings/<session_id>/, and its websocket (mounted in mend/urls.py and
mend/routing.py)."""

from django.urls import path

from mend.meetings import video_views
from mend.meetings.consumer import MeetingConsumer

meeting_patterns = ([path("", video_views.room, name="room")], "meetings")
meeting_websocket_urlpatterns = [path("ws/meetings/<int:session_id>/", MeetingConsumer.as_asgi())]
