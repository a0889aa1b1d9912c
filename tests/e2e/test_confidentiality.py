"""Invariant 6, confidentiality: a unique phrase sent through the conversation pages (relayed both ways, in a
conversation with the facilitator, and inside an attached file) reaches its readers, and is then found
nowhere on the server's side: not in the database (SQLite's files, or every row of every PostgreSQL table),
not in the server's log, not in Redis (every command it was sent while the phrase travelled, and every key
left after). It is looked for as UTF-8, as hex (PostgreSQL shows binary columns so), and in base64.

This module runs a `mend serve` of its own, so that its output goes to a file the test can read and so that,
when REDIS_URL is set, the server really uses Redis (the shared e2e server does not).
"""

import os
import secrets
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.e2e import servers
from tests.e2e.navigators import (
    LIVE_SECONDS,
    DialogueCase,
    Facilitator,
    HarmedParty,
    ResponsibleParty,
    as_upload,
    b64_forms,
    loads_last_line,
    png_with,
    serve_neutral_sites,
)

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("dialogue_seed.py")


def new_canary() -> str:
    """Words no one would write, made unique by a random UUID; plain ASCII, so that any plaintext copy of
    it (raw, JSON-escaped, msgpack, a log line) holds these exact bytes."""
    u = uuid.uuid4().hex
    return f"kittiwake {u[:8]} saltmarsh {u[8:16]} lantern {u[16:24]}"


def forms_of(canary: str) -> list[bytes]:
    raw = canary.encode()
    return [raw, raw.hex().encode(), *b64_forms(canary)]


def found_in(data: bytes, canary: str) -> list[bytes]:
    return [form for form in forms_of(canary) if form in data]


# --- a server of this module's own ---------------------------------------------------------------------


@dataclass
class CanaryServer:
    url: str
    var_dir: Path
    log: Path
    database_url: str  # empty: the SQLite file in var_dir
    redis_url: str
    process: subprocess.Popen
    case: DialogueCase


def _own_database(url: str) -> Iterator[str]:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"mend_canary_{secrets.token_hex(4)}"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        servers.unavailable(
            f"Cannot reach PostgreSQL at {parts.hostname}:{parts.port} to make a database: {error}"
        )
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def canary_database_url() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if servers.is_postgres(url):
        yield from _own_database(url)
    else:
        yield ""


@pytest.fixture(scope="module")
def canary_server(chromium_executable, canary_database_url, tmp_path_factory) -> Iterator[CanaryServer]:
    var_dir = tmp_path_factory.mktemp("mend-canary")
    env = servers.server_env(var_dir, canary_database_url)
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        env["REDIS_URL"] = redis_url  # the shared e2e server drops it; this one must go through Redis
    bin_dir = Path(sys.executable).parent
    servers.run([str(bin_dir / "mend"), "migrate", "--no-input", "-v", "0"], env, "`mend migrate`")
    seeded = loads_last_line(servers.run([sys.executable, str(SEED), secrets.token_hex(3)], env, "Seeding"))
    port = servers.free_port()
    log = var_dir / "server.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [str(bin_dir / "mend"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=servers.ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        servers.wait_until_healthy(url, process, log)
        yield CanaryServer(
            url=url,
            var_dir=var_dir,
            log=log,
            database_url=canary_database_url,
            redis_url=redis_url,
            process=process,
            case=DialogueCase.from_seed(seeded),
        )
    finally:
        servers.stop(process)


# --- Redis, watched while the phrase travels -----------------------------------------------------------


