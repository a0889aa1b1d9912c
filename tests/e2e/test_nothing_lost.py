"""Invariant 7, nothing lost: a real `mend serve` is killed with SIGKILL twice in the middle of a conversation
and started again on the same database and port, and every acknowledged message still reaches the other
person exactly once.

A party streams messages to their facilitator over the conversation's websocket with a client that keeps an
outbox, as conversation.js does: each message stays in it until acknowledged and is sent again, with the
same envelope, on the next connection. The facilitator's client reconnects with hello{after: the last
sequence number it saw}. The scenario runs once per module; each test checks one promise of the invariant.

Run as a script (`python -m tests.e2e.test_nothing_lost`) it seeds the server's database instead.
"""

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mend.core import envelope as env
from tests.e2e import servers

pytestmark = pytest.mark.e2e

MESSAGES = 40
FIRST_STREAM = 20  # sent before the first kill, which lands once KILL_AFTER_ACKS of them are acknowledged
KILL_AFTER_ACKS = 8
LOST_ACKS = range(20, 30)  # stored, but their acknowledgments die with the server at the second kill
PACE = 0.02  # seconds between sends in the first stream, so that the kill lands in the middle of it
WAIT = 20.0  # the most any one step may take


# --- seeding, run in a subprocess with the server's environment ----------------------------------------


def _session_for(user, *, second_factor: bool) -> str:
    """A signed-in session as the sign-in pages leave it, made directly so that no TOTP code is spent."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if second_factor:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return session.session_key


def seed() -> dict:
    """A facilitator and a harmed party who consented to contact, their support conversation, keys the test
    holds for both, and a signed-in session for each. Every name here is invented."""
    from mend.accounts import services as account_services
    from mend.accounts.keys import unknown_credentials
    from mend.cases import services as case_services
    from mend.consent import services as consent_services
    from mend.consent.selectors import current_text
    from mend.dialogue import services as dialogue_services
    from tests.dialogue.helpers import give_keys

    program = account_services.program_create(
        actor=None, name="Saltmarsh Restorative Circle", slug="saltmarsh", jurisdictions=["NZ"]
    )
    facilitator = account_services.staff_create(
        actor=None,
        email="wren@saltmarsh.test",
        display_name="Wren Calloway",
        password="estuary lantern pebble 42",
        program=program,
        role="facilitator",
    )
    case = case_services.case_create(
        actor=facilitator,
        program=program,
        harm_category="online_harassment",
        jurisdictions=["NZ"],
        referral_source="self",
        facilitator=facilitator,
    )
    _invitation, raw = case_services.participant_invite(actor=facilitator, case=case, role="harmed_party")
    party = case_services.invitation_accept(
        raw_token=raw, pseudonym="Sorrel", **unknown_credentials("sorrel-nothing-lost")
    )
    place = case.participants.get(user=party)
    for scope in ("take_part", "facilitator_contact", "data_processing"):
        text = current_text(program, scope)
        consent_services.consent_give(actor=party, place=place, scope=scope, text_sha256=text.sha256)
    conversation = dialogue_services.conversation_open(case=case, kind="support", party=place)
    party_keys, facilitator_keys = give_keys(party), give_keys(facilitator)
    return {
        "conversation": conversation.public_id,
        "party": {
            "user": party.pk,
            "session": _session_for(party, second_factor=False),
            "keys": party_keys.to_file(),
        },
        "facilitator": {
            "user": facilitator.pk,
            "session": _session_for(facilitator, second_factor=True),
            "keys": facilitator_keys.to_file(),
        },
    }


# --- the server: one database and port, started and killed as often as the test likes -----------------


def _throwaway_postgres(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh database beside the one DATABASE_URL names, and how to drop it."""
    import secrets

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"mend_lost_{secrets.token_hex(4)}"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        servers.unavailable(
            f"Cannot reach PostgreSQL at {parts.hostname}:{parts.port} to make a database: {error}"
        )

    def drop() -> None:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    return urlunsplit(parts._replace(path=f"/{name}")), drop


