"""A meeting's video room: the websocket that carries WebRTC signalling between the people attending, the
room's live state, and the hook that removes a person at once when they withdraw or take a break.

Media never passes through Mend: browsers connect to each other (a mesh of up to six) and encrypt what they
send (DTLS-SRTP). The server only relays offers, answers and ICE candidates, and only between people who may
connect now (rules.peers_for). Nothing is recorded.

State that must hold across server processes lives in the cache (Redis when scaled, the process's memory
when embedded, where there is one process): who is in the room now (one key per person, with their socket's
channel name, kept alive by a heartbeat and gone within a minute if their server dies) and who is in the side
room. Every change is announced to the meeting's group on the channel layer; each socket then reads the
shared state again and tells its browser whom to connect to and whom to drop. Whether the meeting is open
or on a break is in the database (Session.opened_at, on_break).
"""

import asyncio
import contextlib
import json
import re
import secrets
import time

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.middleware import second_factor_missing
from mend.accounts.models import User
from mend.accounts.offboarding import socket_still_signed_in
from mend.cases.models import Participant
from mend.circles import rules
from mend.circles.models import Session
from mend.core.errors import Conflict, DomainError
from mend.dialogue.signals import person_group

FRAME_TYPES = ("join", "signal", "media", "leave", "pause", "resume", "caucus", "rejoin", "end")
FACILITATOR_FRAMES = ("pause", "resume", "caucus", "rejoin", "end")
MAX_FRAME = 72 * 1024  # a whole frame, read before parsing
MAX_SIGNAL = 64 * 1024  # an offer, answer or candidate, as JSON
PRESENCE_SECONDS = 60  # a person's presence outlives a dead server process by at most this
HEARTBEAT_SECONDS = 15  # how often a socket renews its presence and checks its person may stay
SIDE_ROOM_SECONDS = 12 * 60 * 60
# Per connection: a burst (the candidates of five new connections at once) and a steady rate after it.
BURST, PER_SECOND = 150, 30
PERSON_ID = re.compile(r"[pmk][0-9]{1,18}")

# Close codes: refused or removed (the same as a meeting that does not exist), signed out, the same person
# joined from another window, and an ordinary close when the meeting ends.
REFUSED, SIGNED_OUT, REPLACED, NORMAL = 4404, 4401, 4409, 1000


# The names under which a room's state is kept in the cache and its news goes out on the channel layer
# (tests give each run names of its own, since Redis may be shared).
KEY_PREFIX = "mend:meeting"
GROUP_PREFIX = "meeting"


def group_of(session_id: int) -> str:
    return f"{GROUP_PREFIX}.{session_id}"


def _key(session_id: int, *parts: str) -> str:
    return ":".join((KEY_PREFIX, str(session_id), *parts))


def _publish_after_commit(session_id: int, event: dict, before=None) -> None:
    """Announce a change to everyone in the room once the transaction that made it has committed."""

    def send():
        if before is not None:
            before()
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group_of(session_id), event)

    transaction.on_commit(send)


def _facilitator_only(session: Session, person) -> None:
    if not rules.facilitates(session, person):
        raise DomainError(_("Only the facilitator can do this."))


# --- services: the room's own changes ----------------------------------------------------------------------


@transaction.atomic
def meeting_open_in_room(*, actor: User, session: Session, person) -> Session:
    """The facilitator's joining opens a meeting not yet open: a case meeting through the meeting's own
    opening (mend.circles.meetings, which checks every guard), a circle meeting here."""
    from mend.circles import meetings  # here: meetings may come to announce changes to rooms through us

    _facilitator_only(session, person)
    if session.case_id is not None:
        session = meetings.meeting_open(actor=actor, session=session)
    else:
        session = Session.objects.select_for_update(of=("self",)).select_related("circle").get(pk=session.pk)
        missing = rules.session_missing(session, person)
        if missing:
            raise Conflict(
                _("The meeting cannot open yet. Waiting for: %(items)s.") % {"items": "; ".join(missing)}
            )
        if session.opened_at is None:
            session.opened_at = timezone.now()
            session.save(update_fields=["opened_at"])
            meetings.attendance_prepare(session=session)
            audit.record(actor=actor, code="session.opened", target=session, program=session.circle.program)
    _publish_after_commit(session.pk, {"type": "meeting.opened"})
    return session