class RedisWatch:
    """MONITOR in a thread: every command any client sends to Redis while it runs."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)
        self.client.ping()
        # Its own connection, with no read timeout: MONITOR may wait a while between commands.
        self._monitored = redis.Redis.from_url(url, socket_timeout=None)
        self.commands: list[str] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "Redis MONITOR did not start"

    def _listen(self) -> None:
        try:
            with self._monitored.monitor() as monitor:
                self._ready.set()
                for command in monitor.listen():
                    self.commands.append(command["command"])
                    if self._stop.is_set():
                        return
        except BaseException as error:  # noqa: BLE001 - kept, and raised in the test's thread by stop()
            self.error = error
            self._ready.set()

    def stop(self) -> None:
        self._stop.set()
        self.client.ping()  # one more command, so that the listening thread wakes and sees the flag
        self._thread.join(10)
        assert not self._thread.is_alive(), "Redis MONITOR did not stop"
        if self.error is not None:
            raise AssertionError(f"Redis MONITOR stopped early, so commands may be missing: {self.error!r}")

    def every_value(self) -> list[bytes]:
        """Every key and what it holds, whatever its type."""
        values = []
        for key in self.client.scan_iter(count=500):
            values.append(key)
            kind = self.client.type(key).decode()
            if kind == "string":
                values.append(self.client.get(key) or b"")
            elif kind == "list":
                values += self.client.lrange(key, 0, -1)
            elif kind == "set":
                values += list(self.client.smembers(key))
            elif kind == "zset":
                values += self.client.zrange(key, 0, -1)
            elif kind == "hash":
                for name, value in self.client.hgetall(key).items():
                    values += [name, value]
            elif kind == "stream":
                for _id, entry in self.client.xrange(key):
                    for name, value in entry.items():
                        values += [name, value]
        return [v if isinstance(v, bytes) else str(v).encode() for v in values]


# --- the phrase, sent through the pages ------------------------------------------------------------------


@dataclass
class CanaryRun:
    canary: str
    server: CanaryServer
    message_ids: list[str] = field(default_factory=list)
    redis_commands: list[str] = field(default_factory=list)
    redis_values: list[bytes] = field(default_factory=list)


def _screenshots(contexts: list[BrowserContext], stem: str) -> None:
    servers.ARTIFACTS.mkdir(exist_ok=True)
    for c, context in enumerate(contexts):
        for p, page in enumerate(context.pages):
            try:
                page.screenshot(path=str(servers.ARTIFACTS / f"{stem}-{c}-{p}.png"), full_page=True)
            except Exception as error:  # noqa: BLE001 - a missing screenshot must not hide the failure
                sys.stderr.write(f"No screenshot of {page.url}: {error}\n")


def _send_the_canary(browser: Browser, server: CanaryServer, canary: str) -> tuple[list[str], list]:
    contexts: list[BrowserContext] = []

    def page():
        context = browser.new_context(base_url=server.url, locale="en-GB", timezone_id="UTC")
        context.set_default_timeout(10_000)
        serve_neutral_sites(context)
        contexts.append(context)
        return context.new_page()

    case = server.case
    facilitator, harmed, responsible = (
        Facilitator(page(), case),
        HarmedParty(page(), case),
        ResponsibleParty(page(), case),
    )
    try:
        for person in (facilitator, harmed, responsible):
            person.sign_in()
        draft = f"First try: {canary}, I am sorry if"
        note = f"A note back: {canary}. Say what you did."
        relayed = f"I shared your photos. {canary}. It was wrong."
        reply = f"Thank you for passing this on. {canary}."
        picture = png_with(f"screenshot text {canary}")
        file_name = f"{canary}.png"

        ids = []

        def seen(person, text: str) -> None:
            ids.append(person.sees_message(text).get_attribute("data-id"))

        # The person responsible writes; the facilitator returns it with a note; the revision is passed on
        responsible.open_my_exchange()
        responsible.write_for_the_other_side(draft, may_pass_on=True)
        seen(responsible, draft)
        facilitator.open_exchange_of(case.responsible_pseudonym)
        facilitator.return_with_note(draft, note)
        seen(responsible, note)
        responsible.write_for_the_other_side(relayed, may_pass_on=True)
        seen(responsible, relayed)
        facilitator.open_exchange_of(case.responsible_pseudonym)
        harmed.open_my_exchange()
        facilitator.pass_on(relayed, to_pseudonym=case.harmed_pseudonym)
        seen(harmed, relayed)  # the reader gets it: the phrase did travel, as the relayed copy

        # The person harmed writes to the facilitator, with a picture whose bytes hold the phrase
        harmed.open_conversation_with_facilitator()
        harmed.write(reply, files=[as_upload(file_name, "image/png", picture)])
        expect(harmed.status_of(reply)).not_to_have_text("Sending…", timeout=LIVE_SECONDS)
        facilitator.open_conversation_with(case.harmed_pseudonym)
        seen(facilitator, reply)
        assert facilitator.open_file(reply, file_name) == picture
        expect(harmed.status_of(reply)).to_have_text("Read", timeout=LIVE_SECONDS)
        return ids, contexts
    except BaseException:
        _screenshots(contexts, "test_inv_confidentiality")
        raise


@pytest.fixture(scope="module")
def canary_run(browser, canary_server) -> Iterator[CanaryRun]:
    """Sends the phrase through the pages, with Redis watched meanwhile; then stops the server, so that
    everything it would write is written."""
    run = CanaryRun(canary=new_canary(), server=canary_server)
    watch = RedisWatch(canary_server.redis_url) if canary_server.redis_url else None
    contexts = []
    try:
        run.message_ids, contexts = _send_the_canary(browser, canary_server, run.canary)
    finally:
        if watch is not None:
            watch.stop()
            run.redis_commands = watch.commands
            run.redis_values = watch.every_value()
        for context in contexts:
            context.close()
        servers.stop(canary_server.process)
    yield run


# --- where the phrase must not be -------------------------------------------------------------------------


def _sqlite_bytes(var_dir: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(var_dir.glob("mend.sqlite3*")):
        files[path.name] = path.read_bytes()
    return files


def _postgres_rows(url: str) -> dict[str, bytes]:
    """Every row of every table of the public schema, as PostgreSQL writes it out as text."""
    import psycopg
    from psycopg import sql

    tables = {}
    with psycopg.connect(url, connect_timeout=5) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        ]
        for name in names:
            rows = conn.execute(sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(name))).fetchall()
            tables[name] = "\n".join(row[0] for row in rows).encode()
    return tables


def _pg_dump(url: str) -> bytes | None:
    if shutil.which("pg_dump") is None:
        return None
    done = subprocess.run(["pg_dump", "--data-only", "--dbname", url], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def test_inv_confidentiality_the_database_never_holds_a_phrase_sent_through_the_pages(canary_run):
    canary, server = canary_run.canary, canary_run.server
    if server.database_url:
        stores = {f"table {name}": data for name, data in _postgres_rows(server.database_url).items()}
        dump = _pg_dump(server.database_url)
        if dump is not None:
            stores["pg_dump"] = dump
    else:
        stores = _sqlite_bytes(server.var_dir)
        assert "mend.sqlite3" in stores, f"no SQLite file in {server.var_dir}"
    everything = b"\n".join(stores.values())

    # The messages are there, as envelopes: this is the right database, and the search can find things
    for message_id in canary_run.message_ids:
        assert message_id.encode() in everything, f"message {message_id} is not in the database searched"

    # And the phrase is in none of it, in any form
    leaks = {where: found_in(data, canary) for where, data in stores.items() if found_in(data, canary)}
    assert leaks == {}, f"the phrase {canary!r} is stored in plaintext or base64: {leaks}"


def test_inv_confidentiality_the_server_log_never_holds_a_phrase_sent_through_the_pages(canary_run):
    canary, server = canary_run.canary, canary_run.server
    log = server.log.read_bytes()

    # The log is the server's own output (stdout and stderr), captured from its start
    assert b"Mend is at http://127.0.0.1:" in log, log[-2000:]

    assert found_in(log, canary) == [], f"the phrase {canary!r} is in the server log:\n{log.decode()[-4000:]}"


def test_inv_confidentiality_redis_never_sees_a_phrase_sent_through_the_pages(canary_run):
    if not canary_run.server.redis_url:
        # The SQLite pass of scripts/test-all.sh runs without Redis on purpose (the in-process channel layer);
        # the PostgreSQL and Redis pass, where MEND_REQUIRE_SERVICES makes Redis a must, searches it.
        pytest.skip("this pass runs without Redis; the PostgreSQL and Redis pass searches it")
    canary = canary_run.canary
    commands = "\n".join(canary_run.redis_commands).encode()

    # The messages did go through Redis (the channel layer carried them to the other pages)
    carried = [message_id for message_id in canary_run.message_ids if message_id.encode() in commands]
    assert carried, f"none of the messages went through Redis; {len(canary_run.redis_commands)} commands seen"

    # And the phrase was in no command sent to Redis, nor in any key or value left there
    assert found_in(commands, canary) == [], f"the phrase {canary!r} was sent to Redis"
    left = [value for value in canary_run.redis_values if found_in(value, canary)]
    assert left == [], f"the phrase {canary!r} is kept in Redis: {left[:3]}"
