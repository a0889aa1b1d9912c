"""Invariant 4 (privacy) with many people on a side (issue 16): each party, and each supporter, signs in and
walks every page, JSON answer and websocket frame they can reach in their case, looking for another
person's pseudonym, participant id, user id, sign-in name, key id and time zone. They find it only where
mend.readiness.rules.visible_to lets them see that person: people on the same side only when both agreed
(seen_by_same_side), a person responsible sees a person harmed only when she chose to meet them (direct),
and a supporter sees the person they came for and whoever that person may see.

Two cases: five people harmed and one responsible (some chose to meet, some chose the facilitator's
relay, two agreed to be seen by each other), and one person harmed and three youths responsible, each
youth with their own supporter (two youths agreed to be seen by each other). Every person has a time zone
of their own, and ids are made distinctive, so that a leak is a match, not a guess.
"""

import asyncio
import contextlib
import functools
import html
import json
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.utils import timezone

from mend import builders
from mend.accounts.models import KeyBundle, User
from mend.agreements import services as agreement_services
from mend.agreements.models import Version
from mend.asgi import application
from mend.assessments import services as assessments
from mend.cases.models import Case, Participant, Role
from mend.consent import services as consent_services
from mend.core.errors import DomainError
from mend.dialogue import services as dialogue_services
from mend.dialogue.models import Conversation
from mend.dialogue.services import conversations_open_for
from mend.meetings.models import Meeting
from mend.meetings.scheduling import meeting_schedule
from mend.meetings.services import meeting_open
from mend.readiness.rules import visible_to
from mend.readiness.snapshot import snapshot_of
from tests.agreements.progress_helpers import sign
from tests.builders import make_program, make_staff, signed_in
from tests.dialogue.helpers import give_keys, seal

# Distinctive time zones, one a person, none the program's or the staff's.
ZONES = {
    "Aspen": "America/Argentina/Ushuaia",
    "Birch": "Asia/Kathmandu",
    "Cedar": "Pacific/Marquesas",
    "Dune": "Antarctica/Troll",
    "Elm": "Asia/Pyongyang",
    "Falcon": "Atlantic/Stanley",
    "Kauri": "America/St_Johns",
    "Kea": "Asia/Colombo",
    "Tui": "Australia/Eucla",
    "Weka": "Indian/Cocos",
    "Ruru": "Pacific/Pitcairn",
    "Hoiho": "Atlantic/Azores",
    "Kaka": "Asia/Yangon",
}
# Five people harmed: who chose to meet the person responsible, and who agreed to be seen by the others.
FIVE_HARMED = {  # pseudonym: (mode, seen by the same side)
    "Aspen": ("direct", True),
    "Birch": ("direct", True),
    "Cedar": ("direct", False),
    "Dune": ("indirect", False),
    "Elm": ("indirect", False),
}
YOUTHS = {"Kea": ("Ruru", True), "Tui": ("Hoiho", True), "Weka": ("Kaka", False)}  # supporter, seen

# Ids start high and apart, so that "participant 730012" cannot be a page number or a count.
ID_STARTS = {"accounts_user": 910000, "cases_participant": 730000}


def distinctive_ids() -> None:
    for table, start in ID_STARTS.items():
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("SELECT COUNT(*) FROM sqlite_sequence WHERE name = %s", [table])
                if cursor.fetchone()[0]:
                    cursor.execute(
                        "UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = %s", [start, table]
                    )
                else:
                    cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start])
            elif connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), %s))",
                    [table, start],
                )


@dataclass
class World:
    staff: User
    cases: list[Case] = field(default_factory=list)
    people: list[Participant] = field(default_factory=list)  # the parties and supporters of both cases
    messages: int = 0


def _seen(place: Participant, seen: bool) -> None:
    """The choice on the person's choices page (issue 16, part 3)."""
    consent_services.same_side_visibility_set(actor=place.user, place=place, seen=seen)


def _choose(place: Participant, mode: str, **more) -> None:
    consent_services.choices_update(
        actor=place.user,
        place=place,
        mode=mode,
        supporters_may_attend=more.get("supporters", False),
        community_may_attend=False,
        progress_updates="at_end",
        progress_every_weeks=None,
    )


# When the conferences start: in three days for the pages; in minutes for the websockets, whose rooms open.
STARTS_IN = {"value": timedelta(days=3)}