class Server:
    """`mend serve` on a fixed port and database, in its own process group so that SIGKILL takes all of it."""

    def __init__(self, env_vars: dict[str, str], var_dir: Path, database_url: str):
        self.env = env_vars
        self.var_dir = var_dir
        self.database_url = database_url
        self.port = servers.free_port()
        self.log = var_dir / "server.log"
        self.process: subprocess.Popen | None = None
        self.kills = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        mend = str(Path(sys.executable).parent / "mend")
        with self.log.open("a") as log:
            log.write(f"\n--- start after {self.kills} kill(s) ---\n")
            log.flush()
            self.process = subprocess.Popen(
                [mend, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                cwd=servers.ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        servers.wait_until_healthy(self.url, self.process, self.log)

    def kill(self) -> None:
        """kill -9: no shutdown, no flushing, whatever was in flight is cut off."""
        assert self.process is not None and self.process.poll() is None, "the server is not running"
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None:
            servers.stop(self.process)

    def log_tail(self) -> str:
        return self.log.read_text()[-4000:] if self.log.exists() else ""

    def stored(self, public_id: str) -> list[tuple[int, str, int]]:
        """(seq, message id, user id of a recipient row) as the database holds them, straight from SQL."""
        query = (
            "SELECT m.seq, m.message_id, r.user_id FROM dialogue_message m"
            " JOIN dialogue_conversation c ON c.id = m.conversation_id"
            " LEFT JOIN dialogue_recipient r ON r.message_id = m.id"
            " WHERE c.public_id = {} ORDER BY m.seq, r.user_id"
        )
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url, connect_timeout=5) as conn:
                return conn.execute(query.format("%s"), [public_id]).fetchall()
        conn = sqlite3.connect(self.var_dir / "mend.sqlite3", timeout=20)
        try:
            return conn.execute(query.format("?"), [public_id]).fetchall()
        finally:
            conn.close()

    def stored_ids(self, public_id: str) -> set[str]:
        return {message_id for _seq, message_id, _user in self.stored(public_id)}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """A migrated database of this module's own (SQLite, or PostgreSQL when DATABASE_URL says so), and
    Redis as the channel layer when REDIS_URL is set; the server is not started yet."""
    var_dir = tmp_path_factory.mktemp("mend-nothing-lost")
    database_url, drop = "", None
    if servers.is_postgres(os.environ.get("DATABASE_URL", "")):
        database_url, drop = _throwaway_postgres(os.environ["DATABASE_URL"])
    try:
        env_vars = servers.server_env(var_dir, database_url)
        if os.environ.get("REDIS_URL"):
            env_vars["REDIS_URL"] = os.environ["REDIS_URL"]
        servers.run(
            [str(Path(sys.executable).parent / "mend"), "migrate", "--no-input", "-v", "0"],
            env_vars,
            "Migrating",
        )
        server = Server(env_vars, var_dir, database_url)
        try:
            yield server
        finally:
            server.stop()
    finally:
        if drop is not None:
            drop()


# --- the two clients ----------------------------------------------------------------------------------


def _socket(server: Server, session: str, public_id: str) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}/ws/conversations/{public_id}/",
        origin=f"http://127.0.0.1:{server.port}",  # AllowedHostsOriginValidator turns away other origins
        additional_headers={"Cookie": f"sessionid={session}"},
        proxy=None,
        open_timeout=5,
        close_timeout=1,
        max_queue=1024,
    )


def _wait_until(done: Callable[[], bool], what: str, server: Server, *, required: bool = True) -> bool:
    """Whether `done` came true in time; if it did not and was `required`, the scenario stops there."""
    deadline = time.monotonic() + WAIT
    while not done():
        if time.monotonic() > deadline:
            if required:
                raise AssertionError(f"Timed out waiting for {what}.\nServer log:\n{server.log_tail()}")
            return False
        time.sleep(0.01)
    return True


