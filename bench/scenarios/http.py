"""Scenarios of one HTTP call against a bare view: closed loop for throughput, open loop for latency."""

from bench import loadgen
from bench.scenarios import Context, ordered, summary


class HttpScenario:
    name = ""
    target = ""
    method = "GET"
    ours_path = ""
    base_path = ""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.rate = 0.0
        self.extra: dict = {}

    def ours_headers(self) -> dict[str, str]:
        return {}

    async def _call(self, connection: loadgen.Connection, path: str, headers: dict) -> bool:
        response = await connection.request(self.method, path, headers)
        return response.status == 200

    async def ours(self, connection: loadgen.Connection) -> bool:
        return await self._call(connection, self.ours_path, self._ours_headers)

    async def base(self, connection: loadgen.Connection) -> bool:
        return await self._call(connection, self.base_path, {})

    async def setup(self) -> None:
        self._ours_headers = self.ours_headers()
        s = self.ctx.settings
        for call in (self.ours, self.base):  # warm both: first requests fill per-process caches
            await loadgen.closed_loop(call, self.ctx.ports, clients=s.clients, seconds=0.5, warmup=0.2)
        calibration = await loadgen.closed_loop(
            self.ours, self.ctx.ports, clients=s.clients, seconds=s.closed_seconds
        )
        self.rate = round(max(1.0, s.load * calibration.throughput), 1)

    async def run(self, index: int) -> dict:
        s = self.ctx.settings
        result = {}
        for side, call in ordered(index, self.ours, self.base):
            closed = await loadgen.closed_loop(
                call, self.ctx.ports, clients=s.clients, seconds=s.closed_seconds
            )
            pool = loadgen.Pool(self.ctx.ports)
            await pool.fill(len(self.ctx.ports) * 2)
            seconds = max(s.open_seconds, s.min_samples / self.rate)
            opened = await loadgen.open_loop(call, pool, rate=self.rate, seconds=seconds)
            pool.close()
            result[side] = {
                **summary(opened),
                "throughput": closed.throughput,
                "errors": opened.errors + closed.errors,
            }
        return result

    async def teardown(self) -> None:
        pass
