"""A case's live events (stage changes, people joining) for the staff who run the case, and nobody else.

People taking part get none: an event such as "someone joined" would tell one side of the case about the
other (a supporter of the person harmed, say). Each event is sent only after the person is checked again:
still signed in with this session, account active, and still running the case."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from mend.accounts.middleware import second_factor_missing
from mend.accounts.offboarding import socket_still_signed_in
from mend.cases.access import access_managed_case, manages_case
from mend.core.realtime import case_group, person_group


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
            case = await database_sync_to_async(access_managed_case)(user, reference)
        except Http404:
            await self.close(code=4404)
            return
        self.user = user
        self.case_id = case.pk
        self.group = case_group(case.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Signing out, deactivation and leaving the program reach this socket at once.
        self.user_group = person_group(user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    @database_sync_to_async
    def _still_allowed(self) -> bool:
        return socket_still_signed_in(self.scope["session"], self.user) and manages_case(
            self.user, self.case_id
        )

    async def _checked(self) -> bool:
        if await self._still_allowed():
            return True
        await self.close(code=4404)
        return False

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # This channel only speaks: any frame, well-formed or not, is answered with a clear refusal.
        if await self._checked():
            await self.send_json(
                {"error": "This connection only sends updates. Use the page's buttons to act."}
            )

    async def case_event(self, event):
        if await self._checked():
            await self.send_json({k: v for k, v in event.items() if k != "type"})

    async def person_signed_out(self, event):
        await self.close(code=4401)

    async def person_access_changed(self, event):
        await self._checked()
