"""The scaled set-up for real (ARCHITECTURE.md, "Two ways to run"): two `mend serve --no-worker` processes
and two `mend worker` processes that share nothing but PostgreSQL and Redis. A message sent through one
server arrives over the other server's websocket, once, also after the socket has been quiet for a while;
a job queued through a server runs once, on one of the workers.

It needs DATABASE_URL to name a PostgreSQL server and REDIS_URL a Redis server. The SQLite pass of
scripts/test-all.sh runs without either on purpose, and skips it (MEND_REQUIRE_SERVICES stays set for that
pass); with MEND_REQUIRE_SERVICES=1, one of the two without the other, or either unreachable, is a failure,
not a skip.

Nothing here touches what pytest-django or other runs use: the processes get a fresh PostgreSQL database
(`mend_scale_<random>`, dropped at the end) and Redis database 15 (Mend has no key prefix setting, so the
index keeps its channel layer and cache apart; it is flushed at the start and at the end), and each process
its own MEND_VAR_DIR, with the secret, master and audit keys given to all of them in the environment.
"""

import asyncio
import base64
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from mend.core import envelope as env

ROOT = Path(__file__).resolve().parents[2]
MEND = str(Path(sys.executable).parent / "mend")
REDIS_DB = 15
STARTUP_SECONDS = 90  # a migrated Django on a busy two-core machine
WAIT = 30.0  # the most any one step may take
QUIET = 1.0  # how long the receiver listens for a copy that should never come
# Longer than channels_redis's blocking pop (5 s) and redis-py 8's default socket timeout (5 s): a socket with
# nothing to receive for this long must stay open (channels_redis#422).
IDLE = 7.0
JOBS = 6
TASK_PATH = "mend.accounts.tasks.sessions_purge"
# django-tasks' own log lines (`mend worker` logs at INFO): a RUNNING line each time a worker starts a job.
STARTED = re.compile(r"Starting worker worker_id=(\S+)")
TASK_LINE = re.compile(r"Task id=(\S+) path=(\S+) state=(\w+)")


# --- which services, and whether their absence is a skip or a failure -----------------------------------