@transaction.atomic
def meeting_end_in_room(*, actor: User, session: Session, person) -> Session:
    from mend.circles import meetings

    _facilitator_only(session, person)
    if session.case_id is not None:
        session = meetings.meeting_end(actor=actor, session=session)
    else:
        session = Session.objects.select_for_update(of=("self",)).select_related("circle").get(pk=session.pk)
        if session.opened_at is None or session.ended_at is not None:
            raise Conflict(_("This meeting is not open."))
        session.ended_at = timezone.now()
        session.on_break = False
        session.save(update_fields=["ended_at", "on_break"])
        audit.record(actor=actor, code="session.ended", target=session, program=session.circle.program)
    _publish_after_commit(
        session.pk, {"type": "meeting.ended"}, before=lambda: cache.delete(_key(session.pk, "side"))
    )
    return session


@transaction.atomic
def meeting_break_set(*, actor: User, session: Session, person, on: bool) -> Session:
    """A pause for everyone: each browser mutes its microphone and camera and shows a break screen."""
    _facilitator_only(session, person)
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("case__program", "circle__program")
        .get(pk=session.pk)
    )
    if session.opened_at is None or session.ended_at is not None:
        raise Conflict(_("This meeting is not open."))
    if session.on_break == on:
        raise Conflict(_("The meeting is already paused.") if on else _("The meeting is not paused."))
    session.on_break = on
    session.save(update_fields=["on_break"])
    audit.record(
        actor=actor,
        code="session.break_started" if on else "session.break_ended",
        target=session,
        case=session.case,
        program=None if session.case_id else session.circle.program,
    )
    _publish_after_commit(session.pk, {"type": "meeting.break", "on": on})
    return session


@transaction.atomic
def meeting_side_room(*, actor: User, session: Session, person, people: list[str]) -> list[str]:
    """Moves people into a private side room (a caucus), or everyone back when `people` is empty. Those in
    the side room connect only with each other and the facilitators; the main room drops them meanwhile."""
    _facilitator_only(session, person)
    session = Session.objects.select_related("case__program", "circle__program", "circle__keeper").get(
        pk=session.pk
    )
    if session.opened_at is None or session.ended_at is not None:
        raise Conflict(_("This meeting is not open."))
    everyone = rules.attendees(session)
    movable = {rules.person_id(p) for p in everyone if not rules.facilitates(session, p)}
    if any(pid not in movable for pid in people):
        raise DomainError(_("Choose people attending this meeting. Facilitators are in both rooms already."))
    if people and set(people) == movable:
        raise DomainError(_("Leave at least one person in the main room."))
    audit.record(
        actor=actor,
        code="session.side_room" if people else "session.side_room_ended",
        target=session,
        case=session.case,
        program=None if session.case_id else session.circle.program,
        data={"people": len(people)},
    )

    def store():
        if people:
            cache.set(_key(session.pk, "side"), sorted(people), SIDE_ROOM_SECONDS)
        else:
            cache.delete(_key(session.pk, "side"))

    _publish_after_commit(session.pk, {"type": "meeting.caucus"}, before=store)
    return sorted(people)


def _open_meetings_of(place: Participant):
    return Session.objects.filter(attendees=place, opened_at__isnull=False, ended_at__isnull=True)


def meeting_remove_person(*, place: Participant, session: Session | None = None) -> int:
    """The removal hook: a person who withdraws or takes a break leaves every open meeting at once. After
    the change commits, their presence goes and the room is told: their sockets close, and everyone else's
    browser closes its connection to them. Returns the number of meetings they were removed from."""
    sessions = [session] if session is not None else list(_open_meetings_of(place))
    pid = rules.person_id(place)
    for meeting in sessions:
        presence = _key(meeting.pk, "peer", pid)
        _publish_after_commit(
            meeting.pk, {"type": "meeting.remove", "id": pid}, before=lambda key=presence: cache.delete(key)
        )
    return len(sessions)


def meetings_recheck(*, case=None, session: Session | None = None) -> int:
    """After any change that may end someone's place in a live meeting (consent narrowed, a choice changed,
    the meeting opened, ended, cancelled or held elsewhere): every socket in the open meetings concerned
    checks its person again, and leaves if they may not stay; sockets waiting to join try again."""
    if session is not None:
        sessions = [session]
    elif case is not None:
        sessions = list(Session.objects.filter(case=case, opened_at__isnull=False, ended_at__isnull=True))
    else:
        sessions = []
    for meeting in sessions:
        _publish_after_commit(meeting.pk, {"type": "meeting.recheck"})
    return len(sessions)


# --- the room's signalling -------------------------------------------------------------------------------


def _bool_pair(content: dict) -> tuple[bool, bool] | None:
    audio, video = content.get("audio", True), content.get("video", True)
    if not isinstance(audio, bool) or not isinstance(video, bool):
        return None
    return audio, video


