"""Signing out reaches every open conversation socket of that person, on any server process."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from mend.core.realtime import person_group


def close_sockets_on_sign_out(sender, request, user, **kwargs):
    layer = get_channel_layer()
    if user is not None and layer is not None:
        async_to_sync(layer.group_send)(person_group(user.pk), {"type": "person.signed_out"})