def _unavailable(message: str) -> None:
    if os.environ.get("MEND_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (MEND_REQUIRE_SERVICES=1, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def _services() -> tuple[str, str]:
    """(DATABASE_URL, REDIS_URL), both reachable; skips or fails when they are not."""
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    postgres = database_url.startswith(("postgres:", "postgresql:"))
    if not postgres and not redis_url:
        pytest.skip(
            "The scale-out test needs PostgreSQL (DATABASE_URL=postgres://...) and Redis (REDIS_URL); "
            "this pass runs without them on purpose (the PostgreSQL and Redis pass runs it)."
        )
    if not postgres:
        _unavailable("The scale-out test needs DATABASE_URL to be a postgres:// URL; REDIS_URL alone is set.")
    if not redis_url:
        _unavailable("The scale-out test needs REDIS_URL as well as the PostgreSQL DATABASE_URL.")
    import psycopg
    import redis

    try:
        psycopg.connect(_maintenance_url(database_url), connect_timeout=5).close()
    except psycopg.OperationalError as error:
        _unavailable(f"Cannot reach PostgreSQL at DATABASE_URL: {error}")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        _unavailable(f"Cannot reach Redis at REDIS_URL: {type(error).__name__}: {error}")
    return database_url, redis_url


def _maintenance_url(database_url: str) -> str:
    return urlunsplit(urlsplit(database_url)._replace(path="/postgres"))


# --- the processes -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM to its whole process group, then SIGKILL if it does not go."""
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        except ProcessLookupError:
            pass


@dataclass
class Cluster:
    database_url: str
    var_root: Path
    common_env: dict[str, str]
    processes: dict[str, Process] = field(default_factory=dict)
    seeded: dict = field(default_factory=dict)

    def env(self, name: str) -> dict[str, str]:
        return {**self.common_env, "MEND_VAR_DIR": str(self.var_root / name)}

    def run(self, name: str, args: list[str]) -> str:
        """A one-off command with the environment of process `name`; its output, or the test fails."""
        done = subprocess.run(args, env=self.env(name), cwd=ROOT, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, name: str, args: list[str], *, port: int | None = None) -> Process:
        log = self.var_root / f"{name}.log"
        with log.open("w") as log_file:
            popen = subprocess.Popen(
                args,
                env=self.env(name),
                cwd=ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so that everything it started stops with it
            )
        self.processes[name] = Process(name, popen, log, port)
        return self.processes[name]

    def logs(self) -> str:
        """The end of every process's log, for failure messages."""
        return "".join(
            f"\n--- {p.name} ({'running' if p.popen.poll() is None else f'exited {p.popen.returncode}'}),"
            f" {p.log} ---\n{p.output()[-3000:]}"
            for p in self.processes.values()
        )

    def wait_until(self, done: Callable[[], object], what: str, timeout: float = WAIT):
        """Polls `done` until it returns something true, and returns that; fails with every log if it never
        does or a process dies meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            result = done()
            if result:
                return result
            dead = [p.name for p in self.processes.values() if p.popen.poll() is not None]
            if dead:
                pytest.fail(
                    f"{', '.join(dead)} stopped while waiting for {what}.{self.logs()}", pytrace=False
                )
            if time.monotonic() > deadline:
                pytest.fail(f"Timed out waiting for {what}.{self.logs()}", pytrace=False)
            time.sleep(0.05)

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()

    def query(self, sql: str, params: list, **tables) -> list[tuple]:
        """Straight from the processes' database; `tables` name models whose tables `sql` names in braces."""
        import psycopg

        names = {name: model._meta.db_table for name, model in tables.items()}
        with psycopg.connect(self.database_url, connect_timeout=5) as conn:
            return conn.execute(sql.format(**names), params).fetchall()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return json.load(response) == {"status": "ok"}
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return False


def _worker_id(process: Process) -> str | None:
    found = STARTED.search(process.output())
    return found.group(1) if found else None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    """A fresh database and Redis index, migrated and seeded; servers A and B and workers 1 and 2 running.
    Everything is stopped, flushed and dropped at the end, whatever happened."""
    database_url, redis_url = _services()
    import psycopg
    import redis
    from psycopg import sql

    name = f"mend_scale_{secrets.token_hex(4)}"
    maintenance = _maintenance_url(database_url)
    redis_url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{REDIS_DB}"))
    channel_store = redis.Redis.from_url(redis_url, socket_connect_timeout=5)
    with ExitStack() as cleanup:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

        def drop() -> None:
            with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

        cleanup.callback(drop)
        channel_store.flushdb()
        cleanup.callback(channel_store.flushdb)

        common = dict(os.environ)
        for variable in (
            "MEND_DEMO",
            "MEND_BENCH",
            "MEND_DEBUG",
            "MEND_HTTPS",
            "MEND_SECRET_KEY_FILE",
            "MEND_MASTER_KEY_FILE",
            "MEND_AUDIT_KEY_FILE",
            "MEND_KEYSTORE_DATABASE_URL",
            "MEND_SMTP_URL",
        ):
            common.pop(variable, None)
        common.update(
            DJANGO_SETTINGS_MODULE="mend.settings",
            DATABASE_URL=urlunsplit(urlsplit(database_url)._replace(path=f"/{name}")),
            REDIS_URL=redis_url,
            # The same keys for every process, as a deployment gives them: sessions, the audit chain's
            # checkpoints and the case keys must mean the same on each server.
            MEND_SECRET_KEY=secrets.token_urlsafe(48),
            MEND_MASTER_KEY=_key(),
            MEND_AUDIT_KEY=_key(),
            MEND_EMBEDDED_WORKER="0",
            MEND_ALLOWED_HOSTS="127.0.0.1",
            PYTHONUNBUFFERED="1",
        )
        cluster = Cluster(common["DATABASE_URL"], tmp_path_factory.mktemp("mend-scale"), common)
        cleanup.callback(cluster.stop)

        cluster.run("migrate", [MEND, "migrate", "--no-input", "-v", "0"])
        cluster.seeded = json.loads(
            cluster.run("seed", [sys.executable, "-m", "tests.scale.seed"]).strip().splitlines()[-1]
        )
        for server in ("server-a", "server-b"):
            port = _free_port()
            cluster.start(
                server, [MEND, "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)], port=port
            )
        for worker in ("worker-1", "worker-2"):
            cluster.start(worker, [MEND, "worker"])
        for server in ("server-a", "server-b"):
            url = cluster.processes[server].url
            cluster.wait_until(lambda url=url: _healthy(url), f"{server} to answer /healthz", STARTUP_SECONDS)
        for worker in ("worker-1", "worker-2"):
            process = cluster.processes[worker]
            cluster.wait_until(
                lambda process=process: _worker_id(process), f"{worker} to start", STARTUP_SECONDS
            )
        yield cluster


# --- the websocket clients ---------------------------------------------------------------------------


class Socket:
    """One person's conversation socket on one server, read a frame at a time."""

    def __init__(self, connection, who: str, cluster: Cluster):
        self.connection, self.who, self.cluster = connection, who, cluster

    async def send(self, frame: dict) -> None:
        await self.connection.send(json.dumps(frame))

    async def next(self, wanted: Callable[[dict], bool], what: str) -> dict:
        """The next frame that is `wanted`, skipping others; an error or refusal fails the test."""
        deadline = time.monotonic() + WAIT
        while True:
            remaining = deadline - time.monotonic()
            try:
                frame = json.loads(await asyncio.wait_for(self.connection.recv(), max(remaining, 0.001)))
            except TimeoutError:
                pytest.fail(f"{self.who} got no {what} in {WAIT}s.{self.cluster.logs()}", pytrace=False)
            if wanted(frame):
                return frame
            if frame.get("type") in ("error", "refused"):
                pytest.fail(f"{self.who} got {frame} while waiting for {what}.{self.cluster.logs()}")

    async def messages_within(self, seconds: float) -> list[dict]:
        """Every message frame that comes in the next `seconds`."""
        frames, deadline = [], time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                frame = json.loads(await asyncio.wait_for(self.connection.recv(), remaining))
            except TimeoutError:
                break
            if frame.get("type") == "message":
                frames.append(frame)
        return frames


def _connect(cluster: Cluster, server: str, session: str):
    from websockets.asyncio.client import connect

    port = cluster.processes[server].port
    return connect(
        f"ws://127.0.0.1:{port}/ws/conversations/{cluster.seeded['conversation']}/",
        origin=f"http://127.0.0.1:{port}",  # AllowedHostsOriginValidator turns other origins away
        additional_headers={"Cookie": f"sessionid={session}"},
        proxy=None,
        open_timeout=WAIT,
        close_timeout=2,
    )


async def _send(outbox: Socket, keys: env.KeyPair, conversation: str, text: str) -> tuple[dict, dict]:
    """Seals `text` to the members the server names, as the page does, sends it and waits for the ack."""
    await outbox.send({"type": "members", "kind": "message"})
    members = await outbox.next(lambda f: f.get("type") == "members", "the members")
    recipients = [
        env.Recipient(m["key_id"], env.unb64u(m["enc_public"])) for m in members["members"] if m["key_id"]
    ]
    sealed = env.seal(sender=keys, conversation=conversation, content={"text": text}, recipients=recipients)
    await outbox.send({"type": "send", "envelope": sealed})
    ack = await outbox.next(
        lambda f: f.get("type") == "ack" and f.get("id") == sealed["id"], f"the ack of {sealed['id']}"
    )
    return sealed, ack


async def _exchange(
    cluster: Cluster, sender: str, via: str, receiver: str, over: str, *, idle: float = 0
) -> dict:
    seeded = cluster.seeded
    conversation = seeded["conversation"]
    sender_keys = env.KeyPair.from_file(seeded[sender]["keys"])
    receiver_keys = env.KeyPair.from_file(seeded[receiver]["keys"])
    async with (
        _connect(cluster, over, seeded[receiver]["session"]) as receiving,
        _connect(cluster, via, seeded[sender]["session"]) as sending,
    ):
        inbox = Socket(receiving, f"the {receiver} on {over}", cluster)
        outbox = Socket(sending, f"the {sender} on {via}", cluster)
        # Given the receiver caught up on server B (the backlog ends with `ready`)
        await inbox.send({"type": "hello", "after": 0})
        await inbox.next(lambda f: f.get("type") == "ready", "ready")
        if idle:
            await asyncio.sleep(idle)  # and both sockets then had nothing to say for a while

        # When the sender sends a message through server A
        first, first_ack = await _send(outbox, sender_keys, conversation, f"Through {via} to {over}.")

        # Then it arrives, live, over server B's socket: the one the server stored, readable by the receiver
        arrived = await inbox.next(lambda f: f.get("type") == "message", "the message")
        # And a second message, sent only after the first was acknowledged (its copy, if any, published
        # before), is the very next message frame: no copy of the first came in between
        second, second_ack = await _send(outbox, sender_keys, conversation, "And a second one.")
        next_arrived = await inbox.next(lambda f: f.get("type") == "message", "the second message")
        # Nor does any come after
        later = await inbox.messages_within(QUIET)
    return {
        "sent": [first, second],
        "acks": [first_ack, second_ack],
        "arrived": [arrived, next_arrived, *later],
        "receiver_keys": receiver_keys,
    }


# --- the tests ---------------------------------------------------------------------------------------


def _run_exchange(cluster: Cluster, *args, **kwargs) -> dict:
    from websockets.exceptions import WebSocketException

    try:
        # In a thread of its own: an event loop left running in this one (Playwright's) would refuse another.
        with ThreadPoolExecutor(max_workers=1) as thread:
            return thread.submit(asyncio.run, _exchange(cluster, *args, **kwargs)).result()
    except (WebSocketException, OSError) as error:  # a refused or dropped socket: the servers may say why
        logs = cluster.logs()
        hint = (
            "\nA consumer died on a Redis read timeout: the channel layer needs socket_timeout=None with "
            "redis-py 8 (channels_redis#422)."
            if "Timeout reading from" in logs
            else ""
        )
        pytest.fail(f"{type(error).__name__}: {error}{hint}{logs}", pytrace=False)


def _check_delivered_once(cluster: Cluster, run: dict, sender: str, via: str, over: str) -> None:
    from mend.dialogue.models import Message

    first, second = run["sent"]
    first_ack, second_ack = run["acks"]

    # Both were stored anew, in order
    assert (first_ack["duplicate"], second_ack["duplicate"]) == (False, False)
    assert second_ack["seq"] == first_ack["seq"] + 1

    # Each arrived over the other server exactly once, in order, and nothing else did
    assert [(f["id"], f["seq"]) for f in run["arrived"]] == [
        (first["id"], first_ack["seq"]),
        (second["id"], second_ack["seq"]),
    ], cluster.logs()

    # As sealed: signed by the sender's key, and the receiver's keys open it
    arrived = run["arrived"][0]
    assert arrived["from"]["user"] == cluster.seeded[sender]["user"]
    env.verify(arrived["envelope"], env.unb64u(arrived["from"]["sign_public"]))
    assert env.open_envelope(arrived["envelope"], run["receiver_keys"]) == {
        "text": f"Through {via} to {over}."
    }

    # And the database holds each once
    stored = cluster.query(
        "SELECT message_id FROM {message} WHERE message_id = ANY(%s)",
        [[first["id"], second["id"]]],
        message=Message,
    )
    assert sorted(row[0] for row in stored) == sorted([first["id"], second["id"]])


@pytest.mark.parametrize(
    ("sender", "via", "receiver", "over"),
    [("party", "server-a", "facilitator", "server-b"), ("facilitator", "server-b", "party", "server-a")],
    ids=["party-on-A-to-facilitator-on-B", "facilitator-on-B-to-party-on-A"],
)
def test_it_delivers_a_message_sent_through_one_server_over_the_other_servers_websocket_once(
    cluster, sender, via, receiver, over
):
    run = _run_exchange(cluster, sender, via, receiver, over)
    _check_delivered_once(cluster, run, sender, via, over)


def test_it_keeps_a_quiet_socket_open_and_delivers_to_it_later(cluster):
    """A conversation socket often waits minutes for the next message: on Redis, its consumer must outlast
    the channel layer's blocking read (it died after 5 s with redis-py 8's default socket timeout)."""
    run = _run_exchange(cluster, "party", "server-a", "facilitator", "server-b", idle=IDLE)
    _check_delivered_once(cluster, run, "party", "server-a", "server-b")


def _enqueue(cluster: Cluster, *args: str) -> list[str]:
    """Runs tests/scale/enqueue.py with server A's environment: work queued from that server's side."""
    out = cluster.run("server-a", [sys.executable, "-m", "tests.scale.enqueue", *args])
    return json.loads(out.strip().splitlines()[-1])


def test_it_runs_each_job_queued_through_a_server_exactly_once_with_two_workers(cluster):
    import psycopg
    from django.contrib.sessions.models import Session
    from django_tasks_db.models import DBTaskResult

    workers = {_worker_id(cluster.processes[name]): name for name in ("worker-1", "worker-2")}
    people = sorted(cluster.seeded[p]["session"] for p in ("party", "facilitator"))

    def logged(state: str) -> list[tuple[str, str]]:
        """(worker, job) for each line a worker logged as one of the queued jobs reached `state`."""
        return [
            (name, found.group(1))
            for name in workers.values()
            for found in TASK_LINE.finditer(cluster.processes[name].output())
            if found.group(1) in jobs and found.group(3) == state
        ]

    # Given expired sessions, held locked so that each purge job waits on them once started: a worker busy
    # with one job leaves the rest to the other, and both workers have a job in hand at the same time
    expired = _enqueue(cluster, "expire")
    with psycopg.connect(cluster.database_url, connect_timeout=5) as lock:
        table = Session._meta.db_table
        held = lock.execute(
            f"SELECT session_key FROM {table} WHERE session_key = ANY(%s) FOR UPDATE", [expired]
        ).fetchall()
        assert len(held) == len(expired)

        # When server A's side queues the purge job several times
        jobs = _enqueue(cluster, "queue", str(JOBS))
        assert len(set(jobs)) == JOBS

        # Then each worker takes one, and neither takes the other's
        cluster.wait_until(
            lambda: {name for name, _job in logged("RUNNING")} == set(workers.values()),
            "both workers to start a job",
        )
        lock.rollback()

    def finished() -> list[tuple] | None:
        rows = cluster.query(
            "SELECT id::text, status, worker_ids, return_value, task_path"
            " FROM {result} WHERE id::text = ANY(%s)",
            [jobs],
            result=DBTaskResult,
        )
        done = len(rows) == JOBS and all(row[1] in ("SUCCESSFUL", "FAILED") for row in rows)
        return rows if done else None

    rows = cluster.wait_until(finished, f"the {JOBS} jobs to finish")

    # And, the sessions released, every job succeeded, claimed by one worker, one of the two
    assert {row[0]: row[1] for row in rows} == dict.fromkeys(jobs, "SUCCESSFUL"), cluster.logs()
    for job, _status, worker_ids, _value, path in rows:
        assert path == TASK_PATH
        assert len(worker_ids) == 1 and worker_ids[0] in workers, (job, worker_ids, workers)

    # And the workers' own logs show each job started exactly once in all, by the worker the database names
    cluster.wait_until(
        lambda: {job for _name, job in logged("SUCCESSFUL")} == set(jobs),
        "the workers to log every job as finished",
    )
    starts = Counter(job for _name, job in logged("RUNNING"))
    assert starts == Counter(jobs), f"{starts}{cluster.logs()}"
    assert dict((job, name) for name, job in logged("RUNNING")) == {
        row[0]: workers[row[2][0]] for row in rows
    }

    # And the work was done: the runs between them deleted each expired session once, and the people's
    # signed-in sessions are still there
    assert sum(row[3] for row in rows) == len(expired)
    kept = cluster.query(
        "SELECT session_key FROM {session} WHERE session_key = ANY(%s)",
        [[*expired, *people]],
        session=Session,
    )
    assert sorted(row[0] for row in kept) == people
