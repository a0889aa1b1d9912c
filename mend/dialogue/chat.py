"""A small client of the dialogue's JSON API, for `mend chat`: it unwraps a staff member's keys into a local
key file, and seals, checks and opens envelope v2 on this machine, so the server still sees ciphertext only.

Everything here talks to the server through one `Transport` (urllib by default), so that the tests can put
Django's test client in its place.
"""

import http.client
import ipaddress
import json
import os
import re
import stat
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mend.accounts.credentials import normalise_phrase
from mend.core import envelope as env

# (method, url, headers, body) -> (status, body). Raises NetworkError when nothing came back.
Transport = Callable[[str, str, dict, bytes | None], tuple[int, bytes]]

SEND_KINDS = ("message", "returned", "relayed")
TIMEOUT_SECONDS = 30
ALREADY_THERE = "There is already a file at {path}. Choose another --out, or move that file away."
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class ChatError(Exception):
    """Something the person can act on; the message is a plain sentence for them."""


class NetworkError(ChatError):
    """No answer came back, so a write may or may not have happened."""


class ServerRefused(ChatError):
    """The server answered with an error; the message is the server's own, for the person who called."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect with the Authorization header, to any host and even to plain http."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def urllib_transport(method: str, url: str, headers: dict, body: bytes | None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - Api checks the scheme
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        reason = getattr(reason, "strerror", None) or reason
        raise NetworkError(f"Could not reach the server at {url.split('/api/')[0]} ({reason}).") from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """The server's address, without a trailing slash. The token travels with every call, so plain http
    is only for a server on this machine."""
    parts = urllib.parse.urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChatError("The --url must be the server's address, like https://mend.example.org.")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ChatError("Use an https:// address: over plain http your API token would travel unprotected.")
    if parts.query or parts.fragment:
        raise ChatError("The --url must be the server's address only, without ? or #.")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class Api:
    """The calls `mend chat` makes, as one staff member with their personal API token."""

    def __init__(self, url: str, token: str, *, transport: Transport | None = None):
        self.base = check_base_url(url) + "/api/v1"
        token = (token or "").strip()
        if not token:
            raise ChatError(
                "Give your personal API token with --token or in MEND_API_TOKEN. "
                "You can make one on your account's API tokens page."
            )
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.transport = transport or urllib_transport

    def call(self, method: str, path: str, *, query: dict | None = None, body: dict | None = None):
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, raw = self.transport(method, url, headers, data)
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = None
        if 200 <= status < 300 and answer is not None:
            return answer
        if isinstance(answer, dict) and isinstance(answer.get("detail"), str) and 400 <= status < 500:
            raise ServerRefused(answer["detail"], status)
        if 300 <= status < 400:
            raise ServerRefused(
                f"The server sent this call to another address (HTTP {status}). Check the --url: "
                "it must be the server's own address, with https://.",
                status,
            )
        if status >= 500:
            raise ServerRefused(f"The server had a problem (HTTP {status}). Try again in a while.", status)
        raise ServerRefused(
            f"The server's answer was not what Mend sends (HTTP {status}). Check the --url.", status
        )

    def my_keys(self) -> dict:
        try:
            return self.call("GET", "/me/keys")
        except ServerRefused as error:
            if error.status == 404:
                raise ChatError(
                    "You have no keys yet. Sign in once in the browser, which makes them, then try again."
                ) from None
            raise

    def conversations(self, case_ref: str) -> list[dict]:
        try:
            return self.call("GET", f"/cases/{_quote(case_ref)}/conversations")
        except ServerRefused as error:
            if error.status == 404:
                raise ChatError(f"There is no case {case_ref} that you can see.") from None
            raise

    def members(self, conversation: str, kind: str) -> dict:
        return self._in_conversation(conversation, "GET", "/members", query={"kind": kind})

    def messages(self, conversation: str, after: int = 0) -> list[dict]:
        """Every message for you after `after`, however many pages that takes."""
        found = []
        while True:
            page = self._in_conversation(conversation, "GET", "/messages", query={"after": after})
            if not page:
                return found
            if page[-1]["seq"] <= after:
                raise ChatError("The server sent the same messages again; try again in a while.")
            found += page
            after = page[-1]["seq"]

    def post(self, conversation: str, envelope: dict) -> dict:
        """Sends the envelope; after a network error, once more with the same message id, which the server
        answers with the first sequence number if the first try did arrive."""
        try:
            return self._in_conversation(conversation, "POST", "/messages", body=envelope)
        except NetworkError:
            pass
        try:
            return self._in_conversation(conversation, "POST", "/messages", body=envelope)
        except NetworkError as error:
            raise NetworkError(
                f"{error} The message may or may not have arrived: read the conversation before sending "
                "it again."
            ) from None

    def _in_conversation(self, conversation: str, method: str, tail: str, **kwargs):
        try:
            return self.call(method, f"/conversations/{_quote(conversation)}{tail}", **kwargs)
        except ServerRefused as error:
            if error.status == 404:
                raise ChatError(f"There is no conversation {conversation} that you are in.") from None
            raise


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


# The local key file.


def keyfile_from_server(api: Api, *, identifier: str, passphrase: str) -> dict:
    """Your keys as the key file holds them: unwrapped here with the key your passphrase derives, and
    checked against the key id the server knows them by."""
    served = api.my_keys()
    identifier = identifier.strip().lower()
    if "@" not in identifier:  # a participant's phrase, normalised as the sign-in page does
        passphrase = normalise_phrase(passphrase)
    install_id = served.get("install_id") if served.get("wrapped_salt") == 2 else None
    _auth, wrap_key = env.derive_sign_in(identifier, passphrase, install_id=install_id)
    try:
        keys = env.unwrap_keys(wrap_key, served.get("wrapped"))
    except env.EnvelopeError as error:
        if "iterations" in str(error):
            raise ChatError(str(error)) from None
        raise ChatError(
            "That passphrase does not open your keys. Check it, and that --identifier is the email "
            "you sign in with."
        ) from None
    if keys.key_id != served.get("key_id") or keys.public() != {
        "enc_public": served.get("enc_public"),
        "sign_public": served.get("sign_public"),
    }:
        raise ChatError(
            "The keys the server sent do not match their key id, so they were not saved. "
            "Tell your program's administrator."
        )
    return {**keys.to_file(), **keys.public(), "key_id": keys.key_id}


def keyfile_write(path: str | os.PathLike, data: dict) -> None:
    """Writes the key file readable by its owner only, and never over an existing file."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ChatError(ALREADY_THERE.format(path=path)) from None
    except OSError as error:
        raise ChatError(f"Could not write {path}: {error.strerror}.") from None
    with os.fdopen(descriptor, "w") as out:
        if hasattr(os, "fchmod"):
            os.fchmod(out.fileno(), 0o600)
        json.dump(data, out, indent=2)
        out.write("\n")