class Sender:
    """The party's client with an outbox: a message leaves it only when the server acknowledges it."""

    def __init__(self, server: Server, session: str, public_id: str):
        self.server, self.session, self.public_id = server, session, public_id
        self.conn: ClientConnection | None = None
        self.closing = contextlib.ExitStack()
        self.connections = 0
        self.acks: dict[str, dict] = {}  # the first acknowledgment of each message
        self.ack_log: list[tuple[int, dict]] = []  # every acknowledgment, with the connection it came on
        self.sent: Counter[str] = Counter()
        self.problems: list[dict] = []  # refused and error frames: none are expected

    def open(self) -> None:
        self.closing = contextlib.ExitStack()
        self.conn = self.closing.enter_context(_socket(self.server, self.session, self.public_id))
        self.connections += 1

    def drop(self) -> None:
        """Forgets the connection and anything still unread on it, as a client does when its socket dies."""
        if self.conn is not None:
            self.closing.close()
            self.conn = None

    def members(self) -> dict:
        self.conn.send(json.dumps({"type": "members", "kind": "message"}))
        while True:
            frame = json.loads(self.conn.recv(timeout=WAIT))
            if frame["type"] == "members":
                return frame

    def _take(self, timeout: float) -> None:
        frame = json.loads(self.conn.recv(timeout=timeout))
        if frame["type"] == "ack":
            self.acks.setdefault(frame["id"], frame)
            self.ack_log.append((self.connections, frame))
        elif frame["type"] in ("refused", "error"):
            self.problems.append(frame)
        # Other frames are the party's own messages coming back to them: the facilitator's client is checked.

    def _drain(self) -> None:
        with contextlib.suppress(TimeoutError):
            while True:
                self._take(0)

    def send(self, envelopes: list[dict], *, pace: float = 0.0, read_acks: bool = True) -> None:
        for envelope in envelopes:
            self.conn.send(json.dumps({"type": "send", "envelope": envelope}))
            self.sent[envelope["id"]] += 1
            if read_acks:
                self._drain()
            if pace:
                time.sleep(pace)

    def wait_for_acks(self, ids: list[str]) -> None:
        deadline = time.monotonic() + WAIT
        while not all(i in self.acks for i in ids):
            if self.problems:
                raise AssertionError(f"The server refused a message: {self.problems}")
            if time.monotonic() > deadline:
                missing = [i for i in ids if i not in self.acks]
                raise AssertionError(
                    f"{len(missing)} message(s) never acknowledged.\n{self.server.log_tail()}"
                )
            with contextlib.suppress(TimeoutError):
                self._take(0.2)

    def stream_until_cut_off(self, envelopes: list[dict]) -> None:
        """Sends and waits for acknowledgments until the connection dies under it."""
        try:
            self.send(envelopes, pace=PACE)
            self.wait_for_acks([e["id"] for e in envelopes])
        except (ConnectionClosed, OSError):
            return


class Reader(threading.Thread):
    """The facilitator's client: reconnects whenever its socket dies and asks for what came after the last
    sequence number it saw; shows each message once however often it comes, as conversation.js does."""

    def __init__(self, server: Server, session: str, public_id: str):
        super().__init__(daemon=True)
        self.server, self.session, self.public_id = server, session, public_id
        self.lock = threading.Lock()
        self.shown: list[dict] = []  # message frames in the order they were first seen
        self.via: dict[str, str] = {}  # message id -> "backlog" (before the ready frame) or "live"
        self.repeats: list[dict] = []  # frames of messages already shown
        self.hellos: list[int] = []  # the `after` of each hello
        self.problems: list[dict] = []
        self.last_seq = 0
        self.away = threading.Event()  # set: the facilitator is offline and does not reconnect
        self.stopping = threading.Event()

    def shown_ids(self) -> set[str]:
        with self.lock:
            return {f["id"] for f in self.shown}

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)

    def run(self) -> None:
        while not self.stopping.is_set():
            if self.away.is_set():
                time.sleep(0.05)
                continue
            try:
                connecting = _socket(self.server, self.session, self.public_id)
            except InvalidStatus as error:  # turned away: the session or the conversation is wrong
                self.problems.append({"type": "handshake", "error": str(error)})
                time.sleep(0.05)
                continue
            except (OSError, TimeoutError, InvalidHandshake):
                time.sleep(0.05)  # the server is down, starting, or died during the handshake
                continue
            with connecting as conn:
                self._listen(conn)

    def _listen(self, conn: ClientConnection) -> None:
        self.hellos.append(self.last_seq)
        ready = False
        try:
            conn.send(json.dumps({"type": "hello", "after": self.last_seq}))
            while not self.stopping.is_set():
                try:
                    frame = json.loads(conn.recv(timeout=0.1))
                except TimeoutError:
                    continue
                ready = ready or frame["type"] == "ready"
                self._take(frame, "live" if ready else "backlog")
        except (ConnectionClosed, OSError):
            return

    def _take(self, frame: dict, via: str) -> None:
        if frame["type"] in ("error", "refused"):
            self.problems.append(frame)
        if frame["type"] != "message":
            return
        if frame["envelope"].get("conversation") != self.public_id:
            # Only possible when another test run shares the Redis channel layer and its group names.
            return
        with self.lock:
            if frame["id"] in self.via:
                self.repeats.append(frame)
                return
            self.shown.append(frame)
            self.via[frame["id"]] = via
            self.last_seq = max(self.last_seq, frame["seq"])


# --- the scenario -------------------------------------------------------------------------------------


@dataclass
class Kill:
    acked_before: set[str]  # acknowledged to the sender before the kill
    stored: set[str]  # in the database once the server was dead
    outbox: list[str] = field(default_factory=list)  # sent from the outbox on the next connection
    resent: list[str] = field(default_factory=list)  # those of them that had been sent before the kill
    connection: int = 0  # the sender's connection after the restart


