"""The load generator: a small keep-alive HTTP/1.1 client on asyncio (responses parsed by httptools, which
uvicorn uses too), websockets through the `websockets` package, and the two ways of loading a server.

Open loop: requests start on a fixed schedule whatever the server does, and each latency is counted from
the moment its request was due, not from when it went out, so a server that stalls is charged for every
request that waited behind it (no coordinated omission). Closed loop: a few clients, each sending its next
request as soon as the last one is answered, for throughput.

It is light on purpose: on a two-core machine the generator shares the CPU with the servers it measures.
"""

import asyncio
import itertools
import math
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httptools

# Every time here is read from this clock: uvloop's loop.time() counts whole milliseconds only.
clock = time.perf_counter


@dataclass
class Response:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    done: bool = False

    # httptools' callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.done = True

    def cookies(self) -> dict[str, str]:
        found = {}
        for name, value in self.headers:
            if name == b"set-cookie":
                pair = value.decode().split(";", 1)[0]
                key, _, val = pair.partition("=")
                found[key.strip()] = val.strip()
        return found


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> "Connection":
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response:
        if self.writer is None:
            await self.open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        response = Response()
        parser = httptools.HttpResponseParser(response)
        try:
            while not response.done:
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError("the server closed the connection")
                parser.feed_data(data)
        except BaseException:
            self.close()
            raise
        response.status = parser.get_status_code()
        if not parser.should_keep_alive():
            self.close()
        return response


class Pool:
    """Idle connections, spread over the servers' ports; a new one is opened whenever none is idle."""

    def __init__(self, ports: list[int]):
        self.ports = itertools.cycle(ports)
        self.idle: list[Connection] = []

    async def fill(self, n: int) -> None:
        self.idle += [await Connection(next(self.ports)).open() for _ in range(n)]

    def take(self) -> Connection:
        return self.idle.pop() if self.idle else Connection(next(self.ports))

    def give(self, connection: Connection) -> None:
        if connection.writer is not None:
            self.idle.append(connection)

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle = []


# A request to measure: given a connection, makes one call and says whether its answer was the right one.
Call = Callable[[Connection], Awaitable[bool]]


@dataclass
class Sample:
    """Latencies in seconds, and how many answers were wrong (or never came)."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0  # how long the measured part took

    def percentile(self, p: float) -> float:
        return percentile(self.latencies, p)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile: a value that was really measured, never interpolated."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


async def open_loop(call: Call, pool: Pool, *, rate: float, seconds: float) -> Sample:
    """`rate` calls a second for `seconds`, each started when due, in parallel as needed."""
    sample = Sample(seconds=seconds)
    count = max(1, round(rate * seconds))
    start = clock() + 0.01

    async def one(due: float) -> None:
        connection = pool.take()
        try:
            ok = await call(connection)
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            ok = False
        pool.give(connection)
        sample.latencies.append(clock() - due)
        sample.errors += not ok

    tasks = []
    for i in range(count):
        due = start + i / rate
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    return sample


async def closed_loop(
    call: Call,
    ports: list[int],
    *,
    clients: int,
    seconds: float,
    warmup: float = 0.3,
    min_answers: int | None = None,
    most_seconds: float = 60.0,
) -> Sample:
    """`clients` connections, each calling again as soon as answered; counts the answers that come after a
    short warm-up, for `seconds` and until at least `min_answers` (twice the clients unless told) have come:
    a slow page answering all its clients at once at the end of a short window would otherwise count none.
    Throughput is the answers over the time from the warm-up's end to the last of them."""
    sample = Sample()
    wanted = 2 * clients if min_answers is None else min_answers
    begin = clock() + warmup
    end = begin + seconds
    last = begin

    def over() -> bool:
        now = clock()
        return now >= begin + most_seconds or (now >= end and len(sample.latencies) >= wanted)

    async def client() -> None:
        nonlocal last
        connection = await Connection(next(cycle)).open()
        try:
            while not over():
                sent = clock()
                try:
                    ok = await call(connection)
                except (OSError, ConnectionError, asyncio.IncompleteReadError):
                    ok = False
                done = clock()
                if done >= begin and not (done > end and len(sample.latencies) >= wanted):
                    sample.latencies.append(done - sent)
                    sample.errors += not ok
                    last = done
        finally:
            connection.close()

    cycle = itertools.cycle(ports)
    await asyncio.gather(*(client() for _ in range(clients)))
    sample.seconds = max(last - begin, 1e-9)
    return sample