def keyfile_read(path: str | os.PathLike) -> env.KeyPair:
    """The keys in a key file made by `mend chat keyfile`, after checking it is private and whole."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ChatError(f"There is no key file at {path}. Make one with `mend chat keyfile`.") from None
    except (OSError, ValueError):
        raise ChatError(f"{path} is not a key file made by `mend chat keyfile`.") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ChatError(f"Others can read the key file {path}. Make it private first: chmod 600 {path}")
    try:
        keys = env.KeyPair.from_file(data)
    except (env.EnvelopeError, KeyError, TypeError, ValueError):
        raise ChatError(f"{path} is not a key file made by `mend chat keyfile`.") from None
    if data.get("key_id") != keys.key_id:
        raise ChatError(f"The key file {path} is damaged: its keys do not match its key id.")
    return keys


# Reading.


@dataclass
class Line:
    """One message as `mend chat read` shows it; `problem` says why a message is not shown."""

    seq: int
    at: datetime
    name: str
    kind: str
    text: str = ""
    files: int = 0
    mark: str = ""
    problem: str = ""

    def render(self) -> str:
        when = self.at.astimezone().strftime("%Y-%m-%d %H:%M")
        head = f"{self.seq}  {when}  {printable(self.name)}{self.mark}"
        if self.problem:
            return f"{head}: [not shown: {self.problem}]"
        body = printable(self.text).replace("\n", "\n    ")
        if self.files:
            body += f" [{self.files} attached file{'s' if self.files != 1 else ''}]"
        return f"{head}: {body}"


def printable(text: str) -> str:
    """Text from other people without terminal control characters, which could rewrite the screen."""
    return _CONTROL.sub("\ufffd", str(text).replace("\r\n", "\n"))


_RELAY_STATES = {"pending": "waiting for review", "returned": "returned", "forwarded": "passed on"}


def _mark(frame: dict, seqs: dict[str, int]) -> str:
    ref = frame.get("ref")
    about = f" #{seqs[ref]}" if ref in seqs else ""
    if frame["kind"] == "relayed":
        return " (relayed by the facilitator)"
    if frame["kind"] == "returned":
        return f" (returned{about} with a note)"
    if frame["kind"] == "for_relay":
        approved = "may be passed on" if frame.get("approved") else "not to be passed on"
        state = _RELAY_STATES.get(frame.get("relay_state"), frame.get("relay_state") or "")
        # The id is what a facilitator gives as --ref to return or pass this message on.
        return f" (for the other side, {approved}, {state}; id {frame['id']})"
    return ""


def check_and_open(frame: dict, conversation: str, keys: env.KeyPair) -> dict:
    """The content of one message, after checking who signed it: the sender's public keys must be the ones
    their key id names, and the signature must hold over the whole envelope. (content, key ids that could
    not be checked)."""
    envelope, sender = frame.get("envelope") or {}, frame.get("from") or {}
    if not sender.get("enc_public") or not sender.get("sign_public"):
        raise env.EnvelopeError("the sender's keys are unknown, so it cannot be checked")
    enc_public = env.unb64u(sender["enc_public"], length=32, what="sender's key")
    sign_public = env.unb64u(sender["sign_public"], length=32, what="sender's key")
    if not (env.key_id_of(enc_public, sign_public) == sender.get("key_id") == envelope.get("sender")):
        raise env.EnvelopeError("the sender's keys do not match the key id it was sent with")
    if envelope.get("conversation") != conversation:
        raise env.EnvelopeError("it was sealed for another conversation")
    if envelope.get("id") != frame.get("id"):
        raise env.EnvelopeError("it was sealed under another id")
    meta = envelope.get("meta") or {}
    # What the server says beside the envelope (kind, what it refers to, whether the writer agreed to have
    # it passed on) must be what the sender signed: a database writer cannot flip any of it.
    if (
        meta.get("kind") != frame.get("kind")
        or meta.get("ref") != frame.get("ref")
        or (meta.get("approved") is True) != (frame.get("approved") is True)
    ):
        raise env.EnvelopeError("what the server says about it differs from what its sender signed")
    env.verify(envelope, sign_public)
    # Envelope v2: every recipient's entry is recomputed, so a message not sealed alike for all is refused.
    recipients = None if envelope.get("v") == 1 else env.recipient_keys(frame.get("recipient_keys"))
    content, unchecked = env.open_checked(envelope, keys, recipients)
    return content, unchecked


_KEY_MARKS = {
    "changed": " [signed with keys that changed]",
    "unknown": " [signed with keys you have not checked]",
}


def conversation_read(
    api: Api, keys: env.KeyPair, conversation: str, after: int = 0, pins: "Pins | None" = None
) -> list[Line]:
    """The messages, checked and opened; with pins, a message signed by keys not pinned for its sender in
    this conversation (once it has been written in from here) is marked."""
    lines, seqs = [], {}
    pinned_here = pins is not None and conversation in pins.conversations
    for frame in api.messages(conversation, after):
        seqs[frame["id"]] = frame["seq"]
        line = Line(
            seq=frame["seq"],
            at=datetime.fromisoformat(frame["at"]),
            name=(frame.get("from") or {}).get("name") or "someone",
            kind=frame["kind"],
            mark=_mark(frame, seqs),
        )
        try:
            content, unchecked = check_and_open(frame, conversation, keys)
        except (env.EnvelopeError, KeyError, TypeError, ValueError) as error:
            line.problem = str(error).rstrip(".") if isinstance(error, env.EnvelopeError) else "malformed"
        else:
            line.text = content.get("text", "") if isinstance(content, dict) else ""
            line.files = len(content.get("files") or []) if isinstance(content, dict) else 0
            sender = frame["envelope"]["sender"]
            if pinned_here and sender != keys.key_id:
                line.mark += _KEY_MARKS.get(pins.state_of(conversation, frame["from"]["user"], sender), "")
            if unchecked:
                why = (
                    "an older message"
                    if frame["envelope"].get("v") == 1
                    else "someone's keys are no longer kept"
                )
                line.mark += f" [not checked for everyone here: {why}]"
        lines.append(line)
    return lines


# Pinned keys, beside the key file, as the pages keep them: per conversation, each person in each role with
# the key ids accepted for them (the current one last), and per person the last key id accepted anywhere.
# The first use of a conversation pins what it sees; later, a changed key or a new member is refused until
# the person says they checked. Key ids are worked out here from the public keys (`recipients_of`).


class Pins:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            self.known = json.loads(self.path.read_text())
        except FileNotFoundError:
            self.known = {}
        except ValueError:
            self.known = None
        if not isinstance(self.known, dict) or not isinstance(self.known.get("conversations", {}), dict):
            problem = f"{self.path} is not a pins file Mend wrote. Move it away, then try again."
            raise ChatError(problem) from None
        # {"<user id>": key_id, ..., "conversations": {conversation: {"<user>|<role>": {...}}}}
        self.conversations = self.known.setdefault("conversations", {})

    @staticmethod
    def _slot(person: dict) -> str:
        return f"{person['user']}|{person.get('role_code') or person.get('role')}"

    def changes(self, conversation: str, people: list[dict]) -> list[tuple[dict, str]]:
        """Pins what is first seen; returns (person, "new" | "changed") for each change not yet accepted.
        `people` are checked members (their key ids worked out from their keys), without oneself."""
        first = conversation not in self.conversations
        record = self.conversations.setdefault(conversation, {})
        changes = []
        for person in people:
            key_id, elsewhere = person.get("key_id"), self.known.get(str(person["user"]))
            known = record.get(self._slot(person))
            current = known["keys"][-1] if known and known["keys"] else None
            if known is None and not first:
                changes.append((person, "new"))
            elif (known is None or current is None) and key_id and elsewhere and elsewhere != key_id:
                # First keys here that differ from the ones pinned for this person elsewhere: not pinned.
                if known is None:
                    record[self._slot(person)] = {"name": person.get("name", ""), "keys": [elsewhere]}
                changes.append((person, "changed"))
            elif known is None or (current is None and key_id):
                record[self._slot(person)] = {
                    "name": person.get("name", ""),
                    "keys": [key_id] if key_id else [],
                }
                if key_id and elsewhere is None:
                    self.known[str(person["user"])] = key_id
            elif key_id and key_id != current:
                changes.append((person, "changed"))
        self.save()
        return changes

    def accept(self, conversation: str, people: list[dict]) -> None:
        record = self.conversations.setdefault(conversation, {})
        for person in people:
            key_id = person.get("key_id")
            known = record.get(self._slot(person)) or {"keys": []}
            keys = [k for k in known["keys"] if k != key_id] + ([key_id] if key_id else [])
            record[self._slot(person)] = {"name": person.get("name", ""), "keys": keys}
            if key_id:
                self.known[str(person["user"])] = key_id
        self.save()

    def state_of(self, conversation: str, user: int, key_id: str) -> str:
        """How a message's signing key stands in this conversation: "pinned" (a key accepted for that person
        here), "changed" (known here with other keys) or "unknown"."""
        entries = [
            e
            for slot, e in self.conversations.get(conversation, {}).items()
            if slot.split("|")[0] == str(user)
        ]
        if any(key_id in e["keys"] for e in entries):
            return "pinned"
        return "changed" if any(e["keys"] for e in entries) else "unknown"

    def save(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.known, out)


def pins_beside(key_path: str | os.PathLike) -> Pins:
    return Pins(f"{key_path}.pins")


# Sending.


@dataclass
class Sent:
    seq: int
    message_id: str
    duplicate: bool
    without_keys: list[str] = field(default_factory=list)


def recipients_of(members: list[dict]) -> tuple[list[env.Recipient], list[str]]:
    """(whom to encrypt to, names of members who have no keys yet and so cannot be sent to)."""
    recipients, without = [], []
    for member in members:
        if not member.get("key_id"):
            without.append(member.get("name") or "someone")
            continue
        enc_public = env.unb64u(member["enc_public"], length=32, what="member's key")
        sign_public = env.unb64u(member["sign_public"], length=32, what="member's key")
        if env.key_id_of(enc_public, sign_public) != member["key_id"]:
            raise ChatError(
                f"The server sent keys for {printable(member.get('name', 'someone'))} that do not match "
                "their key id, so nothing was sent. Tell your program's administrator."
            )
        recipients.append(env.Recipient(member["key_id"], enc_public))
    return recipients, without


def safety_code_with(keys: env.KeyPair, person: dict) -> str:
    """The safety code you share with a member, worked out here from both people's keys."""
    if not person.get("enc_public") or not person.get("sign_public"):
        return "none yet: they have no keys"
    theirs = (env.unb64u(person["enc_public"], length=32), env.unb64u(person["sign_public"], length=32))
    return env.safety_code_between((keys.enc_public, keys.sign_public), theirs)