@dataclass
class Run:
    public_id: str
    texts: dict[str, str]  # message id -> text, in the order written
    envelopes: dict[str, dict]
    sender: Sender
    reader: Reader
    kills: list[Kill]
    stored: list[tuple[int, str, int]]
    party_user: int
    facilitator_user: int
    party_keys: env.KeyPair
    facilitator_keys: env.KeyPair


def _killed(server: Server, sender: Sender, public_id: str) -> Kill:
    return Kill(acked_before=set(sender.acks), stored=server.stored_ids(public_id))


def _restart(server: Server, sender: Sender, kill: Kill, written: list[dict]) -> None:
    """Starts the server again; the sender reconnects and sends its outbox (every message written and not
    acknowledged) again, with the same envelopes, in the order written."""
    server.start()
    sender.drop()
    sender.open()
    kill.connection = sender.connections
    outbox = [e for e in written if e["id"] not in sender.acks]
    kill.outbox = [e["id"] for e in outbox]
    kill.resent = [e["id"] for e in outbox if sender.sent[e["id"]]]
    sender.send(outbox)


def _play(server: Server, seeded: dict) -> Run:
    public_id = seeded["conversation"]
    party, facilitator = seeded["party"], seeded["facilitator"]
    party_keys = env.KeyPair.from_file(party["keys"])
    facilitator_keys = env.KeyPair.from_file(facilitator["keys"])
    server.start()

    sender = Sender(server, party["session"], public_id)
    sender.open()
    members = sender.members()
    assert members["can_write"], members
    # Sealed to the people the server lists, as the page does before sending.
    recipients = [env.Recipient(m["key_id"], env.unb64u(m["enc_public"])) for m in members["members"]]
    assert {r.key_id for r in recipients} == {party_keys.key_id, facilitator_keys.key_id}
    texts = {}
    envelopes = []
    for n in range(MESSAGES):
        text = f"Note {n + 1} of {MESSAGES} from Sorrel: the tide came in over the footbridge again."
        envelope = env.seal(
            sender=party_keys, conversation=public_id, content={"text": text}, recipients=recipients
        )
        texts[envelope["id"]] = text
        envelopes.append(envelope)

    reader = Reader(server, facilitator["session"], public_id)
    reader.start()
    kills = []
    try:
        # 1. A stream of messages, cut off by kill -9 once some are acknowledged and others are on the way.
        stream = threading.Thread(
            target=sender.stream_until_cut_off, args=(envelopes[:FIRST_STREAM],), daemon=True
        )
        stream.start()
        _wait_until(lambda: len(sender.acks) >= KILL_AFTER_ACKS, "the first acknowledgments", server)
        server.kill()
        stream.join(timeout=WAIT)
        assert not stream.is_alive(), "the sender did not notice that the server died"
        kills.append(_killed(server, sender, public_id))

        # 2. Restart: the outbox goes again. Then ten more, whose acknowledgments are lost with the server:
        # the sender never reads them, as when the server dies between storing a message and acknowledging it.
        _restart(server, sender, kills[0], envelopes[:FIRST_STREAM])
        sender.wait_for_acks([e["id"] for e in envelopes[:FIRST_STREAM]])
        lost = [envelopes[n] for n in LOST_ACKS]
        sender.send(lost, read_acks=False)
        _wait_until(
            lambda: {e["id"] for e in lost} <= reader.shown_ids(), "the facilitator to get them", server
        )
        reader.away.set()
        server.kill()
        kills.append(_killed(server, sender, public_id))

        # 3. Restart again: the outbox goes again, and the rest of the conversation follows while the
        # facilitator is offline; they come back afterwards and catch up from where they were.
        _restart(server, sender, kills[1], envelopes[: LOST_ACKS.stop])
        sender.send(envelopes[LOST_ACKS.stop :])
        sender.wait_for_acks([e["id"] for e in envelopes])
        reader.away.clear()
        # Not required: if some never come, the checks below say which.
        if _wait_until(
            lambda: len(reader.shown_ids()) >= MESSAGES, "every message to arrive", server, required=False
        ):
            time.sleep(0.3)  # a moment for any late repeat to arrive, so that the checks see it
    finally:
        reader.stop()
        sender.drop()
        server.stop()
    return Run(
        public_id=public_id,
        texts=texts,
        envelopes={e["id"]: e for e in envelopes},
        sender=sender,
        reader=reader,
        kills=kills,
        stored=server.stored(public_id),
        party_user=party["user"],
        facilitator_user=facilitator["user"],
        party_keys=party_keys,
        facilitator_keys=facilitator_keys,
    )


