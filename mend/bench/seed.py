"""Made-up data at realistic volume for `make bench` (`mend bench seed`): one program whose lead facilitator
runs every case, with co-facilitators, parties, their keys, conversations, messages and receipts.

Nothing goes through the services, so these cases have no audit trail, consent, assessment or notice: the
benchmark reads cases, people and messages, and these rows are enough for that. Envelopes have the form,
fields and sizes of real ones (docs/crypto.md), with random bytes in place of ciphertexts and signatures:
nobody can open them, and nobody needs to. Every name is invented.

Rows are written a batch of cases at a time, with their ids chosen here so that rows can name each other
before they are stored. They go in as one prepared INSERT per table (SQLite) or one COPY (PostgreSQL)
rather than through bulk_create: building each row's SQL costs bulk_create about 100 µs here, which for the
four million rows of the full seed is most of ten minutes per database.
"""

import base64
import hashlib
import json
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connections, models, transaction
from django.db.models import Max

from mend.accounts import services as account_services
from mend.accounts.credentials import _wordlist
from mend.accounts.models import KeyBundle, Membership, Program, User
from mend.cases.models import Case, Participant, Role
from mend.core import at_rest
from mend.core import envelope as env
from mend.dialogue.models import Conversation, Message, Recipient
from mend.keystore import crypto
from mend.keystore import services as keystore
from mend.keystore.models import DataKey

PROGRAM_SLUG = "bench-seed"
LEAD_EMAIL = "lead@bench-seed.invalid"
STAFF = 60  # the lead facilitator and 59 colleagues, who co-facilitate some of the cases
CO_FACILITATED = 0.3
SPAN_DAYS = 3 * 365  # cases were opened over the last three years

# How many cases are at each stage (weights): most are under way, a good share closed.
STAGES = {
    "referral": 8,
    "intake": 10,
    "assessment": 15,
    "preparation": 20,
    "encounter": 7,
    "agreement": 8,
    "follow_up": 12,
    "closed": 17,
    "paused": 3,
}
EARLY = {"referral", "intake"}  # the parties have not joined yet
CATEGORIES = [c for c, _ in Case._meta.get_field("harm_category").choices]
SOURCES = [s for s, _ in Case._meta.get_field("referral_source").choices]
CLOSURES = ["agreement_completed", "harmed_party_withdrew", "not_suitable", "referred_elsewhere"]
NAMES = """
Wren Kestrel Ibis Plover Stint Tern Alder Moth Heron Rowan Sedge Linnet Finch Hazel Willow Curlew
Dunlin Egret Osprey Sorrel Bracken Juniper Thrush Merlin Lark Robin Teal Rook Yarrow Clover Aspen Birch
Cedar Fern Ivy Laurel Maple Myrtle Pine Poplar Reed Rush Sage Thyme Briar Dove Gull Kite
""".split()  # noqa: SIM905 - a list of words reads best as words
REFERRALS = [
    "Referred after a report to the police; the person harmed asked about a restorative process.",
    "Self-referral through the website form. Prefers contact by the program's phone line.",
    "Referred by the university's student support team after a complaint was resolved informally.",
    "Referred by the prosecutor's diversion officer; both parties have been told about the program.",
]
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # mend.core.ids


# Filler for ciphertexts, nonces and signatures: random-looking bytes, quickly made (no secret is in them).
_filler = random.Random(11).randbytes


def b64u(n: int) -> str:
    return base64.urlsafe_b64encode(_filler(n)).rstrip(b"=").decode()


def envelope_text(conversation: str, message_id: str, sender: str, to: list[str], blocks: int) -> str:
    """The canonical JSON of an envelope v2 (docs/crypto.md): keys in sorted order and ASCII values only,
    which is exactly what RFC 8785 makes of it, written out directly because a million go in."""
    keys = ",".join(f'{{"ck":"{b64u(48)}","epk":"{b64u(32)}","to":"{key_id}"}}' for key_id in sorted(to))
    return (
        f'{{"body":"{b64u(env.PAD_BLOCK * blocks + 16)}","conversation":"{conversation}",'
        f'"id":"{message_id}","keys":[{keys}],"meta":{{"kind":"message"}},"nonce":"{b64u(12)}",'
        f'"sender":"{sender}","sig":"{b64u(64)}","v":2}}'
    )