def _in_days(days: int):
    return timezone.now() + (STARTS_IN["value"] if days == 3 else timedelta(days=days))


def five_and_one(program, facilitator) -> tuple[Case, list[Participant]]:
    prepared = builders.prepared_case(
        program=program,
        facilitator=facilitator,
        harmed=tuple(FIVE_HARMED),
        responsible=("Falcon",),
        harm_category="data_breach",
        time_zones=ZONES.get,
        readiness=builders.Readiness(
            mode="direct", extra_scopes=("indirect_exchange",), harmed_scopes=("progress_updates",)
        ),
        actions=builders.TO_ENCOUNTER,
    )
    case = prepared.case
    harmed = {p.pseudonym: p for p in prepared.harmed}
    for name, (mode, seen) in FIVE_HARMED.items():
        if mode != "direct":
            _choose(harmed[name], mode)
        _seen(harmed[name], seen)
    falcon = prepared.responsible[0]
    me = case.participants.get(user=facilitator)
    # A conference of those who chose to meet, and a preparation meeting with one who did not.
    meeting_schedule(
        actor=facilitator,
        case=case,
        kind="conference",
        format="video",
        starts_at=_in_days(3),
        time_zone="UTC",
        attendees=[me, harmed["Aspen"], harmed["Birch"], harmed["Cedar"], falcon],
    )
    meeting_schedule(
        actor=facilitator,
        case=case,
        kind="preparation",
        format="video",
        starts_at=_in_days(3) + timedelta(minutes=90 if STARTS_IN["value"].days else 1),
        time_zone="UTC",
        attendees=[me, harmed["Dune"]],
    )
    # An agreement waiting for signatures, with items owed to particular people harmed.
    version = agreement_services.agreement_draft(actor=facilitator, case=case)
    for owed_to in (harmed["Aspen"], harmed["Dune"], None):
        agreement_services.item_save(
            actor=facilitator,
            version=version,
            kind="other",
            description="Write to the clinic about what changed.",
            owner=falcon,
            due_on=timezone.localdate() + timedelta(days=30),
            verification="A copy of the letter.",
            owed_to=owed_to,
        )
    agreement_services.version_open(actor=facilitator, version=version)
    case.refresh_from_db()
    return case, [*prepared.harmed, falcon]


def one_and_three(program, facilitator) -> tuple[Case, list[Participant]]:
    prepared = builders.prepared_case(
        program=program,
        facilitator=facilitator,
        harmed=("Kauri",),
        responsible=tuple(YOUTHS),
        harm_category="unauthorised_access",
        time_zones=ZONES.get,
        readiness=builders.Readiness(
            mode="direct", supporters_may_attend=True, extra_scopes=("supporters_present",)
        ),
        actions=builders.TO_ENCOUNTER,
    )
    case = prepared.case
    supporters = []
    for youth in prepared.responsible:
        supporter_name, seen = YOUTHS[youth.pseudonym]
        _seen(youth, seen)
        supporter = builders.join(
            actor=facilitator,
            case=case,
            role=Role.SUPPORTER,
            pseudonym=supporter_name,
            supports=youth,
            time_zone=ZONES[supporter_name],
        )
        builders.give_consent(supporter, "take_part", "facilitator_contact")
        supporters.append(supporter)
    assessments.conflict_declare(actor=facilitator, case=case, has_conflict=False)
    me = case.participants.get(user=facilitator)
    meeting_schedule(
        actor=facilitator,
        case=case,
        kind="conference",
        format="video",
        starts_at=_in_days(3),
        time_zone="UTC",
        attendees=[me, *prepared.harmed, *prepared.responsible, *supporters],
    )
    case.refresh_from_db()
    return case, [*prepared.harmed, *prepared.responsible, *supporters]


def converse(case: Case, users: list[User]) -> int:
    """Everyone writes once in each conversation they have, as their browser would (keys the test holds):
    the facilitator first, so that the backlog, its senders' key ids and its receipts have something to
    show. Returns how many messages were stored."""
    pairs = {user.pk: give_keys(user) for user in users}
    stored = 0
    for user in users:
        for conversation in conversations_open_for(case=case, user=user):
            try:
                dialogue_services.message_post(
                    actor=user, conversation=conversation, envelope=seal(conversation, pairs[user.pk])
                )
            except DomainError:  # not theirs to write in (a relay waits for the facilitator, ...)
                continue
            stored += 1
    return stored


