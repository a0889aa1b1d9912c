"""`fanout`: a message in a case team conversation with N recipients (N + 1 facilitators), until the last
of them has it, against a bare group_send to N + 1 sockets; and whether any message was lost."""

import secrets

from bench.scenarios import Channel, ws_open
from bench.scenarios.ws import WsScenario


class Fanout(WsScenario):
    target = "p99<=3x base, 0 lost"
    closed = False  # latency and loss are what is asked; closed-loop throughput is left out for time

    def __init__(self, ctx, n: int):
        super().__init__(ctx)
        self.n = n
        self.name = f"fanout-{n}"

    async def open_channels(self):
        team, ports = self.ctx.actors.fanout[self.n], self.ctx.ports
        self.conversation = team["conversation"]
        self.sender, self.recipients = team["sender"], team["recipients"]
        path = f"/ws/conversations/{self.conversation}/"
        ours = Channel(
            await ws_open(ports[0], path, self.sender.session),
            [await ws_open(ports[i % len(ports)], path, p.session) for i, p in enumerate(self.recipients, 1)],
        )
        group = f"/ws/bench/group/fan{self.n}x{secrets.token_hex(4)}/"
        base = Channel(
            await ws_open(ports[0], group),
            [await ws_open(ports[i % len(ports)], group) for i in range(1, self.n + 1)],
        )
        return ours, base
