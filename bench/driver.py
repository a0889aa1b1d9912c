"""Measures one set-up (embedded or scaled) of `make bench`: run by bench/run.py in the set-up's environment,
on a database it has migrated and seeded. Prepares the scenarios' people, counts the case list's queries,
starts the servers, runs every scenario against its baseline, stops the servers and writes the figures
as JSON.

    python -m bench.driver --setup embedded --runs 5 --out result.json
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEND = str(Path(sys.executable).parent / "mend")
STARTUP_SECONDS = 90


# --- servers ---------------------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    port: int | None = None

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=15)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(name: str, args: list[str], logs: Path, port: int | None = None) -> Process:
    log = logs / f"{name}.log"
    with log.open("w") as out:
        popen = subprocess.Popen(
            args,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=os.environ.copy(),
        )
    return Process(name, popen, log, port)


def start_servers(setup: str, logs: Path) -> list[Process]:
    """Embedded: one `mend serve` with its job worker inside. Scaled: two `mend serve --no-worker` and one
    `mend worker`, sharing PostgreSQL and Redis (ARCHITECTURE.md, "Two ways to run"); no proxy in front,
    the load generator spreads its connections over both ports."""
    processes = []
    if setup == "embedded":
        port = _free_port()
        processes.append(_spawn("server", [MEND, "serve", "--port", str(port)], logs, port))
    else:
        for i in (1, 2):
            port = _free_port()
            processes.append(
                _spawn(f"server{i}", [MEND, "serve", "--no-worker", "--port", str(port)], logs, port)
            )
        processes.append(_spawn("worker", [MEND, "worker"], logs))
    try:
        for process in processes:
            if process.port is not None:
                _wait_until_healthy(process)
    except BaseException:
        stop_all(processes)
        raise
    return processes


def _wait_until_healthy(process: Process) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(
                f"{process.name} stopped ({process.popen.returncode}):\n{process.log.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{process.port}/healthz", timeout=2) as response:
                if json.load(response) == {"status": "ok"}:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not answer /healthz in time:\n{process.log.read_text()}")


def stop_all(processes: list[Process]) -> None:
    for process in processes:
        process.stop()


# --- what is measured in process -------------------------------------------------------------------------


def query_counts(actors) -> dict:
    """Queries of the facilitator's case list on its first page and on a page deep down it (reached through
    the cursor of a case near the oldest), and of the API's case list: the same count on every page,
    whatever the number of cases, is the `page` scenario's third target."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from mend.cases import selectors
    from mend.cases.models import Case

    theirs = Case.objects.filter(participants__user_id=actors.lead_id)
    cases = theirs.count()
    paths = ["/cases/"]
    if cases:
        near_oldest = theirs.order_by("updated_at", "pk")[min(selectors.PAGE_SIZE, cases - 1)]
        paths.append(f"/cases/?after={selectors.cursor_of(near_oldest)}")
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = actors.lead_session
    counts = {}
    for path in paths:
        client.get(path)  # the first call may fill per-process caches; the counted one is steady
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} in the query count")
        counts[path] = len(captured)
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {actors.api_token}")
    api.get("/api/v1/cases")
    with CaptureQueriesContext(connection) as captured:
        api.get("/api/v1/cases")
    counts["/api/v1/cases"] = len(captured)
    page_counts = [n for path, n in counts.items() if path.startswith("/cases/")]
    return {"cases_of_facilitator": cases, "counts": counts, "fixed": len(set(page_counts)) == 1}


# --- the runs --------------------------------------------------------------------------------------------


async def measure(ctx, progress) -> dict:
    from bench.actors import FANOUT
    from bench.scenarios.api import Api
    from bench.scenarios.fanout import Fanout
    from bench.scenarios.page import Page
    from bench.scenarios.send import Send
    from bench.scenarios.signin import SignIn

    scenarios = [Api(ctx), Page(ctx), Send(ctx), *(Fanout(ctx, n) for n in FANOUT), SignIn(ctx)]
    results = {}
    for scenario in scenarios:
        started = time.monotonic()
        await scenario.setup()
        progress(
            f"    {scenario.name}: open-loop rate {scenario.rate}/s "
            f"({time.monotonic() - started:.0f} s to prepare)"
        )
        runs = []
        for index in range(ctx.settings.runs):
            run = await scenario.run(index)
            runs.append(run)
            progress(
                f"    {scenario.name} run {index + 1}: "
                + "  ".join(
                    f"{side} p50 {r['p50_ms']:.1f} p99 {r['p99_ms']:.1f} ms, {r['throughput']:.0f}/s"
                    + (f", {r['errors']} errors" if r["errors"] else "")
                    + (f", {r['lost']} lost" if r.get("lost") else "")
                    for side, r in sorted(run.items(), key=lambda item: item[0] != "ours")
                )
            )
        await scenario.teardown()
        results[scenario.name] = {
            "target": scenario.target,
            "rate": scenario.rate,
            "extra": getattr(scenario, "extra", {}),
            "runs": runs,
        }
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--setup", choices=["embedded", "scaled"], required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    from django.db import connections

    from bench.actors import prepare
    from bench.scenarios import Context, Settings
    from bench.scenarios.ws import WINDOW

    def progress(line: str) -> None:
        print(line, flush=True)

    started = time.monotonic()
    actors = prepare()
    queries = query_counts(actors)
    connections.close_all()
    progress(f"    people, keys and sessions ready, queries counted ({time.monotonic() - started:.0f} s)")
    settings = Settings(
        runs=args.runs,
        load=0.4,
        open_seconds=1.5 if args.quick else 3.0,
        # A p99 is only a p99 over about a hundred samples: fewer, and it is the slowest one.
        min_samples=20 if args.quick else 100,
        closed_seconds=1.0 if args.quick else 2.0,
        clients=8,
        drain_seconds=5.0,
    )
    logs = args.out.parent
    processes = start_servers(args.setup, logs)
    try:
        ports = [p.port for p in processes if p.port is not None]
        ctx = Context(setup=args.setup, ports=ports, actors=actors, settings=settings)
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:  # pragma: no cover - uvicorn[standard] brings it
            runner = asyncio.run
        results = runner(measure(ctx, progress))
    finally:
        stop_all(processes)
    args.out.write_text(
        json.dumps(
            {
                "setup": args.setup,
                "settings": vars(settings) | {"servers": len(ports), "window": WINDOW},
                "queries": queries,
                "scenarios": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