def build_world(starts_in: timedelta = timedelta(days=3)) -> World:
    STARTS_IN["value"] = starts_in
    distinctive_ids()
    program = make_program(time_zone="UTC")
    facilitator = make_staff(program, "facilitator", "fac@riverbend.test", "Fen Facilitator")
    world = World(staff=facilitator)
    for make in (five_and_one, one_and_three):
        case, people = make(program, facilitator)
        world.cases.append(case)
        world.people += [Participant.objects.get(pk=p.pk) for p in people]
        world.messages += converse(case, [facilitator, *(p.user for p in people)])
    # Four of the five people harmed sign the agreement waiting for signatures; Elm and Falcon not yet.
    version = Version.objects.get(case=world.cases[0], state=Version.State.SIGNING)
    for place in world.people:
        if place.pseudonym in ("Aspen", "Birch", "Cedar", "Dune"):
            sign(place, version, place.pseudonym)
    return world


# --- what each person must not find ----------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    what: str
    pattern: re.Pattern


def secrets_of(place: Participant, *, ids: bool = True) -> list[Secret]:
    """What would name this person. `ids`: their participant and user ids too (only where ids are made
    distinctive, see distinctive_ids)."""
    user = place.user
    found = [
        Secret("pseudonym", re.compile(rf"\b{re.escape(place.pseudonym)}\b")),
        # Digits apart from other digits: a room names a person "p730012" (mend.meetings.rules.person_id).
        Secret("participant id", re.compile(rf"(?<!\d){place.pk}(?!\d)")),
        Secret("user id", re.compile(rf"(?<!\d){user.pk}(?!\d)")),
        Secret("sign-in name", re.compile(re.escape(user.username))),
        Secret("time zone", re.compile(re.escape(place.time_zone))),
    ]
    if place.time_zone == "UTC":  # everyone's default tells nothing
        found = [secret for secret in found if secret.what != "time zone"]
    if not ids:
        found = [secret for secret in found if secret.what not in ("participant id", "user id")]
    for key_id in KeyBundle.objects.filter(user=user).values_list("key_id", flat=True):
        found.append(Secret("key id", re.compile(re.escape(key_id))))
    return found


# A time-zone picker lists every zone: its options are not a leak, only a zone shown as someone's.
OPTIONS = re.compile(r"<option\b[^>]*>[^<]*</option>", re.S)


def searchable(text: str, what: str) -> str:
    return OPTIONS.sub("", text) if what == "time zone" else text


def leaks_in(text: str, targets: list[Participant], *, ids: bool = True) -> list[str]:
    text = html.unescape(text)
    found = []
    for target in targets:
        for secret in secrets_of(target, ids=ids):
            match = secret.pattern.search(searchable(text, secret.what))
            if match:
                start = max(match.start() - 80, 0)
                context = searchable(text, secret.what)[start : match.end() + 80].replace("\n", " ")
                found.append(f"{target.pseudonym}'s {secret.what}: ...{context}...")
    return found


def hidden_from(viewer: Participant, people: list[Participant]) -> list[Participant]:
    """The people of the viewer's case whom the viewer may not see (mend.readiness.rules.visible_to)."""
    snap = snapshot_of(viewer.case)
    viewer = snap.place(viewer.pk)
    return [
        p for p in people if p.case_id == viewer.case_id and not visible_to(snap, viewer, snap.place(p.pk))
    ]


# --- walking -----------------------------------------------------------------------------------------------

LINK = re.compile(r"""(?:href|src|action|data-[\w-]+)\s*=\s*["'](/[^"'#\s]*)""")
SKIP = ("/static/", "/account/sign-out", "/account/recover", "/i18n/", "/media/")
READABLE = ("text/html", "application/json", "text/calendar", "text/plain", "text/csv")


def start_pages(place: Participant) -> list[str]:
    ref = place.case.reference
    pages = [
        "/",
        f"/cases/{ref}/",
        f"/cases/{ref}/messages/",
        f"/cases/{ref}/consent/",
        f"/cases/{ref}/choices/",
        f"/cases/{ref}/acknowledgment/",
        f"/cases/{ref}/agreement/",
        f"/cases/{ref}/agreement/calendar.ics",
        f"/cases/{ref}/my-information/",
        f"/cases/{ref}/my-information/data/",
        f"/cases/{ref}/delete-my-information/",
    ]
    for meeting in Meeting.objects.filter(case=place.case):
        base = f"/cases/{ref}/sessions/{meeting.pk}/"
        pages += [base, base + "conference/", base + "invitation.ics", f"/meetings/{meeting.pk}/"]
    for conversation in Conversation.objects.filter(case=place.case):
        base = f"/cases/{ref}/messages/{conversation.public_id}/"
        pages += [base, base + "members/"]
    for number in range(1, 3):
        pages.append(f"/cases/{ref}/agreement/v{number}/")
    return pages


