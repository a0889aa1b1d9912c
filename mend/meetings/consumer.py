"""A meeting's video room, its websocket: it carries WebRTC signalling between the people attending.

Media never passes through Mend: browsers connect to each other (a mesh of up to six) and encrypt what they
send (DTLS-SRTP). The server only relays offers, answers and ICE candidates, and only between people who may
connect now (rules.peers_for). Nothing is recorded. Every change to the room is announced to its group
(mend.meetings.room_state); each socket then reads the shared state again and tells its browser whom to
connect to and whom to drop."""

import asyncio
import contextlib
import json
import secrets
import time
from functools import partial

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.cache import cache
from django.http import Http404
from django.utils.translation import gettext as _

from mend.accounts.middleware import second_factor_missing
from mend.accounts.offboarding import socket_still_signed_in
from mend.core import edges
from mend.core.realtime import InTheirLanguage, person_group
from mend.meetings import rules
from mend.meetings.access import access_meeting
from mend.meetings.frames import (
    FACILITATOR_FRAMES,
    FRAME_TYPES,
    MAX_FRAME,
    PERSON_ID,
    bool_pair,
    signal_problem,
)
from mend.meetings.room import meeting_break_set, meeting_end_in_room, meeting_open_in_room, meeting_side_room
from mend.meetings.room_state import PRESENCE_SECONDS, group_of, room_key

HEARTBEAT_SECONDS = 15  # how often a socket renews its presence and checks its person may stay
# Per connection: a burst (the candidates of five new connections at once) and a steady rate after it.
BURST, PER_SECOND = 150, 30

# Close codes: refused or removed (the same as a meeting that does not exist), signed out, the same person
# joined from another window, and an ordinary close when the meeting ends.
REFUSED, SIGNED_OUT, REPLACED, NORMAL = 4404, 4401, 4409, 1000