def _wrapped() -> dict:
    """Private keys as a browser wraps them: PKCS#8 (48 bytes) under AES-GCM (16 more)."""
    return {
        "v": 1,
        "kdf": {"name": "PBKDF2-SHA-256", "iterations": env.PBKDF2_ITERATIONS},
        "enc_private": {"iv": b64u(12), "ct": b64u(64)},
        "sign_private": {"iv": b64u(12), "ct": b64u(64)},
    }


def _bundle(user_id: int, now: datetime) -> dict:
    enc, sign = os.urandom(32), os.urandom(32)
    return {
        "user_id": user_id,
        "key_id": env.key_id_of(enc, sign),
        "enc_public": env.b64u(enc),
        "sign_public": env.b64u(sign),
        "wrapped": _wrapped(),
        "recovery_wrapped": _wrapped(),
        "recovery_verifier": hashlib.sha256(os.urandom(16)).hexdigest(),
        "created_at": now,
    }


class Table:
    """Rows of one model, given as {attname: value} and written in one go: the columns the row leaves out
    take the field's default, or NULL. Every time here is in UTC."""

    def __init__(self, model, *, with_id: bool, alias: str = "default"):
        self.model, self.alias = model, alias
        self.fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        vendor = connections[alias].vendor
        self.index = {f.attname: i for i, f in enumerate(self.fields)}
        self.convert = [self._converter(f, vendor) for f in self.fields]
        # A row of defaults ("" for text without one, else None), which each added row starts from.
        self.template = [
            convert(f.get_default()) if convert else f.get_default()
            for f, convert in zip(self.fields, self.convert, strict=True)
        ]
        self.rows: list[tuple] = []

    @staticmethod
    def _converter(f, vendor: str):
        if isinstance(f, models.JSONField):
            return lambda v: None if v is None else json.dumps(v)
        if isinstance(f, models.DateTimeField) and vendor == "sqlite":
            # What Django's SQLite backend stores for an aware time with USE_TZ: naive UTC, as text.
            return lambda v: None if v is None else str(v.replace(tzinfo=None))
        return None

    def add(self, **values) -> None:
        row = self.template.copy()
        for name, value in values.items():
            i = self.index[name]
            convert = self.convert[i]
            row[i] = convert(value) if convert else value
        self.rows.append(tuple(row))

    def write(self) -> int:
        connection = connections[self.alias]
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in self.fields)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.fields))
                insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - names from models
                cursor.executemany(insert, self.rows)
        written, self.rows = len(self.rows), []
        return written


def _next_id(model) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


@dataclass
class Seeded:
    cases: int = 0
    messages: int = 0
    rows: Counter = field(default_factory=Counter)


def existing() -> tuple[int, int] | None:
    """(cases, messages) of an earlier seed in this database, or None."""
    program = Program.objects.filter(slug=PROGRAM_SLUG).first()
    if program is None:
        return None
    cases = Case.objects.filter(program=program).count()
    messages = Message.objects.filter(conversation__case__program=program).count()
    return cases, messages