def walk(place: Participant, limit: int = 120) -> dict[str, str]:
    """Every page this person reaches from their start pages by following links: path -> text."""
    client = signed_in(place.user)
    seen: dict[str, str] = {}
    # The messages page opens the person's conversations the first time they look: then they are listed.
    client.get(f"/cases/{place.case.reference}/messages/")
    queue = start_pages(place)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen or any(part in path for part in SKIP):
            continue
        response = client.get(path)
        kind = response.get("Content-Type", "")
        if response.status_code != 200 or not any(kind.startswith(k) for k in READABLE):
            seen[path] = ""
            continue
        text = response.content.decode(errors="replace")
        seen[path] = text
        queue += [html.unescape(link) for link in LINK.findall(text)]
    return seen


@pytest.fixture
def world(db) -> World:
    return build_world()


VIEWERS = [*FIVE_HARMED, "Falcon", "Kauri", *YOUTHS, *(s for s, _seen in YOUTHS.values())]


_time_zones = functools.cache(zoneinfo.available_timezones)


@pytest.fixture(autouse=True)
def quick_time_zones(monkeypatch):
    """Speed only, as in tests/test_permission_matrix.py: the time-zone check reads the zone files."""
    monkeypatch.setattr(zoneinfo, "available_timezones", _time_zones)


def test_inv_privacy_it_builds_the_two_cases_as_the_leak_walk_expects(world):
    """The walk below means something only if these hold: who may see whom, and that each person's time
    zone and ids are their own."""
    by_name = {p.pseudonym: p for p in world.people}
    snap = snapshot_of(by_name["Aspen"].case)

    def sees(a, b):
        return visible_to(snap, snap.place(by_name[a].pk), snap.place(by_name[b].pk))

    assert sees("Aspen", "Birch") and sees("Birch", "Aspen")
    assert not sees("Aspen", "Cedar") and not sees("Cedar", "Aspen") and not sees("Dune", "Elm")
    assert sees("Falcon", "Aspen") and sees("Falcon", "Cedar")
    assert not sees("Falcon", "Dune") and not sees("Falcon", "Elm")
    assert all(sees(name, "Falcon") for name in FIVE_HARMED)
    snap = snapshot_of(by_name["Kea"].case)

    def sees_b(a, b):
        return visible_to(snap, snap.place(by_name[a].pk), snap.place(by_name[b].pk))

    assert sees_b("Kea", "Tui") and sees_b("Ruru", "Tui") and sees_b("Ruru", "Hoiho")
    assert not sees_b("Kea", "Weka") and not sees_b("Weka", "Tui") and not sees_b("Kaka", "Ruru")
    assert not sees_b("Ruru", "Kaka") and not sees_b("Kaka", "Kea")
    assert all(sees_b(youth, "Kauri") for youth in YOUTHS)
    zones = [p.time_zone for p in world.people]
    assert len(set(zones)) == len(zones) == len(VIEWERS)
    assert all(
        p.pk > ID_STARTS["cases_participant"] and p.user_id > ID_STARTS["accounts_user"] for p in world.people
    )


@pytest.mark.parametrize("viewer", VIEWERS)
def test_inv_privacy_each_person_finds_another_only_where_that_person_agreed(world, viewer):
    place = next(p for p in world.people if p.pseudonym == viewer)
    hidden = hidden_from(place, world.people)
    pages = walk(place)
    assert sum(1 for text in pages.values() if text) >= 8, f"{viewer} reached too little: {sorted(pages)}"
    found = {path: leaks_in(text, hidden) for path, text in pages.items() if text}
    found = {path: leaks for path, leaks in found.items() if leaks}
    assert not found, f"{viewer} found people they may not see:\n" + "\n".join(
        f"{path}: {leak}" for path, leaks in found.items() for leak in leaks
    )


# --- websockets ---------------------------------------------------------------------------------------------


