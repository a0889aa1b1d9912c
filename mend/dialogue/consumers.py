"""The websocket of one conversation: resume from a sequence, send with acknowledgment after storing,
receipts, and live delivery to the people a message was encrypted to."""

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404
from django.utils.translation import gettext as _

from mend.accounts.middleware import second_factor_missing
from mend.accounts.offboarding import socket_still_signed_in
from mend.core import edges
from mend.core.envelope import MESSAGE_KINDS
from mend.core.realtime import InTheirLanguage, person_group
from mend.dialogue import selectors, services
from mend.dialogue.access import access_conversation, access_conversation_and_places

FRAME_TYPES = ("hello", "send", "receipt", "members")
KINDS = MESSAGE_KINDS  # one list of kinds: envelope v2's


def _error(message: str, **extra) -> dict:
    return {"type": "error", "error": message, **extra}


def _refused(error, message_id) -> dict:
    """A message the server will not store: the client keeps it, and `code` says which check refused it."""
    return {
        "type": "refused",
        "id": message_id,
        "code": getattr(error, "code", "conflict"),
        "error": error.message,
    }


class ConversationConsumer(InTheirLanguage, AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        public_id = self.scope["url_route"]["kwargs"]["public_id"]
        try:
            if (
                user is None
                or not user.is_authenticated
                or second_factor_missing(user, self.scope["session"])
            ):
                raise Http404
            conversation = await database_sync_to_async(access_conversation)(user, public_id)
        except Http404:
            await self.close(code=4404)
            return
        self.user = user
        self.public_id = public_id
        self.conversation = conversation
        self.group = services.conversation_group(conversation.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Signing out, here or on another tab (the quick exit too), closes this socket at once.
        self.user_group = person_group(user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = json.loads(text_data) if text_data is not None else None
        except (ValueError, RecursionError):  # RecursionError: nesting too deep for the parser
            content = None
        if not isinstance(content, dict) or content.get("type") not in FRAME_TYPES:
            await self.send_json(
                _error(f"Send a JSON object whose type is one of: {', '.join(FRAME_TYPES)}.")
            )
            return
        await getattr(self, f"on_{content['type']}")(content)

    # Each frame is checked afresh, in one trip to the database thread with its work: whether the person is
    # still signed in and still belongs here can change at any moment.

    def _signed_in(self) -> None:
        # The session row, and the account read afresh: active, and the session's auth hash still its own
        # (a recovery's new passphrase or a deactivation ends this socket at its next frame or delivery).
        if not socket_still_signed_in(self.scope["session"], self.user):
            raise Http404

    @database_sync_to_async
    def _may_deliver(self) -> bool:
        try:
            self._signed_in()
        except Http404:
            return False
        return True

    async def _signed_out(self):
        await self.send_json(_error(_("You have signed out.")))
        await self.close(code=4401)

    def _conversation(self):
        self._signed_in()
        return access_conversation(self.user, self.public_id)

    async def _leave(self):
        await self.send_json(_error(_("You are no longer in this conversation.")))
        await self.close(code=4404)

    @database_sync_to_async
    def _resume(self, after: int):
        conversation = self._conversation()
        return conversation, *self._page(conversation, after)

    @database_sync_to_async
    def _next_page(self, conversation, after: int):
        return self._page(conversation, after)

    def _page(self, conversation, after: int):
        frames = selectors.backlog(conversation, self.user, after)
        # With the last page, the receipts on one's own messages (later ones come live).
        last = len(frames) < selectors.PAGE
        return frames, selectors.receipts_of(conversation, self.user) if last else None

    async def on_hello(self, content):
        after = content.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= selectors.MAX_SEQ:
            words = _("hello.after must be the last sequence number you saw, 0 or more.")
            await self.send_json(_error(words))
            return
        try:
            conversation, frames, receipts = await self._resume(after)
        except Http404:
            await self._leave()
            return
        while True:
            for frame in frames:
                await self.send_json(frame)
                self.sent_upto = max(getattr(self, "sent_upto", 0), frame["seq"])
            if receipts is not None:
                break
            after = frames[-1]["seq"]
            frames, receipts = await self._next_page(conversation, after)
        for receipt in receipts:
            await self.send_json(receipt)
        await self.send_json({"type": "ready", "last_seq": frames[-1]["seq"] if frames else after})

    @database_sync_to_async
    def _members(self, kind: str) -> dict:
        self._signed_in()
        # The case's places as the access check read them, passed on: read once for the whole frame.
        conversation, places = access_conversation_and_places(self.user, self.public_id)
        members = selectors.members(conversation, places)
        return {"members": members, **selectors.writing_state(conversation, self.user, kind, places=places)}

    async def on_members(self, content):
        kind = content.get("kind", "message")
        if kind not in KINDS:
            await self.send_json(_error(f"members.kind must be one of: {', '.join(KINDS)}."))
            return
        try:
            answer = await self._members(kind)
        except Http404:
            await self._leave()
            return
        await self.send_json({"type": "members", **answer})

    @database_sync_to_async
    def _post(self, envelope) -> edges.Outcome:
        self._signed_in()
        # The service reads the conversation and the people in it afresh, under its lock, and refuses someone
        # no longer in it before anything else (NotInConversation).
        return edges.attempt(
            lambda: services.message_post(actor=self.user, conversation=self.conversation, envelope=envelope)
        )

    async def on_send(self, content):
        envelope = content.get("envelope")
        message_id = envelope.get("id") if isinstance(envelope, dict) else None
        try:
            outcome = await self._post(envelope)
        except Http404:
            outcome = None
        if outcome is None or isinstance(outcome.error, services.NotInConversation):
            await self._leave()
        elif outcome.error is not None:
            await self.send_json(_refused(outcome.error, message_id))
        else:
            # Only now, with the message committed, is it acknowledged.
            message, created = outcome.value
            await self.send_json(
                {"type": "ack", "id": message.message_id, "seq": message.seq, "duplicate": not created}
            )

    @database_sync_to_async
    def _receipt(self, message_id: str, kind: str) -> edges.Outcome:
        conversation = self._conversation()
        return edges.attempt(
            lambda: services.receipt_record(
                actor=self.user, message_id=message_id, kind=kind, conversation=conversation
            )
        )

    async def on_receipt(self, content):
        message_id, kind = content.get("id"), content.get("kind")
        if not isinstance(message_id, str) or kind not in ("delivered", "read"):
            await self.send_json(_error(_("A receipt needs the message id and a kind: delivered or read.")))
            return
        try:
            outcome = await self._receipt(message_id, kind)
        except Http404:
            await self._leave()
            return
        if outcome.error is not None:
            await self.send_json(_error(outcome.error.message, id=message_id))

    async def dialogue_message(self, event):
        # A message stored between joining the group and reading the backlog comes both ways: send it once.
        if self.user.pk in event["recipients"] and event["seq"] > getattr(self, "sent_upto", 0):
            if not await self._may_deliver():
                await self._leave()
                return
            await self.send(text_data=event["text"])

    async def dialogue_receipt(self, event):
        if event.get("sender") != self.user.pk:
            return
        if not await self._may_deliver():
            await self._leave()
            return
        await self.send_json(
            {"type": "receipt", "id": event["id"], "user": event["user"], "kind": event["kind"]}
        )

    async def dialogue_state(self, event):
        # Not tied to a message's recipients as a message is: told only to someone still in the conversation.
        if not await self._still_here():
            await self._leave()
            return
        await self.send_json({"type": "state", "id": event["id"], "relay_state": event["relay_state"]})

    async def person_signed_out(self, event):
        await self._signed_out()

    @database_sync_to_async
    def _still_here(self) -> bool:
        try:
            self._conversation()
        except Http404:
            return False
        return True

    async def person_access_changed(self, event):
        # Removed from a program (mend.accounts.offboarding): still here only if this conversation is still
        # theirs, as the next frame would find.
        if not await self._still_here():
            await self._leave()
