"""`send`: a party's message in their conversation with the facilitator, accepted (checked and stored
before the acknowledgment) and delivered to the facilitator's socket, against a bare Channels echo.
Latency runs from when a message was due to be sent until the recipient had it."""

from bench.scenarios import Channel, ws_open
from bench.scenarios.ws import WsScenario


class Send(WsScenario):
    name = "send"
    target = "p50<=base+2ms, p99<=base+10ms"

    async def open_channels(self):
        actors, ports = self.ctx.actors, self.ctx.ports
        self.conversation = actors.send_conversation
        self.sender, self.recipients = actors.party, [actors.facilitator]
        path = f"/ws/conversations/{self.conversation}/"
        # Scaled: the sender on one server, the recipient on the other, as the channel layer must carry it.
        ours = Channel(
            await ws_open(ports[0], path, actors.party.session),
            [await ws_open(ports[-1], path, actors.facilitator.session)],
        )
        echo = await ws_open(ports[0], "/ws/bench/echo/")
        return ours, Channel(echo, [echo])
