"""Bare Channels consumers that `make bench` measures the dialogue's websocket against: an echo, and a
group_send to everyone connected to the same group. No sign-in, no storage; MEND_BENCH=1 only."""

from channels.generic.websocket import AsyncWebsocketConsumer


class EchoConsumer(AsyncWebsocketConsumer):
    """The `send` baseline: each text frame comes straight back."""

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data, bytes_data=bytes_data)


class GroupConsumer(AsyncWebsocketConsumer):
    """The `fanout` baseline: each text frame goes to every socket in the group, through the channel layer."""

    async def connect(self):
        # Only letters and digits, so that the name is a valid channel-layer group name.
        name = "".join(c for c in self.scope["url_route"]["kwargs"]["name"] if c.isalnum())[:40]
        self.group = f"bench.{name}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.channel_layer.group_send(self.group, {"type": "bench.relay", "text": text_data})

    async def bench_relay(self, event):
        await self.send(text_data=event["text"])