class MeetingConsumer(InTheirLanguage, AsyncJsonWebsocketConsumer):
    """One person's socket in one meeting's room. It may connect only while the person is invited and the
    guards hold for them; it signals only once they have joined an open meeting, and only with the people
    rules.peers_for allows. Every frame is checked again (signals at most once a second), and a heartbeat
    checks between frames."""

    async def connect(self):
        self._start()
        state = await self._admitted(self.scope.get("user"))
        if state is None or state["person_missing"]:
            # Not signed in, not invited, withdrew, on a break, no longer invited: nothing at all.
            await self.close(code=REFUSED)
            return
        self.state, self.checked_at = state, time.monotonic()
        self.pid = state["id"]
        self.facilitates = state["facilitates"]
        self.nonce = secrets.token_urlsafe(9)
        self.group = group_of(self.session_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Signing out, here or on another tab (the quick exit too), closes this socket at once.
        self.user_group = person_group(self.user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()
        self.heartbeat = asyncio.ensure_future(self._heartbeat())

    def _start(self) -> None:
        self.session_id = self.scope["url_route"]["kwargs"]["session_id"]
        self.joined = False
        self.waiting = False
        self.peers: dict[str, str] = {}  # whom the browser should be connected with: id -> their nonce
        self.side: set[str] = set()
        self.tokens, self.refilled, self.checked_at = float(BURST), time.monotonic(), 0.0

    async def _admitted(self, user) -> dict | None:
        """The state of a signed-in person (second factor given) who is in the meeting; None otherwise."""
        if user is None or not user.is_authenticated or second_factor_missing(user, self.scope["session"]):
            return None
        self.user = user
        try:
            return await self._state()
        except Http404:
            return None

    async def disconnect(self, code):
        if not hasattr(self, "group"):
            return
        self.heartbeat.cancel()
        await self._leave_room()
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await self.channel_layer.group_discard(self.user_group, self.channel_name)

    # --- reading the state ---------------------------------------------------------------------------------

    @database_sync_to_async
    def _state(self) -> dict:
        """Who this person is in the meeting and what stands in their way now, read afresh; Http404 when
        they are not in it (signed out, not invited, the meeting gone)."""
        # The session and the account read afresh: active, with the session's auth hash still its own.
        if not socket_still_signed_in(self.scope["session"], self.user):
            raise Http404
        access = access_meeting(self.user, self.session_id)
        meeting, person = access.session, access.person
        pid = rules.person_id(person)
        if getattr(self, "pid", pid) != pid:
            raise Http404
        everyone = rules.attendees(meeting)
        return {
            "session": meeting,
            "person": person,
            "id": pid,
            "facilitates": rules.facilitates(meeting, person),
            "person_missing": rules.person_missing(meeting, person),
            "meeting_missing": rules.meeting_live_missing(meeting, person),
            "facilitators": {rules.person_id(p) for p in everyone if rules.facilitates(meeting, p)},
            "attendees": [rules.person_id(p) for p in everyone],
            # Whom this person may not see, nor be seen by (rules.unseen_by): never connected, never named.
            "unseen": {f"p{pk}" for pk in rules.unseen_by(meeting, person, both_ways=True)},
            "on_break": meeting.on_break,
        }

    async def _checked(self) -> dict | None:
        """The state, if this person may still be here; otherwise they are told, and the socket closes."""
        try:
            state = await self._state()
        except Http404:
            state = None
        if state is None or state["person_missing"]:
            await self._close("removed", _("You are no longer in this meeting."), REFUSED)
            return None
        if self.joined and state["meeting_missing"]:
            await self._close("ended", _("The meeting is not open any more."), NORMAL)
            return None
        self.state, self.checked_at = state, time.monotonic()
        return state

    def _waiting_words(self, state: dict) -> str:
        """What a person waiting is told. Facilitators learn what is missing; everyone else only that the
        meeting is not open, never anything about another person."""
        if self.facilitates:
            return _("Waiting for: %(items)s.") % {"items": "; ".join(state["meeting_missing"])}
        return _("The meeting is not open yet. You will come in as soon as your facilitator opens it.")

    async def _present(self) -> dict[str, dict]:
        """Who is in the room now, of the people attending: id -> their presence."""
        keys = {room_key(self.session_id, "peer", pid): pid for pid in self.state["attendees"]}
        found = await cache.aget_many(list(keys))
        return {keys[key]: value for key, value in found.items() if isinstance(value, dict)}

    async def _connectable(self) -> dict[str, dict]:
        present = await self._present()
        self.side = set(await cache.aget(room_key(self.session_id, "side")) or [])
        ids = rules.peers_for(self.pid, self.state["facilitators"], set(present), self.side)
        return {pid: present[pid] for pid in sorted(ids - self.state["unseen"])}

    def _side_seen(self) -> list[str]:
        """Who is in the side room, of the people this person may see."""
        return sorted(self.side - self.state["unseen"])

    async def _sync_peers(self) -> None:
        """Works out afresh whom this browser should be connected with, and tells it who came and who went."""
        if not self.joined:
            return
        now = await self._connectable()
        for pid, nonce in list(self.peers.items()):
            if pid not in now or now[pid]["nonce"] != nonce:
                await self.send_json({"type": "left", "id": pid})
        for pid, value in now.items():
            if self.peers.get(pid) != value["nonce"]:
                await self.send_json({"type": "joined", **_public(pid, value)})
        self.peers = {pid: value["nonce"] for pid, value in now.items()}

    # --- frames --------------------------------------------------------------------------------------------

    def _take_token(self) -> bool:
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self.refilled) * PER_SECOND)
        self.refilled = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        content, problem = self._parse(text_data)
        if problem:
            await self._error(problem)
            return
        kind = content["type"]
        # Whether the person may still be here, read afresh; a burst of candidates is checked once a second.
        fresh = kind == "signal" and time.monotonic() - self.checked_at <= 1.0
        if not fresh and await self._checked() is None:
            return
        await getattr(self, f"on_{kind}")(content)

    def _parse(self, text_data) -> tuple[dict | None, str]:
        """The frame and "", or None and what is wrong with it (rate, size, shape, role, order)."""
        if not self._take_token():
            return None, _("Too many messages at once. Please wait a moment.")
        if text_data is None or len(text_data) > MAX_FRAME:
            return None, _("Send a JSON object of at most 64 KiB.")
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nesting too deep for the parser
            content = None
        if not isinstance(content, dict) or content.get("type") not in FRAME_TYPES:
            return None, _("Send a JSON object whose type is one of: %(types)s.") % {
                "types": ", ".join(FRAME_TYPES)
            }
        kind = content["type"]
        if kind in FACILITATOR_FRAMES and not self.facilitates:
            return None, _("Only the facilitator can do this.")
        if kind not in ("join", "leave") and not self.joined:
            return None, _("Join the meeting first.")
        return content, ""

    async def _error(self, message: str, **extra) -> None:
        await self.send_json({"type": "error", "error": message, **extra})

    async def on_join(self, content):
        media = bool_pair(content)
        if media is None:
            await self._error(_("join.audio and join.video must be true or false."))
            return
        state = self.state
        if self.joined:  # joining again (a retry that crossed the news): the same answer, afresh
            await self._send_peers(state)
            return
        missing = state["meeting_missing"]
        waiting = self._waiting_words(state) if missing else await self._open_if_needed(state)
        if waiting:
            await self.send_json({"type": "waiting", "message": waiting})
            self.waiting = True
            return
        self.waiting = False
        self.audio, self.video = media
        await self._enter_presence()
        self.joined = True
        await self.channel_layer.group_send(self.group, {"type": "meeting.changed"})
        await self._send_peers(state)

    async def _open_if_needed(self, state: dict) -> str:
        """Opens a meeting not yet open (only a facilitator gets this far with one:
        rules.meeting_live_missing); the refusal's words when it could not be opened, else ""."""
        if state["session"].opened_at is not None:
            return ""
        outcome = await self._attempt(meeting_open_in_room)
        return outcome.error.message if outcome.error is not None else ""

    async def _send_peers(self, state: dict) -> None:
        now = await self._connectable()
        self.peers = {pid: value["nonce"] for pid, value in now.items()}
        await self.send_json(
            {
                "type": "peers",
                "me": self.pid,
                "nonce": self.nonce,
                "peers": [_public(pid, value) for pid, value in now.items()],
                "break": state["on_break"],
                "side": self._side_seen(),
            }
        )

    def _presence(self) -> dict:
        return {"nonce": self.nonce, "channel": self.channel_name, "audio": self.audio, "video": self.video}

    async def _enter_presence(self) -> None:
        key = room_key(self.session_id, "peer", self.pid)
        earlier = await cache.aget(key)
        await cache.aset(key, self._presence(), PRESENCE_SECONDS)
        if isinstance(earlier, dict) and earlier.get("nonce") != self.nonce:
            # The same person in another window: that one gives way.
            with contextlib.suppress(ChannelFull):
                await self.channel_layer.send(earlier["channel"], {"type": "meeting.replaced"})

    async def _leave_room(self) -> None:
        if not self.joined:
            return
        self.joined = False
        self.peers = {}
        key = room_key(self.session_id, "peer", self.pid)
        current = await cache.aget(key)
        if isinstance(current, dict) and current.get("nonce") == self.nonce:
            await cache.adelete(key)
        await self.channel_layer.group_send(self.group, {"type": "meeting.changed"})

    async def on_leave(self, content):
        await self._leave_room()
        await self.close(code=NORMAL)

    async def on_signal(self, content):
        to, data = content.get("to"), content.get("data")
        if not isinstance(to, str) or not PERSON_ID.fullmatch(to):
            await self._error(_("signal.to must be the id of a person in the room."))
            return
        problem = signal_problem(data)
        if problem:
            await self._error(problem)
            return
        target = await self._connected(to)
        if target is None:
            await self._error(_("That person is not connected with you."), to=to)
            return
        try:
            await self.channel_layer.send(
                target["channel"],
                {"type": "meeting.signal", "from": self.pid, "nonce": self.nonce, "data": data},
            )
        except ChannelFull:
            await self._error(_("That person's connection is busy. Please try again."), to=to)

    async def _connected(self, to: str) -> dict | None:
        """The presence of a person this browser is connected with, or None (the peers read again)."""
        if to not in self.peers:
            await self._sync_peers()  # they may have come in a moment ago
        if to not in self.peers:
            return None
        target = await cache.aget(room_key(self.session_id, "peer", to))
        if not isinstance(target, dict) or target.get("nonce") != self.peers[to]:
            await self._sync_peers()
            return None
        return target

    async def on_media(self, content):
        media = bool_pair(content)
        if media is None:
            await self._error(_("media.audio and media.video must be true or false."))
            return
        self.audio, self.video = media
        await cache.aset(room_key(self.session_id, "peer", self.pid), self._presence(), PRESENCE_SECONDS)
        await self.channel_layer.group_send(
            self.group, {"type": "meeting.media", "id": self.pid, "audio": self.audio, "video": self.video}
        )

    async def _attempt(self, service, **kwargs) -> edges.Outcome:
        """Runs a room service as this person, in a thread; a refusal is kept in the outcome."""
        state = self.state
        call = partial(service, actor=self.user, session=state["session"], person=state["person"], **kwargs)
        return await database_sync_to_async(edges.attempt)(call)

    async def _facilitator_action(self, service, **kwargs):
        outcome = await self._attempt(service, **kwargs)
        if outcome.error is not None:
            await self._error(outcome.error.message)

    async def on_pause(self, content):
        await self._facilitator_action(meeting_break_set, on=True)

    async def on_resume(self, content):
        await self._facilitator_action(meeting_break_set, on=False)

    async def on_caucus(self, content):
        people = content.get("people")
        if (
            not isinstance(people, list)
            or not 1 <= len(people) <= rules.ROOM_SIZE
            or not all(isinstance(p, str) and PERSON_ID.fullmatch(p) for p in people)
            or len(set(people)) != len(people)
        ):
            await self._error(_("caucus.people must list the ids of the people to move to the side room."))
            return
        await self._facilitator_action(meeting_side_room, people=people)

    async def on_rejoin(self, content):
        await self._facilitator_action(meeting_side_room, people=[])

    async def on_end(self, content):
        await self._facilitator_action(meeting_end_in_room)

    async def _close(self, reason: str, message: str, code: int) -> None:
        await self.send_json({"type": "closed", "reason": reason, "message": message})
        await self._leave_room()
        await self.close(code=code)

    async def _heartbeat(self) -> None:
        """Keeps this person's presence alive, and checks between frames that they may still be here, so a
        change that no hook announced (a consent narrowed elsewhere) still ends their place within seconds."""
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                if await self._checked() is None:
                    return
                key = room_key(self.session_id, "peer", self.pid)
                if self.joined and not await cache.atouch(key, PRESENCE_SECONDS):
                    await cache.aset(key, self._presence(), PRESENCE_SECONDS)

    # --- events from the room ------------------------------------------------------------------------------

    async def meeting_changed(self, event):
        await self._sync_peers()

    async def meeting_caucus(self, event):
        if not self.joined:
            return
        await self._sync_peers()
        await self.send_json({"type": "room", "side": self._side_seen()})

    async def meeting_remove(self, event):
        if event["id"] == self.pid:
            await self._close("removed", _("You have left the meeting."), REFUSED)
        elif self.peers.pop(event["id"], None) is not None:
            await self.send_json({"type": "left", "id": event["id"]})

    async def meeting_break(self, event):
        if self.joined:
            await self.send_json({"type": "break", "on": event["on"]})

    async def meeting_media(self, event):
        if self.joined and event["id"] in self.peers:
            await self.send_json(
                {"type": "media", "id": event["id"], "audio": event["audio"], "video": event["video"]}
            )

    async def meeting_signal(self, event):
        if not self.joined:
            return
        if self.peers.get(event["from"]) != event["nonce"]:
            await self._sync_peers()  # the signal may have overtaken the news that they came in
        if self.joined and self.peers.get(event["from"]) == event["nonce"]:
            await self.send_json(
                {"type": "signal", "from": event["from"], "nonce": event["nonce"], "data": event["data"]}
            )

    async def meeting_opened(self, event):
        if self.waiting:
            await self.send_json({"type": "opened"})

    async def meeting_recheck(self, event):
        if await self._checked() is None:
            return
        if self.waiting:
            await self.send_json({"type": "opened"})  # try joining again: it may be open now
        await self._sync_peers()

    async def meeting_ended(self, event):
        await self._close("ended", _("The meeting has ended. Thank you for taking part."), NORMAL)

    async def meeting_replaced(self, event):
        self.joined = False  # the other window holds the presence now: leave it in place
        await self._close("replaced", _("You joined this meeting from another window."), REPLACED)

    async def person_signed_out(self, event):
        await self._close("signed_out", _("You have signed out."), SIGNED_OUT)

    async def person_access_changed(self, event):
        # Removed from a program (mend.accounts.offboarding): checked again at once, as a frame would be.
        await self.meeting_recheck(event)


def _public(pid: str, presence: dict) -> dict:
    """What others learn of a person in the room: their id, connection and whether their microphone and
    camera are on; never their channel."""
    return {"id": pid, "nonce": presence["nonce"], "audio": presence["audio"], "video": presence["video"]}
