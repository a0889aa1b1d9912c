"""Realtime events go out only after the transaction that caused them has committed."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


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
