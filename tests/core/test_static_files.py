"""Static files under ASGI: served whole, and without Django's warning that it must consume a synchronous
iterator (printed once per file at every start before)."""

import warnings

from asgiref.sync import async_to_sync
from django.test import AsyncClient


def test_a_static_file_is_served_whole_over_asgi_without_a_warning():
    async def fetch():
        response = await AsyncClient().get("/static/mend/i18n.js")
        return response.status_code, b"".join([chunk async for chunk in response.streaming_content])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        status, body = async_to_sync(fetch)()
    assert status == 200
    assert b"export function gettext" in body
