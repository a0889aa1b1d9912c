"""A meeting's room (video), under /meetings/<session_id>/, and its websocket (mounted in mend/urls.py and
mend/routing.py)."""

meeting_patterns = ([], "meetings")
meeting_websocket_urlpatterns = []