def _cookie(place: Participant) -> str:
    return _cookie_of(place.user)


def _cookie_of(user: User) -> str:
    client = signed_in(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}"


async def _connect(path: str, cookie: str) -> WebsocketCommunicator | None:
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"cookie", cookie.encode()), (b"origin", b"http://localhost")]
    )
    connected, _code = await communicator.connect(timeout=10)
    return communicator if connected else None


async def _drain(communicator: WebsocketCommunicator, into: list[str]) -> None:
    while True:
        try:
            into.append(await communicator.receive_from(timeout=0.7))
        except (Exception, asyncio.CancelledError):  # nothing more in time (the test communicator then
            return  # stops the consumer), or the socket closed: it has said all it will


async def _close(communicator: WebsocketCommunicator) -> None:
    with contextlib.suppress(Exception, asyncio.CancelledError):  # already stopped by _drain's timeout
        await communicator.disconnect()


async def _frames(path: str, cookie: str, sends: list[dict]) -> list[str]:
    communicator = await _connect(path, cookie)
    if communicator is None:
        return []
    received: list[str] = []
    for frame in sends:
        await communicator.send_json_to(frame)
    await _drain(communicator, received)
    await _close(communicator)
    return received


async def _room(path: str, cookies: dict[int, str]) -> dict[int, list[str]]:
    """Everyone invited in the room at once, each joining, so that presence and peers frames flow."""
    sockets = {who: await _connect(path, cookie) for who, cookie in cookies.items()}
    sockets = {who: s for who, s in sockets.items() if s is not None}
    received: dict[int, list[str]] = {who: [] for who in sockets}
    for communicator in sockets.values():
        await communicator.send_json_to({"type": "join", "audio": False, "video": False})
    await asyncio.gather(*(_drain(s, received[who]) for who, s in sockets.items()))
    for communicator in sockets.values():
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await communicator.send_json_to({"type": "leave"})
    await asyncio.gather(*(_drain(s, received[who]) for who, s in sockets.items()))
    for communicator in sockets.values():
        await _close(communicator)
    return received


def conversation_frames(place: Participant, cookie: str) -> dict[str, list[str]]:
    signed_in(place.user).get(f"/cases/{place.case.reference}/messages/")  # opens their conversations
    frames = {}
    for conversation in Conversation.objects.filter(case=place.case):
        path = f"/ws/conversations/{conversation.public_id}/"
        frames[path] = async_to_sync(_frames)(
            path, cookie, [{"type": "hello", "after": 0}, {"type": "members", "kind": "message"}]
        )
    path = f"/ws/cases/{place.case.reference}/"
    frames[path] = async_to_sync(_frames)(path, cookie, [])
    return frames


@pytest.mark.django_db(transaction=True)
def test_inv_privacy_no_websocket_frame_names_someone_a_person_may_not_see(settings):
    world = build_world(starts_in=timedelta(minutes=5))
    cookies = {place.pk: _cookie(place) for place in world.people}
    cookies[0] = _cookie_of(world.staff)  # the facilitator, in every room
    hidden = {place.pk: hidden_from(place, world.people) for place in world.people}
    names = {place.pk: place.pseudonym for place in world.people}
    report, answered = [], 0
    for place in world.people:
        for path, frames in conversation_frames(place, cookies[place.pk]).items():
            answered += bool(frames)
            for frame in frames:
                report += [f"{place.pseudonym} {path}: {leak}" for leak in leaks_in(frame, hidden[place.pk])]
    in_rooms = 0
    for meeting in Meeting.objects.filter(case__in=world.cases):
        meeting_open(actor=world.staff, session=meeting)
        invited = [p.pk for p in meeting.attendees.all() if p.pk in names] + [0]
        path = f"/ws/meetings/{meeting.pk}/"
        frames = async_to_sync(_room)(path, {pk: cookies[pk] for pk in invited})
        in_rooms += sum(1 for pk in invited if pk and any('"peers"' in f for f in frames.get(pk, [])))
        for pk, received in frames.items():
            for frame in received if pk else ():
                report += [f"{names[pk]} {path}: {leak}" for leak in leaks_in(frame, hidden[pk])]
    assert answered >= len(world.people), "too few sockets answered for the walk to mean anything"
    assert in_rooms >= 4, "too few people got into a meeting's room for the walk to mean anything"
    assert not report, "\n".join(report)


