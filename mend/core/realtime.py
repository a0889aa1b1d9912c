"""Realtime events go out only after the transaction that caused them has committed."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from mend.core import i18n


def case_group(case_id: int) -> str:
    return f"case.{case_id}"


def person_group(user_id: int) -> str:
    """Every open socket of one person joins it: signing out and offboarding close or recheck them all."""
    return f"person.{user_id}"


def publish_after_commit(*, group: str, event: dict) -> None:
    def send():
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, {"type": "case.event", **event})

    transaction.on_commit(send)


class InTheirLanguage:
    """For a websocket consumer: everything it says, to whoever is signed in on it, is in the language that
    person reads Mend in (mend.core.i18n), as their pages are. Put it before the Channels consumer class."""

    async def dispatch(self, message):
        user = self.scope.get("user")
        with i18n.in_language_of(user if getattr(user, "is_authenticated", False) else None):
            await super().dispatch(message)