def members_check(
    pins: Pins,
    keys: env.KeyPair,
    conversation: str,
    others: list[dict],
    accept_changed: bool,
    accept_new: bool,
) -> None:
    """Refuses a changed key or a new member in a conversation used before, unless the person said they
    checked (and then pins them). `others` are the members but oneself, their key ids already checked."""
    changes = pins.changes(conversation, others)
    changed = [p for p, change in changes if change == "changed"]
    new = [p for p, change in changes if change == "new"]

    def who(people: list[dict], role: bool = False) -> str:
        return ", ".join(
            (f"a new {printable(p.get('role', 'member'))}, " if role else "")
            + f"{printable(p.get('name', 'someone'))} (safety code {safety_code_with(keys, p)})"
            for p in people
        )

    if changed and not accept_changed:
        raise ChatError(
            f"The keys of {who(changed)} changed since you last wrote, so nothing was sent. Compare the "
            "safety code with them, then send again with --accept-key-change."
        )
    if new and not accept_new:
        raise ChatError(
            f"Someone new joined this conversation since you last wrote: {who(new, role=True)}. Nothing "
            "was sent. Check with them, or your program, that they should be here and compare the safety "
            "code, then send again with --accept-new-member."
        )
    pins.accept(conversation, [p for p, _change in changes])


