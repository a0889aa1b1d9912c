"""A video room's live state, shared by every server process: who is in the room now (one key per person,
with their socket's channel name, kept alive by a heartbeat and gone within a minute if their server dies)
and who is in the side room, in the cache (Redis when scaled, the process's memory when embedded); and the
room's group on the channel layer, where every change is announced. Whether the meeting is open or on a
break is in the database (Meeting.opened_at, on_break)."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

PRESENCE_SECONDS = 60  # a person's presence outlives a dead server process by at most this
SIDE_ROOM_SECONDS = 12 * 60 * 60

# The names under which a room's state is kept in the cache and its news goes out on the channel layer
# (tests give each run names of their own, since Redis may be shared).
KEY_PREFIX = "mend:meeting"
GROUP_PREFIX = "meeting"


def group_of(session_id: int) -> str:
    return f"{GROUP_PREFIX}.{session_id}"


def room_key(session_id: int, *parts: str) -> str:
    return ":".join((KEY_PREFIX, str(session_id), *parts))


def publish_after_commit(session_id: int, event: dict, before=None) -> None:
    """Announce a change to everyone in the room once the transaction that made it has committed."""

    def send():
        if before is not None:
            before()
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group_of(session_id), event)

    transaction.on_commit(send)