# An ICE candidate's fields: their type and, for text, their greatest length.
CANDIDATE_FIELDS = {
    "candidate": (str, 2048),
    "sdpMid": (str, 64),
    "sdpMLineIndex": (int, 0),
    "usernameFragment": (str, 256),
}


def _candidate_problem(candidate) -> bool:
    if candidate is None:
        return False  # the end of the candidates
    if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
        return True
    for name, value in candidate.items():
        if name not in CANDIDATE_FIELDS:
            return True
        kind, longest = CANDIDATE_FIELDS[name]
        if value is None and name != "candidate":
            continue
        if type(value) is not kind:
            return True
        if kind is str and len(value) > longest:
            return True
        if kind is int and not 0 <= value < 1024:
            return True
    return False


def _signal_problem(data) -> str | None:
    """Why a signal's data is not one offer, answer or ICE candidate of a sensible size, or None."""
    if not isinstance(data, dict) or len(data) != 1 or not {"description", "candidate"} & set(data):
        return _("signal.data must hold one description or one candidate.")
    if "description" in data:
        description = data["description"]
        if (
            not isinstance(description, dict)
            or set(description) != {"type", "sdp"}
            or description["type"] not in ("offer", "answer")
            or not isinstance(description["sdp"], str)
        ):
            return _("signal.data.description must be an offer or an answer with its sdp.")
    elif _candidate_problem(data["candidate"]):
        return _("signal.data.candidate must be an ICE candidate.")
    if len(json.dumps(data)) > MAX_SIGNAL:
        return _("This signal is too large.")
    return None