class Seeder:
    def __init__(self, *, rng: random.Random, program: Program, now: datetime):
        self.rng, self.program, self.now = rng, program, now
        self.next = {m: _next_id(m) for m in (Case, User, Participant, Conversation, Message)}
        self.taken = set(Case.objects.values_list("reference", flat=True))
        self.taken |= set(Conversation.objects.values_list("public_id", flat=True))
        self.words = _wordlist()
        # One real Argon2 hash of a key nobody knows, shared by every made-up account: the right size.
        self.password = make_password(b64u(32))
        self.master = settings.MEND_MASTER_KEY
        self.tables = {
            "data keys": Table(DataKey, with_id=False, alias=keystore.alias()),
            "cases": Table(Case, with_id=True),
            "users": Table(User, with_id=True),
            "key bundles": Table(KeyBundle, with_id=False),
            "participants": Table(Participant, with_id=True),
            "conversations": Table(Conversation, with_id=True),
            "messages": Table(Message, with_id=True),
            "recipients": Table(Recipient, with_id=False),
        }
        self.key_of: dict[int, str] = {}
        self.written = Counter()

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value

    def code(self, prefix: str) -> str:
        while True:
            body = "".join(self.rng.choices(_CODE_ALPHABET, k=8))
            code = f"{prefix}-{body[:4]}-{body[4:]}"
            if code not in self.taken:
                self.taken.add(code)
                return code

    def user(self, *, username: str, kind: str, name: str, joined: datetime) -> int:
        user_id = self.take(User)
        self.tables["users"].add(
            id=user_id, username=username, kind=kind, display_name=name, password=self.password,
            date_joined=joined,
        )  # fmt: skip
        bundle = _bundle(user_id, joined)
        self.tables["key bundles"].add(**bundle)
        self.key_of[user_id] = bundle["key_id"]
        return user_id

    def staff(self) -> list[tuple[int, str]]:
        """(user id, name) of the lead facilitator and their colleagues, members of the program: made the
        first time, found again after."""
        found = list(
            Membership.objects.filter(program=self.program)
            .order_by("user__username")
            .values_list("user_id", "user__display_name", "user__username")
        )
        if found:
            found.sort(key=lambda row: row[2] != LEAD_EMAIL)
            self.key_of.update(
                KeyBundle.objects.filter(
                    user__in=[pk for pk, *_ in found], replaced_at__isnull=True
                ).values_list("user_id", "key_id")
            )
            return [(pk, name) for pk, name, _username in found]
        joined = self.now - timedelta(days=SPAN_DAYS + 30)
        people = []
        for i in range(STAFF):
            name = f"{NAMES[i % len(NAMES)]} {'Lead' if i == 0 else f'Colleague {i:02d}'}"
            email = LEAD_EMAIL if i == 0 else f"colleague{i:02d}@bench-seed.invalid"
            people.append((self.user(username=email, kind=User.Kind.STAFF, name=name, joined=joined), name))
        self.write()
        Membership.objects.bulk_create(
            [
                Membership(user_id=pk, program=self.program, role=Membership.Role.FACILITATOR)
                for pk, _ in people
            ]
        )
        return people

    def case(self, *, lead, colleagues, stages, weights) -> list[tuple]:
        """One case with its people; returns its conversations as (row, readers' user ids, writers)."""
        rng, now = self.rng, self.now
        opened = now - timedelta(seconds=rng.uniform(0, SPAN_DAYS * 86400))
        stage = rng.choices(stages, weights)[0]
        case_id = self.take(Case)
        data_key = crypto.new_data_key()
        self.tables["data keys"].add(
            case_id=case_id,
            purpose=keystore.PURPOSE,
            wrapped=crypto.wrap(self.master, case_id=case_id, purpose=keystore.PURPOSE, data_key=data_key),
            master_key_id=crypto.master_key_id(self.master),
            created_at=opened,
        )
        details = at_rest.seal(
            data_key, at_rest.aad_for("cases.case.referral_details", case_id), rng.choice(REFERRALS).encode()
        )
        self.tables["cases"].add(
            id=case_id, program_id=self.program.pk, reference=self.code("C"),
            harm_category=rng.choice(CATEGORIES), jurisdictions=["NZ"], referral_source=rng.choice(SOURCES),
            referral_details=details, stage=stage, paused_from="preparation" if stage == "paused" else "",
            closure_reason=rng.choice(CLOSURES) if stage == "closed" else "", created_at=opened,
            updated_at=opened + (now - opened) * rng.random(),
        )  # fmt: skip
        team = [lead] + ([rng.choice(colleagues)] if rng.random() < CO_FACILITATED else [])
        places = self.tables["participants"]
        for n, (user_id, name) in enumerate(team):
            places.add(
                id=self.take(Participant), case_id=case_id, user_id=user_id,
                role=Role.FACILITATOR if n == 0 else Role.CO_FACILITATOR, pseudonym=name,
                invited_at=opened, joined_at=opened,
            )  # fmt: skip
        staff_ids = [user_id for user_id, _ in team]
        talk = []
        harmed_place = None
        for role, pseudonym in zip(
            (Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY), rng.sample(NAMES, 2), strict=True
        ):
            place_id = self.take(Participant)
            harmed_place = harmed_place or place_id
            user_id = None
            if stage not in EARLY and rng.random() < 0.9:
                joined = opened + timedelta(days=2)
                username = f"{rng.choice(self.words)}-b{place_id:x}"
                user_id = self.user(
                    username=username, kind=User.Kind.PARTICIPANT, name=pseudonym, joined=joined
                )
                conversation = {
                    "id": self.take(Conversation), "case_id": case_id, "kind": Conversation.Kind.SUPPORT,
                    "party_id": place_id, "public_id": self.code("D"), "created_at": joined,
                }  # fmt: skip
                talk.append((conversation, [user_id, *staff_ids], (user_id, lead[0])))
            places.add(
                id=place_id, case_id=case_id, user_id=user_id, role=role,
                pseudonym=pseudonym if user_id else "", invited_at=opened,
                joined_at=opened + timedelta(days=2) if user_id else None,
            )  # fmt: skip
        if rng.random() < 0.1:  # a supporter of the person harmed, invited, not joined yet
            places.add(
                id=self.take(Participant), case_id=case_id, role=Role.SUPPORTER, supports_id=harmed_place,
                invited_at=opened,
            )  # fmt: skip
        if len(team) > 1:
            conversation = {
                "id": self.take(Conversation), "case_id": case_id, "kind": Conversation.Kind.TEAM,
                "public_id": self.code("D"), "created_at": opened,
            }  # fmt: skip
            talk.append((conversation, staff_ids, tuple(staff_ids)))
        return talk

    def messages(self, talk: list[tuple], quota: int) -> None:
        """The conversations, with `quota` messages over them, unevenly: a few long exchanges, many short
        ones, and some conversations opened and never written in."""
        rng, now = self.rng, self.now
        weights = [rng.paretovariate(1.5) for _ in talk]
        counts = Counter(rng.choices(range(len(talk)), weights, k=quota)) if talk else Counter()
        messages, recipients = self.tables["messages"], self.tables["recipients"]
        for index, (conversation, readers, writers) in enumerate(talk):
            count = counts[index]
            self.tables["conversations"].add(**conversation, last_seq=count)
            public_id, opened = conversation["public_id"], conversation["created_at"]
            span = (now - opened).total_seconds()
            to = [self.key_of[u] for u in readers]
            times = sorted(opened + timedelta(seconds=rng.uniform(span * 0.05, span)) for _ in range(count))
            for seq, at in enumerate(times, start=1):
                sender = writers[seq % len(writers)]
                message_pk = self.take(Message)
                message_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                blocks = 1 if rng.random() < 0.85 else rng.randint(2, 6)
                messages.add(
                    id=message_pk, conversation_id=conversation["id"], seq=seq, message_id=message_id,
                    sender_id=sender, sender_key_id=self.key_of[sender], kind="message", created_at=at,
                    envelope=envelope_text(public_id, message_id, self.key_of[sender], to, blocks),
                )  # fmt: skip
                delivered = (now - at).total_seconds() > 3600
                for user_id in readers:
                    recipients.add(
                        message_id=message_pk, user_id=user_id, key_id=self.key_of[user_id],
                        delivered_at=at + timedelta(seconds=2) if delivered else None,
                        read_at=at + timedelta(minutes=30) if delivered and rng.random() < 0.9 else None,
                    )  # fmt: skip

    def write(self) -> None:
        for name, table in self.tables.items():
            if table.rows:
                self.written[name] += table.write()


