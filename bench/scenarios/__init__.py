"""The scenarios of `make bench`, each measured against its bare baseline in the same run.

A scenario prepares itself once per set-up (`setup`: sockets, the open-loop rate), then measures one run
(`run`), Mend and the baseline one after the other, in an order that alternates from run to run. A run
gives, for each side, a summary: p50 and p99 in milliseconds, throughput per second, errors, and lost
messages where delivery is what is measured.
"""

import asyncio
import json
import re
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect

from bench import loadgen
from bench.loadgen import clock


@dataclass
class Settings:
    runs: int
    load: float  # the open-loop rate, as a share of what Mend's side managed closed-loop in calibration
    open_seconds: float  # each open-loop measure
    min_samples: int  # an open-loop measure lasts longer if needed to take at least this many
    closed_seconds: float  # each closed-loop measure
    clients: int  # closed-loop connections
    drain_seconds: float  # how long to wait for the last deliveries before counting a message lost


@dataclass
class Context:
    setup: str
    ports: list[int]
    actors: object  # bench.actors.Actors
    settings: Settings


def summary(sample: loadgen.Sample, *, lost: int = 0, sent: int | None = None) -> dict:
    return {
        "p50_ms": sample.percentile(50) * 1000,
        "p99_ms": sample.percentile(99) * 1000,
        "throughput": sample.throughput,
        "n": len(sample.latencies),
        "errors": sample.errors,
        "lost": lost,
        **({"sent": sent} if sent is not None else {}),
    }


def ordered(index: int, ours, base) -> list:
    """Mend first on even runs, the baseline first on odd ones, so neither always gets the warmer server."""
    return [("ours", ours), ("base", base)] if index % 2 == 0 else [("base", base), ("ours", ours)]


# --- websockets -----------------------------------------------------------------------------------------

_TYPE = re.compile(r'"type":\s*"(\w+)"')
_ID = re.compile(r'"id":\s*"([0-9a-f-]{36})"')


async def ws_open(port: int, path: str, session: str | None = None) -> ClientConnection:
    headers = {"Cookie": f"sessionid={session}"} if session else None
    return await connect(
        f"ws://127.0.0.1:{port}{path}",
        origin=f"http://127.0.0.1:{port}",
        additional_headers=headers,
        max_size=None,
        proxy=None,
        ping_interval=None,
        open_timeout=60,
    )


@dataclass
class Deliveries:
    """When each message id reached each receiving socket, read off the frames as they come."""

    receivers: int
    arrived: dict[str, dict[int, float]] = field(default_factory=dict)
    refused: int = 0
    waiting: dict[str, asyncio.Future] = field(default_factory=dict)

    def expect(self, message_id: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[message_id] = future
        return future

    def record(self, receiver: int, text: str, at: float) -> None:
        head = text[:120]
        kind = _TYPE.search(head)
        if kind and kind.group(1) in ("refused", "error"):
            self.refused += 1
            return
        if kind and kind.group(1) not in ("message", "send"):
            return
        found = _ID.search(text)
        if not found:
            return
        message_id = found.group(1)
        times = self.arrived.setdefault(message_id, {})
        times.setdefault(receiver, at)
        if len(times) == self.receivers:
            future = self.waiting.pop(message_id, None)
            if future is not None and not future.done():
                future.set_result(at)

    def last(self, message_id: str) -> float | None:
        times = self.arrived.get(message_id, {})
        return max(times.values()) if len(times) == self.receivers else None

    def missing(self, ids: list[str]) -> int:
        return sum(self.receivers - len(self.arrived.get(i, {})) for i in ids)


async def listen(ws: ClientConnection, receiver: int | None, deliveries: "Deliveries | None") -> None:
    try:
        async for text in ws:
            if deliveries is not None:
                if receiver is None:  # the sender's own socket: only refusals count
                    if text.startswith('{"type": "refused"') or text.startswith('{"type": "error"'):
                        deliveries.refused += 1
                else:
                    deliveries.record(receiver, text, clock())
    except Exception:  # noqa: BLE001, S110 - the socket closed; what did not arrive is counted as lost
        pass


class Channel:
    """A sender socket and its receivers' sockets, with what the receivers got."""

    def __init__(self, sender: ClientConnection, receivers: list[ClientConnection]):
        self.sender, self.receivers = sender, receivers
        self.deliveries = Deliveries(len(receivers))
        # An echo socket is both sender and receiver: one reader for it.
        own = [] if sender in receivers else [asyncio.create_task(listen(sender, None, self.deliveries))]
        self.tasks = own + [
            asyncio.create_task(listen(ws, i, self.deliveries)) for i, ws in enumerate(receivers)
        ]

    async def close(self) -> None:
        for ws in {id(w): w for w in [self.sender, *self.receivers]}.values():
            await ws.close()
        for task in self.tasks:
            task.cancel()

    async def open_loop(self, frames: list[tuple[str, str]], *, rate: float, drain: float) -> dict:
        """Sends (message id, frame) pairs at `rate` a second; latency is from when each was due until the
        last receiver had it."""
        deliveries = self.deliveries
        due_at = {}
        start = clock() + 0.01
        refused_before = deliveries.refused
        for i, (message_id, frame) in enumerate(frames):
            due = start + i / rate
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            due_at[message_id] = due
            deliveries.expect(message_id)
            await self.sender.send(frame)
        await self._drain([m for m, _ in frames], drain)
        sample = loadgen.Sample(seconds=len(frames) / rate)
        for message_id, due in due_at.items():
            last = deliveries.last(message_id)
            if last is not None:
                sample.latencies.append(last - due)
        sample.errors = deliveries.refused - refused_before
        ids = list(due_at)
        return summary(sample, lost=deliveries.missing(ids), sent=len(ids))

    async def closed_loop(self, frames, *, window: int, seconds: float, drain: float) -> dict:
        """Keeps `window` messages in flight for `seconds`: each delivery to every receiver sends the next
        one. `frames` is an iterator of (message id, frame); running out of them ends the measure early."""
        sample = loadgen.Sample()
        began = clock()
        sent_ids = []

        async def lane() -> None:
            for message_id, frame in frames:
                sent = clock()
                if sent - began >= seconds:
                    return
                waiter = self.deliveries.expect(message_id)
                sent_ids.append(message_id)
                await self.sender.send(frame)
                try:
                    await asyncio.wait_for(waiter, drain)
                except TimeoutError:
                    sample.errors += 1
                    continue
                sample.latencies.append(clock() - sent)

        await asyncio.gather(*(lane() for _ in range(window)))
        sample.seconds = clock() - began
        return summary(sample, lost=self.deliveries.missing(sent_ids), sent=len(sent_ids))

    async def _drain(self, ids: list[str], seconds: float) -> None:
        waiting = [self.deliveries.waiting[i] for i in ids if i in self.deliveries.waiting]
        if waiting:
            await asyncio.wait(waiting, timeout=seconds)


def send_frame(envelope: dict) -> tuple[str, str]:
    """(message id, the `send` frame the conversation socket takes), serialised before the clock starts."""
    return envelope["id"], json.dumps({"type": "send", "envelope": envelope})