def message_send(
    api: Api,
    keys: env.KeyPair,
    conversation: str,
    text: str,
    *,
    kind: str = "message",
    ref: str | None = None,
    pins: Pins | None = None,
    accept_changed_keys: bool = False,
    accept_new_members: bool = False,
) -> Sent:
    """Seals the text to exactly the people the server says the message goes to now, and sends it."""
    if kind not in SEND_KINDS:
        raise ChatError(f"--kind must be one of: {', '.join(SEND_KINDS)}.")
    meta = {"kind": kind}
    if kind in ("returned", "relayed"):
        if not ref:
            raise ChatError(f"A {kind} message needs --ref, the id of the message it is about.")
        meta["ref"] = ref.strip().lower()
    elif ref:
        raise ChatError("--ref is only for returned or relayed messages.")
    if not text.strip():
        raise ChatError("The message is empty.")
    if len(text) > env.MAX_TEXT_CHARS:
        raise ChatError(f"The message is too long: at most {env.MAX_TEXT_CHARS:,} characters.")
    members = api.members(conversation, kind)["members"]
    recipients, without = recipients_of(members)
    if pins is not None:
        others = [m for m in members if m.get("key_id") != keys.key_id]
        members_check(pins, keys, conversation, others, accept_changed_keys, accept_new_members)
    if keys.key_id not in {r.key_id for r in recipients} and api.my_keys().get("key_id") != keys.key_id:
        raise ChatError(
            "Your key file holds keys you no longer use. Make a new one with `mend chat keyfile`."
        )
    try:
        envelope = env.seal(
            sender=keys,
            conversation=conversation,
            content={"text": text},
            recipients=recipients,
            meta=meta,
            message_id=str(uuid.uuid4()),
        )
        env.check_form(envelope)
    except env.EnvelopeError as error:
        raise ChatError(str(error)) from None
    ack = api.post(conversation, envelope)
    return Sent(seq=ack["seq"], message_id=ack["id"], duplicate=ack["duplicate"], without_keys=without)