@pytest.fixture(scope="module")
def run(server) -> Run:
    seeded = json.loads(
        servers.run([sys.executable, "-m", "tests.e2e.test_nothing_lost"], server.env, "Seeding")
        .strip()
        .splitlines()[-1]
    )
    return _play(server, seeded)


# --- the checks ---------------------------------------------------------------------------------------


def test_inv_nothing_lost_kills_the_server_mid_conversation(run):
    first, second = run.kills
    # The first kill cut the stream off: some messages were acknowledged, some not.
    assert KILL_AFTER_ACKS <= len(first.acked_before) < FIRST_STREAM
    assert first.resent, "the first kill landed after the stream had finished"
    # The second left ten messages stored whose acknowledgments the sender never read.
    assert {list(run.texts)[n] for n in LOST_ACKS} <= second.stored - second.acked_before
    assert run.sender.problems == [] and run.reader.problems == []


def test_inv_nothing_lost_stores_each_message_before_acknowledging_it(run):
    for kill in run.kills:
        assert kill.acked_before <= kill.stored, "acknowledged, yet not in the database when the server died"
    assert set(run.sender.acks) == set(run.texts)
    assert {message_id for _seq, message_id, _user in run.stored} == set(run.texts)


def test_inv_nothing_lost_acknowledges_a_resent_message_as_a_duplicate_once_stored(run):
    duplicates = 0
    for kill in run.kills:
        acks_after = {
            frame["id"]: frame for connection, frame in run.sender.ack_log if connection == kill.connection
        }
        for message_id in kill.outbox:
            ack = acks_after[message_id]
            assert ack["duplicate"] is (message_id in kill.stored), ack
            duplicates += ack["duplicate"]
    assert duplicates >= len(LOST_ACKS)
    # And no message was stored twice: one acknowledgment per message says it was new.
    new = Counter(frame["id"] for _connection, frame in run.sender.ack_log if not frame["duplicate"])
    assert max(new.values()) == 1
    seq_of = {}
    for _connection, frame in run.sender.ack_log:
        assert seq_of.setdefault(frame["id"], frame["seq"]) == frame["seq"], "a resend got a new seq"


def test_inv_nothing_lost_delivers_every_acknowledged_message_exactly_once(run):
    shown = run.reader.shown
    seqs = [frame["seq"] for frame in shown]
    assert sorted(f["id"] for f in shown) == sorted(run.sender.acks), "lost or unknown messages"
    assert seqs == list(range(1, MESSAGES + 1)), "out of order, or a gap"
    assert {f["id"]: f["seq"] for f in shown} == {i: a["seq"] for i, a in run.sender.acks.items()}
    # Some came live, and what was written while the facilitator was offline came when they asked for what
    # they had missed.
    assert "live" in run.reader.via.values()
    assert {run.reader.via[i] for i in list(run.texts)[LOST_ACKS.stop :]} == {"backlog"}
    assert len(run.reader.hellos) > len(run.kills)
    # A message may come twice (a live frame racing the backlog on connecting); then it is the very same
    # frame, and the client shows it once.
    first_seen = {f["id"]: f for f in shown}
    for repeat in run.reader.repeats:
        assert repeat == first_seen[repeat["id"]]


def test_inv_nothing_lost_lets_the_recipient_decrypt_every_message_as_written(run):
    for frame in run.reader.shown:
        envelope = frame["envelope"]
        assert envelope == run.envelopes[frame["id"]], "the envelope changed on the way"
        assert frame["from"]["key_id"] == run.party_keys.key_id
        env.verify(envelope, run.party_keys.sign_public)
        assert env.open_envelope(envelope, run.facilitator_keys) == {"text": run.texts[frame["id"]]}
    assert [run.texts[f["id"]] for f in run.reader.shown] == list(run.texts.values())


def test_inv_nothing_lost_keeps_each_message_once_in_the_database(run):
    rows = Counter((seq, message_id) for seq, message_id, _user in run.stored)
    assert sorted(rows) == sorted((a["seq"], i) for i, a in run.sender.acks.items())
    assert set(rows.values()) == {2}, "each message has one recipient row per person"
    recipients = {(message_id, user) for _seq, message_id, user in run.stored}
    assert recipients == {(i, u) for i in run.texts for u in (run.party_user, run.facilitator_user)}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    # One JSON line on stdout, last, so that anything else printed cannot be mistaken for it.
    sys.stdout.write("\n" + json.dumps(seed()) + "\n")
