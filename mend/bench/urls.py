"""The baseline routes, added to mend.urls and mend.routing only when settings.MEND_BENCH is on."""

from django.urls import path

from mend.bench import consumers, views

urlpatterns = [
    path("bench/json/", views.bare_json, name="bench_json"),
    path("bench/row/", views.bare_row, name="bench_row"),
]

websocket_urlpatterns = [
    path("ws/bench/echo/", consumers.EchoConsumer.as_asgi()),
    path("ws/bench/group/<str:name>/", consumers.GroupConsumer.as_asgi()),
]