def test_inv_privacy_the_leak_search_finds_each_kind_of_secret(world):
    """The search itself: each secret of a person is found when a page shows it."""
    aspen = next(p for p in world.people if p.pseudonym == "Aspen")
    key_id = KeyBundle.objects.filter(user=aspen.user).values_list("key_id", flat=True).first()
    for shown in (
        "<p>Aspen</p>",
        json.dumps({"id": aspen.pk}),
        json.dumps({"type": "joined", "id": f"p{aspen.pk}"}),
        f'<li data-user="{aspen.user_id}">',
        aspen.user.username,
        f"<time>{aspen.time_zone}</time>",
        *([key_id] if key_id else []),
    ):
        assert leaks_in(shown, [aspen]), shown
    assert not leaks_in(f'<select><option value="{aspen.time_zone}">x</option></select>', [aspen])
    assert not leaks_in("<p>Aspens and 1730001 things</p>", [aspen])


# --- who stepped back, and why ------------------------------------------------------------------------------

REASON = "Quokka reason kept for staff"
# Words that would say what happened to someone, near their name.
STANDING_WORDS = re.compile(
    r"stop|break|withdr|no longer|exclu|not taking part|paused|left the|marked", re.IGNORECASE
)


def named_with_standing(text: str, place: Participant) -> list[str]:
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    found = []
    for match in re.finditer(rf"\b{re.escape(place.pseudonym)}\b", text):
        near = text[max(match.start() - 300, 0) : match.end() + 300]
        if STANDING_WORDS.search(near):
            found.append(" ".join(near.split()))
    return found


def visible_text(text: str) -> str:
    """What a person reads: a page's main part without its markup, or a JSON answer as it is."""
    if "<main" in text:
        text = text.split("<main", 1)[1].split("</main>", 1)[0]
        text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(text.split())


MOMENTS = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(?:[+-]\d\d:\d\d|Z)?")  # an export's own time, and the like


def words(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]+", MOMENTS.sub(" ", text)))


def changed_about(before: dict[str, str], after: dict[str, str], people: list[Participant]) -> list[str]:
    """The pages that named one of these people and now say something new. Such a page may lose them (a
    list of who attends, a conversation's members: as if they had not come), but what it gains is news
    about them: that they paused, stopped or left."""
    found = []
    for path in sorted(set(before) | set(after)):
        was, now = visible_text(before.get(path, "")), visible_text(after.get(path, ""))
        named = [p.pseudonym for p in people if re.search(rf"\b{p.pseudonym}\b", was + " " + now)]
        gained = sorted(words(now) - words(was))
        if named and gained:
            found.append(f"{path} named {', '.join(named)} and now also says: {' '.join(gained)}")
    return found


def test_inv_voluntary_the_others_learn_nothing_of_who_stepped_back_or_why(world):
    """Cedar stops (withdraws her consent to take part), Birch takes a break, staff mark Elm as not in the
    process with a reason. The others may be told that one person will not take part for now, but never who,
    nor the reason. Cedar is seen by Falcon (she chose to meet him) and Birch by Aspen (both agreed), so their
    names are on those pages: a page that named one of them may lose them, but says nothing new (such as
    "Messages are paused for now" in the conversation named after her), and never puts their name next to
    what happened."""
    by_name = {p.pseudonym: p for p in world.people}
    viewers = ("Aspen", "Dune", "Falcon")
    before = {viewer: walk(by_name[viewer]) for viewer in viewers}
    builders.stop(by_name["Cedar"])
    consent_services.participant_pause(actor=by_name["Birch"].user, place=by_name["Birch"])
    consent_services.participant_exclude(actor=world.staff, place=by_name["Elm"], reason=REASON)
    stepped_back = [by_name[name] for name in ("Birch", "Cedar", "Elm")]
    report = []
    for viewer in viewers:
        after = walk(by_name[viewer])
        report += [f"{viewer} {line}" for line in changed_about(before[viewer], after, stepped_back)]
        for path, text in after.items():
            if REASON.lower() in text.lower():
                report.append(f"{viewer} {path}: the reason for Elm's exclusion")
            for place in stepped_back:
                report += [f"{viewer} {path}: {near}" for near in named_with_standing(text, place)]
    for name in ("Birch", "Cedar", "Elm"):
        for path, text in walk(by_name[name]).items():
            if REASON.lower() in text.lower():
                report.append(f"{name} {path}: the reason for Elm's exclusion")
    assert not report, "\n".join(report)


