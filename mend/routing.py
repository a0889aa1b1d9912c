"""Websocket routes. Every consumer checks its case through the access functions before joining a group."""

from channels.auth import AuthMiddlewareStack
from django.conf import settings
from django.urls import path

from mend.cases.consumers import CaseEventsConsumer
from mend.core.origin import SameOriginValidator
from mend.dialogue.consumers import ConversationConsumer
from mend.meetings.room_urls import meeting_websocket_urlpatterns

websocket_urlpatterns = [
    path("ws/cases/<str:reference>/", CaseEventsConsumer.as_asgi()),
    path("ws/conversations/<str:public_id>/", ConversationConsumer.as_asgi()),
    *meeting_websocket_urlpatterns,
]

if settings.MEND_BENCH:  # the benchmark's bare baselines, local runs only (mend.env, bench/README.md)
    from mend.bench.urls import websocket_urlpatterns as bench_patterns

    websocket_urlpatterns += bench_patterns


def _router():
    from channels.routing import URLRouter

    return SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))


websocket_application = _router()