def seed(
    *, cases: int, messages: int, batch: int = 5000, progress: Callable[[str], None] = print, seed: int = 7
) -> Seeded:
    """Writes `cases` cases and `messages` messages (spread unevenly over their conversations) into the
    bench program, made the first time with its staff; later calls add to it."""
    now = datetime.now(UTC)
    started = time.monotonic()
    program = Program.objects.filter(slug=PROGRAM_SLUG).first()
    if program is None:
        with transaction.atomic():
            program = account_services.program_create(
                actor=None, name="Bench Regional Restorative Service", slug=PROGRAM_SLUG, jurisdictions=["NZ"]
            )
    seeder = Seeder(rng=random.Random(seed), program=program, now=now)
    with transaction.atomic():
        staff = seeder.staff()
    done = Seeded()
    stages, weights = list(STAGES), list(STAGES.values())
    for start in range(0, cases, batch):
        size = min(batch, cases - start)
        quota = messages * (start + size) // cases - messages * start // cases
        talk = []
        for _ in range(size):
            talk += seeder.case(lead=staff[0], colleagues=staff[1:], stages=stages, weights=weights)
        seeder.messages(talk, quota)
        with transaction.atomic(using="default"), transaction.atomic(using=keystore.alias()):
            seeder.write()
        done.cases += size
        done.messages += quota
        progress(
            f"  cases {done.cases:,}/{cases:,}  messages {done.messages:,}/{messages:,}  "
            f"({time.monotonic() - started:.0f} s)"
        )
    _after_explicit_ids()
    done.rows = Counter(seeder.written)
    return done


def _after_explicit_ids() -> None:
    """PostgreSQL's id sequences do not move for rows given their ids: set them past the seeded rows. Then
    fresh planner statistics, as a database that grew to this size over time would have."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [Case, User, Participant, Conversation, Message]
        ):
            cursor.execute(statement)
    for alias in {"default", keystore.alias()}:
        with connections[alias].cursor() as cursor:
            cursor.execute("ANALYZE")