def test_inv_voluntary_the_person_who_stopped_finds_nothing_new(world):
    """Cedar stops. The others go on: a new conference for those who chose to meet, and everyone looks at
    their pages (which opens conversations the first time). Cedar's own pages say nothing new: no meeting,
    no conversation, no notice."""
    by_name = {p.pseudonym: p for p in world.people}
    cedar = by_name["Cedar"]
    builders.stop(cedar)
    before = walk(cedar)
    case = cedar.case
    meeting_schedule(
        actor=world.staff,
        case=case,
        kind="conference",
        format="video",
        starts_at=timezone.now() + timedelta(days=5),
        time_zone="UTC",
        attendees=[
            case.participants.get(user=world.staff),
            by_name["Aspen"],
            by_name["Birch"],
            by_name["Falcon"],
        ],
    )
    for name in ("Falcon", "Aspen", "Birch", "Dune"):
        walk(by_name[name])
    after = walk(cedar)
    news = {
        path: sorted(words(visible_text(after[path])) - words(visible_text(before.get(path, ""))))
        for path in after
    }
    news = {path: gained for path, gained in news.items() if gained}
    assert not news, "\n".join(f"{path}: {' '.join(gained)}" for path, gained in news.items())


def test_inv_voluntary_nothing_is_opened_for_a_person_who_stopped_before_the_others_looked(world):
    """As in the demo's data breach: a person harmed who chose to meet stops before anyone has opened a
    conversation. Then the facilitator and the others look at their messages (which opens theirs): nothing
    new appears on her pages."""
    prepared = builders.prepared_case(
        program=world.cases[0].program,
        facilitator=world.staff,
        harmed=("Ibis", "Jacana"),
        responsible=("Lapwing",),
        actions=builders.TO_ENCOUNTER,
    )
    ibis = prepared.harmed[0]
    builders.stop(ibis)
    before = walk(ibis)
    staff_client = signed_in(world.staff)
    staff_client.get(f"/cases/{prepared.case.reference}/messages/")
    for place in (prepared.harmed[1], *prepared.responsible):
        walk(place)
    after = walk(ibis)
    news = {
        path: sorted(words(visible_text(after[path])) - words(visible_text(before.get(path, ""))))
        for path in after
    }
    news = {path: gained for path, gained in news.items() if gained}
    assert not news, "\n".join(f"{path}: {' '.join(gained)}" for path, gained in news.items())


def test_inv_voluntary_the_others_learn_nothing_when_one_youth_takes_a_break(world):
    """One harmed and three responsible: Tui takes a break. Kea (who agreed with Tui to see each other), Kea's
    supporter Ruru and Kauri, the person harmed, may all see Tui: their pages may lose Tui, but say nothing
    new about Tui, and never put Tui's name next to what happened."""
    by_name = {p.pseudonym: p for p in world.people}
    viewers = ("Kea", "Ruru", "Kauri", "Weka")
    before = {viewer: walk(by_name[viewer]) for viewer in viewers}
    consent_services.participant_pause(actor=by_name["Tui"].user, place=by_name["Tui"])
    report = []
    for viewer in viewers:
        after = walk(by_name[viewer])
        report += [f"{viewer} {line}" for line in changed_about(before[viewer], after, [by_name["Tui"]])]
        for path, text in after.items():
            report += [f"{viewer} {path}: {near}" for near in named_with_standing(text, by_name["Tui"])]
    assert not report, "\n".join(report)


def test_inv_voluntary_the_standing_search_finds_a_name_next_to_what_happened(world):
    birch = next(p for p in world.people if p.pseudonym == "Birch")
    assert named_with_standing("<li>Birch</li><li>has stopped taking part</li>", birch)
    assert not named_with_standing("<li>Birch</li><p>One person will not take part for now.</p>", birch)
    page = "<main><h1>Direct conversation with Birch</h1><p>{}</p></main>"
    assert changed_about(
        {"/m/": page.format("")}, {"/m/": page.format("Messages are paused for now.")}, [birch]
    )
    assert not changed_about({"/m/": page.format("")}, {"/m/": page.format("")}, [birch])
    assert not changed_about(
        {"/c/": "<main>Hello</main>"}, {"/c/": "<main>One person paused.</main>"}, [birch]
    )
