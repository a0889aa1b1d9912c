"""A case's live events (stage changes, people joining) for those allowed to see the case."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from mend.accounts.middleware import second_factor_missing
from mend.cases.access import access_case
from mend.core.realtime import case_group


class CaseEventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        reference = self.scope["url_route"]["kwargs"]["reference"]
        try:
            if (
                user is None
                or not user.is_authenticated
                or second_factor_missing(user, self.scope["session"])
            ):
                raise Http404
            case = await database_sync_to_async(access_case)(user, reference)
        except Http404:
            await self.close(code=4404)
            return
        self.group = case_group(case.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # This channel only speaks: any frame, well-formed or not, is answered with a clear refusal.
        await self.send_json({"error": "This connection only sends updates. Use the page's buttons to act."})

    async def case_event(self, event):
        await self.send_json({k: v for k, v in event.items() if k != "type"})
