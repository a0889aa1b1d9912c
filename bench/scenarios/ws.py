"""Scenarios of messages over websockets: Mend's conversation socket (sealed envelopes, stored, then
delivered) against a bare Channels consumer carrying frames of the same size."""

import itertools
import uuid

from bench.scenarios import Channel, Context, ordered, send_frame
from mend.core import envelope as env

WINDOW = 4  # messages in flight in the closed loop


class WsScenario:
    name = ""
    target = ""
    closed = True  # whether runs measure closed-loop throughput as well

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.rate = 0.0
        self.extra: dict = {}
        self.sealed = 0

    # Subclasses give: the conversation, who sends (with keys), who receives, and the sockets.
    conversation = ""
    sender = None
    recipients: list = []

    async def open_channels(self) -> tuple[Channel, Channel]:
        raise NotImplementedError

    def seal(self) -> tuple[str, str]:
        members = [self.sender, *self.recipients]
        to = [env.Recipient(p.keys.key_id, p.keys.enc_public) for p in members]
        envelope = env.seal(
            sender=self.sender.keys, conversation=self.conversation, content={"text": _TEXT}, recipients=to
        )
        self.sealed += 1
        return send_frame(envelope)

    def seal_many(self, n: int) -> list[tuple[str, str]]:
        return [self.seal() for _ in range(n)]

    def copies(self, template: tuple[str, str]):
        """Frames like the template, each with an id of its own: the baseline carries the same bytes."""
        old_id, frame = template
        while True:
            new_id = str(uuid.uuid4())
            yield new_id, frame.replace(old_id, new_id)

    async def setup(self) -> None:
        s = self.ctx.settings
        self.ours_channel, self.base_channel = await self.open_channels()
        self.template = self.seal()
        # Warm both sides, then calibrate the open-loop rate on Mend's side.
        await self.ours_channel.closed_loop(
            iter(self.seal_many(10)), window=1, seconds=5, drain=s.drain_seconds
        )
        await self.base_channel.closed_loop(
            self.copies(self.template), window=1, seconds=0.5, drain=s.drain_seconds
        )
        calibration = await self.ours_channel.closed_loop(
            iter(self.seal_many(60)), window=WINDOW, seconds=min(s.closed_seconds, 1.5), drain=s.drain_seconds
        )
        self.rate = round(max(1.0, s.load * calibration["throughput"]), 1)
        self.capacity = calibration["throughput"]
        per_run = max(round(self.rate * s.open_seconds), s.min_samples)
        if self.closed:
            per_run += round(self.capacity * s.closed_seconds * 1.5) + WINDOW
        # Sealed before the clock starts, as a browser seals before sending.
        # If Mend runs faster than in calibration, more are sealed as needed.
        more = (self.seal() for _ in itertools.count())
        self.pool = itertools.chain(self.seal_many(per_run * s.runs), more)

    async def run(self, index: int) -> dict:
        s = self.ctx.settings
        result = {}
        ours = (self.ours_channel, lambda: self.pool)
        base = (self.base_channel, lambda: self.copies(self.template))
        for side, (channel, frames) in ordered(index, ours, base):
            closed = None
            if self.closed:
                closed = await channel.closed_loop(
                    frames(), window=WINDOW, seconds=s.closed_seconds, drain=s.drain_seconds
                )
            count = max(round(self.rate * s.open_seconds), s.min_samples)
            opened = await channel.open_loop(
                list(itertools.islice(frames(), count)), rate=self.rate, drain=s.drain_seconds
            )
            if closed is not None:
                opened["throughput"] = closed["throughput"]
                opened["errors"] += closed["errors"]
                opened["lost"] += closed["lost"]
            result[side] = opened
        return result

    async def teardown(self) -> None:
        for channel in (self.ours_channel, self.base_channel):
            await channel.close()


# A short message, as most are: one padding block of ciphertext.
_TEXT = "Thank you for writing back. I can meet on Thursday afternoon if that still suits."