class MeetingConsumer(AsyncJsonWebsocketConsumer):
    """One person's socket in one meeting's room. It may connect only while the person is invited and the
    guards hold for them; it signals only once they have joined an open meeting, and only with the people
    rules.peers_for allows. Every frame is checked again (signals at most once a second), and a heartbeat
    checks between frames."""

    async def connect(self):
        user = self.scope.get("user")
        self.session_id = self.scope["url_route"]["kwargs"]["session_id"]
        self.joined = False
        self.waiting = False
        self.peers: dict[str, str] = {}  # whom the browser should be connected with: id -> their nonce
        self.side: set[str] = set()
        self.tokens, self.refilled, self.checked_at = float(BURST), time.monotonic(), 0.0
        try:
            if (
                user is None
                or not user.is_authenticated
                or second_factor_missing(user, self.scope["session"])
            ):
                raise Http404
            self.user = user
            state = await self._state()
        except Http404:
            await self.close(code=REFUSED)
            return
        if state["person_missing"]:
            await self.close(code=REFUSED)  # withdrew, on a break, no longer invited: nothing at all
            return
        self.state, self.checked_at = state, time.monotonic()
        self.pid = state["id"]
        self.facilitates = state["facilitates"]
        self.nonce = secrets.token_urlsafe(9)
        self.group = group_of(self.session_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Signing out, here or on another tab (the quick exit too), closes this socket at once.
        self.user_group = person_group(user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()
        self.heartbeat = asyncio.ensure_future(self._heartbeat())

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
        meeting, person = rules.access_meeting(self.user, self.session_id)
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
            "session_missing": rules.session_missing(meeting, person),
            "facilitators": {rules.person_id(p) for p in everyone if rules.facilitates(meeting, p)},
            "attendees": [rules.person_id(p) for p in everyone],
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
        if self.joined and state["session_missing"]:
            await self._close("ended", _("The meeting is not open any more."), NORMAL)
            return None
        self.state, self.checked_at = state, time.monotonic()
        return state

    def _waiting_words(self, state: dict) -> str:
        """What a person waiting is told. Facilitators learn what is missing; everyone else only that the
        meeting is not open, never anything about another person."""
        if self.facilitates:
            return _("Waiting for: %(items)s.") % {"items": "; ".join(state["session_missing"])}
        return _("The meeting is not open yet. You will come in as soon as your facilitator opens it.")

    async def _present(self) -> dict[str, dict]:
        """Who is in the room now, of the people attending: id -> their presence."""
        keys = {_key(self.session_id, "peer", pid): pid for pid in self.state["attendees"]}
        found = await cache.aget_many(list(keys))
        return {keys[key]: value for key, value in found.items() if isinstance(value, dict)}

    async def _connectable(self) -> dict[str, dict]:
        present = await self._present()
        self.side = set(await cache.aget(_key(self.session_id, "side")) or [])
        ids = rules.peers_for(self.pid, self.state["facilitators"], set(present), self.side)
        return {pid: present[pid] for pid in sorted(ids)}

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
        if not self._take_token():
            await self._error(_("Too many messages at once. Please wait a moment."))
            return
        if text_data is None or len(text_data) > MAX_FRAME:
            await self._error(_("Send a JSON object of at most 64 KiB."))
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nesting too deep for the parser
            content = None
        if not isinstance(content, dict) or content.get("type") not in FRAME_TYPES:
            await self._error(
                _("Send a JSON object whose type is one of: %(types)s.") % {"types": ", ".join(FRAME_TYPES)}
            )
            return
        kind = content["type"]
        if kind in FACILITATOR_FRAMES and not self.facilitates:
            await self._error(_("Only the facilitator can do this."))
            return
        if kind not in ("join", "leave") and not self.joined:
            await self._error(_("Join the meeting first."))
            return
        # Whether the person may still be here, read afresh; a burst of candidates is checked once a second.
        fresh = kind == "signal" and time.monotonic() - self.checked_at <= 1.0
        if not fresh and await self._checked() is None:
            return
        await getattr(self, f"on_{kind}")(content)

    async def _error(self, message: str, **extra) -> None:
        await self.send_json({"type": "error", "error": message, **extra})

    async def on_join(self, content):
        media = _bool_pair(content)
        if media is None:
            await self._error(_("join.audio and join.video must be true or false."))
            return
        state = self.state
        if self.joined:  # joining again (a retry that crossed the news): the same answer, afresh
            await self._send_peers(state)
            return
        if state["session_missing"]:
            await self.send_json({"type": "waiting", "message": self._waiting_words(state)})
            self.waiting = True
            return
        if state["session"].opened_at is None:
            try:  # only a facilitator gets this far with a meeting not yet open (rules.session_missing)
                await database_sync_to_async(meeting_open_in_room)(
                    actor=self.user, session=state["session"], person=state["person"]
                )
            except DomainError as error:
                await self.send_json({"type": "waiting", "message": error.message})
                self.waiting = True
                return
        self.waiting = False
        self.audio, self.video = media
        await self._enter_presence()
        self.joined = True
        await self.channel_layer.group_send(self.group, {"type": "meeting.changed"})
        await self._send_peers(state)

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
                "side": sorted(self.side),
            }
        )

    def _presence(self) -> dict:
        return {"nonce": self.nonce, "channel": self.channel_name, "audio": self.audio, "video": self.video}

    async def _enter_presence(self) -> None:
        key = _key(self.session_id, "peer", self.pid)
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
        key = _key(self.session_id, "peer", self.pid)
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
        problem = _signal_problem(data)
        if problem:
            await self._error(problem)
            return
        if to not in self.peers:
            await self._sync_peers()  # they may have come in a moment ago
        if to not in self.peers:
            await self._error(_("That person is not connected with you."), to=to)
            return
        target = await cache.aget(_key(self.session_id, "peer", to))
        if not isinstance(target, dict) or target.get("nonce") != self.peers[to]:
            await self._sync_peers()
            await self._error(_("That person is not connected with you."), to=to)
            return
        try:
            await self.channel_layer.send(
                target["channel"],
                {"type": "meeting.signal", "from": self.pid, "nonce": self.nonce, "data": data},
            )
        except ChannelFull:
            await self._error(_("That person's connection is busy. Please try again."), to=to)

    async def on_media(self, content):
        media = _bool_pair(content)
        if media is None:
            await self._error(_("media.audio and media.video must be true or false."))
            return
        self.audio, self.video = media
        await cache.aset(_key(self.session_id, "peer", self.pid), self._presence(), PRESENCE_SECONDS)
        await self.channel_layer.group_send(
            self.group, {"type": "meeting.media", "id": self.pid, "audio": self.audio, "video": self.video}
        )

    async def _facilitator_action(self, service, **kwargs):
        try:
            await database_sync_to_async(service)(
                actor=self.user, session=self.state["session"], person=self.state["person"], **kwargs
            )
        except DomainError as error:
            await self._error(error.message)

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
                key = _key(self.session_id, "peer", self.pid)
                if self.joined and not await cache.atouch(key, PRESENCE_SECONDS):
                    await cache.aset(key, self._presence(), PRESENCE_SECONDS)

    # --- events from the room ------------------------------------------------------------------------------

    async def meeting_changed(self, event):
        await self._sync_peers()

    async def meeting_caucus(self, event):
        if not self.joined:
            return
        await self._sync_peers()
        await self.send_json({"type": "room", "side": sorted(self.side)})

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
