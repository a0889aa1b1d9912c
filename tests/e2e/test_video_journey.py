"""Browser journeys through a meeting's video room, in Chromium with fake cameras and microphones: three
people join and each receives the others' sound and picture (WebRTC's own statistics count the bytes); a
person in the case who was not invited gets no signalling; the facilitator moves someone to a side room and
back; the person harmed stops taking part mid-meeting and is disconnected from the others at once.

Each journey seeds a case of its own (tests/e2e/video_seed.py) into the e2e server's database. The browser
here is a second Chromium from the same Playwright as the shared one, with fake media devices.
"""

import secrets
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e import servers
from tests.e2e.navigators import (
    LIVE_SECONDS,
    CspWatcher,
    DialogueCase,
    Facilitator,
    Party,
    loads_last_line,
    serve_neutral_sites,
)

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("video_seed.py")
FAKE_MEDIA = [
    "--use-fake-device-for-media-stream",  # a test pattern and a beep instead of a camera and microphone
    "--use-fake-ui-for-media-stream",  # and yes to the permission prompt
    "--allow-loopback-in-peer-connection",  # machines whose only network is the loopback
    "--autoplay-policy=no-user-gesture-required",
]
MEDIA_SECONDS = 30  # connecting three browsers on a busy two-core machine takes a while


@dataclass(frozen=True)
class Meeting:
    case: DialogueCase
    session_id: int
    supporter_sign_in: str
    ids: dict  # who -> their id in the room


@pytest.fixture(scope="module")
def media_browser(browser, chromium_executable) -> Iterator[Browser]:
    launched = browser.browser_type.launch(
        executable_path=chromium_executable, headless=True, args=servers.CHROMIUM_ARGS + FAKE_MEDIA
    )
    yield launched
    launched.close()


@pytest.fixture
def media_context(media_browser, mend_server, request) -> Iterator[Callable[[], BrowserContext]]:
    """Browser contexts with fake media, one per person; screenshots of their pages if the test fails."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = media_browser.new_context(base_url=mend_server.url, locale="en-GB", timezone_id="UTC")
        context.grant_permissions(["camera", "microphone"])
        context.set_default_timeout(10_000)
        serve_neutral_sites(context)
        contexts.append(context)
        return context

    yield make
    if servers.failed(request.node):
        servers.ARTIFACTS.mkdir(exist_ok=True)
        for c, context in enumerate(contexts):
            for p, page in enumerate(context.pages):
                page.screenshot(
                    path=str(servers.ARTIFACTS / f"video-{request.node.name}-{c}-{p}.png"), full_page=True
                )
    for context in contexts:
        context.close()


@pytest.fixture
def meeting(mend_server, server_database_url, tmp_path_factory) -> Meeting:
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    env = servers.server_env(var_dirs[0], server_database_url)
    raw = loads_last_line(
        servers.run([sys.executable, str(SEED), secrets.token_hex(3)], env, "Seeding a meeting")
    )
    return Meeting(
        case=DialogueCase.from_seed(raw),
        session_id=raw["session_id"],
        supporter_sign_in=raw["supporter_sign_in"],
        ids={
            "facilitator": raw["facilitator_id"],
            "harmed": raw["harmed_id"],
            "responsible": raw["responsible_id"],
        },
    )


class InTheRoom:
    """Anyone in a meeting's video room."""

    def __init__(self, page: Page, session_id: int):
        self.page = page
        self.session_id = session_id
        self.csp = CspWatcher(page)
        # What the page said and what its websocket carried, short, to explain a connection that never came.
        self.log: list[str] = []
        page.on("console", lambda message: self.log.append(f"{message.type}: {message.text[:200]}"))
        page.on("websocket", self._watch_socket)

    def _watch_socket(self, socket) -> None:
        socket.on("framereceived", lambda payload: self.log.append(f"<< {str(payload)[:160]}"))
        socket.on("framesent", lambda payload: self.log.append(f">> {str(payload)[:160]}"))

    def open_room(self) -> None:
        self.page.goto(f"/meetings/{self.session_id}/")

    def join(self, *, camera: bool = True) -> None:
        self.open_room()
        self.page.get_by_label("Camera on").set_checked(camera)
        self.page.get_by_test_id("join").click()
        expect(self.page.locator("[data-room]")).to_have_attribute("data-state", "in", timeout=LIVE_SECONDS)

    def stats(self) -> dict:
        """Bytes of sound and picture received so far from each person connected, as WebRTC counts them."""
        return self.page.evaluate("window.mendVideoStats()")

    def receives_from(self, ids: set[str], seconds: int = MEDIA_SECONDS) -> dict:
        """Waits until exactly these people are connected and sound and picture from each has arrived."""
        deadline = time.monotonic() + seconds
        while True:
            stats = self.stats()
            if set(stats) == ids and all(s["audio"] > 0 and s["video"] > 0 for s in stats.values()):
                return stats
            if time.monotonic() > deadline:
                log = "\n".join(line for line in self.log if "candidate" not in line)
                raise AssertionError(f"expected sound and picture from {sorted(ids)}, got {stats}\n{log}")
            time.sleep(0.5)

    def still_receiving_from(self, ids: set[str]) -> None:
        """The bytes from each of these people keep growing."""
        before = self.receives_from(ids)
        deadline = time.monotonic() + MEDIA_SECONDS
        while True:
            time.sleep(1)
            after = self.stats()
            if all(
                after.get(i, {}).get(kind, 0) > before[i][kind] for i in ids for kind in ("audio", "video")
            ):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"bytes stopped growing: {before} then {after}")

    def tile(self, room_id: str):
        return self.page.locator(f"[data-tiles] [data-peer='{room_id}']")


class FacilitatorInRoom(InTheRoom):
    def move_to_side_room(self, name: str) -> None:
        self.page.get_by_label(name, exact=True).check()
        self.page.get_by_role("button", name="Move to the side room").click()

    def bring_everyone_back(self) -> None:
        self.page.get_by_role("button", name="Bring everyone back").click()


def signed_in_facilitator(media_context, meeting: Meeting) -> FacilitatorInRoom:
    person = Facilitator(media_context().new_page(), meeting.case)
    person.sign_in()
    return FacilitatorInRoom(person.page, meeting.session_id)


def signed_in_party(media_context, meeting: Meeting, sign_in_name: str) -> InTheRoom:
    person = Party(media_context().new_page(), meeting.case, sign_in_name)
    person.sign_in()
    return InTheRoom(person.page, meeting.session_id)


def three_in_the_room(media_context, meeting: Meeting):
    facilitator = signed_in_facilitator(media_context, meeting)
    harmed = signed_in_party(media_context, meeting, meeting.case.harmed_sign_in)
    responsible = signed_in_party(media_context, meeting, meeting.case.responsible_sign_in)
    # The facilitator's joining opens the meeting; the others come in after.
    facilitator.join()
    harmed.join()
    responsible.join()
    return facilitator, harmed, responsible


def test_three_people_see_and_hear_each_other_and_a_side_room_separates_them(media_context, meeting):
    ids = meeting.ids

    # Given the facilitator, the person harmed and the person responsible, each in their own browser
    facilitator, harmed, responsible = three_in_the_room(media_context, meeting)

    # Then each receives the other two's sound and picture, straight from their browsers
    facilitator.receives_from({ids["harmed"], ids["responsible"]})
    harmed.receives_from({ids["facilitator"], ids["responsible"]})
    responsible.receives_from({ids["facilitator"], ids["harmed"]})
    expect(harmed.tile(ids["responsible"])).to_contain_text("Tern")

    # When the facilitator moves the person harmed to a side room
    facilitator.move_to_side_room("Marram")

    # Then the person responsible no longer receives anything from them, nor they from the person responsible
    expect(responsible.tile(ids["harmed"])).to_have_count(0, timeout=LIVE_SECONDS)
    expect(harmed.page.get_by_text("You are in a side room with your facilitator.")).to_be_visible()
    responsible.receives_from({ids["facilitator"]})
    harmed.receives_from({ids["facilitator"]})

    # While the facilitator still receives from both
    facilitator.still_receiving_from({ids["harmed"], ids["responsible"]})
    expect(facilitator.tile(ids["harmed"])).to_contain_text("in the side room")

    # When the facilitator brings everyone back
    facilitator.bring_everyone_back()

    # Then the person harmed and the person responsible are connected again
    responsible.receives_from({ids["facilitator"], ids["harmed"]})
    harmed.receives_from({ids["facilitator"], ids["responsible"]})
    expect(harmed.page.get_by_text("You are in a side room with your facilitator.")).to_be_hidden()

    # And nothing broke the pages' Content-Security-Policy
    for person in (facilitator, harmed, responsible):
        assert person.csp.violations == []


def test_a_break_mutes_everyone_and_shows_the_break_screen(media_context, meeting):
    ids = meeting.ids
    facilitator, harmed, responsible = three_in_the_room(media_context, meeting)
    harmed.receives_from({ids["facilitator"], ids["responsible"]})

    # When the facilitator pauses the meeting for a break
    facilitator.page.get_by_role("button", name="Pause for a break").click()

    # Then everyone sees the break screen, and their own microphone and camera are paused
    for person in (facilitator, harmed, responsible):
        expect(person.page.get_by_text("A short break", exact=True)).to_be_visible(timeout=LIVE_SECONDS)
        assert person.page.evaluate(
            "[...document.querySelectorAll('[data-tiles] video')].every((v) => v.muted)"
        ), "sound from others plays during the break"

    # When the break ends, the screen goes
    facilitator.page.get_by_role("button", name="End the break").click()
    for person in (facilitator, harmed, responsible):
        expect(person.page.get_by_text("A short break", exact=True)).to_be_hidden(timeout=LIVE_SECONDS)


TRY_THE_SOCKET = """(id) => new Promise((resolve) => {
    const seen = {opened: false, frames: 0, code: null};
    const socket = new WebSocket(`ws://${location.host}/ws/meetings/${id}/`);
    socket.addEventListener("open", () => {
        seen.opened = true;
        socket.send(JSON.stringify({type: "join", audio: true, video: true}));
    });
    socket.addEventListener("message", () => { seen.frames += 1; });
    socket.addEventListener("close", (event) => resolve({...seen, code: event.code}));
    setTimeout(() => { socket.close(); resolve(seen); }, 5000);
})"""


def test_an_uninvited_person_in_the_case_gets_no_signalling(media_context, meeting):
    # Given a meeting under way, opened by its facilitator
    facilitator = signed_in_facilitator(media_context, meeting)
    facilitator.join()

    # And the person harmed's supporter, signed in: in the case, but not invited to this meeting
    supporter = signed_in_party(media_context, meeting, meeting.supporter_sign_in)

    # Then the room's page is not found for them
    response = supporter.page.goto(f"/meetings/{meeting.session_id}/")
    assert response is not None and response.status == 404

    # And its websocket refuses them without a single frame, exactly as for a meeting that does not exist.
    # (Refused during the handshake, which the browser reports as a failed connection, 1006.)
    supporter.page.goto("/")
    refused = supporter.page.evaluate(TRY_THE_SOCKET, meeting.session_id)
    assert refused == {"opened": False, "frames": 0, "code": 1006}, refused
    assert supporter.page.evaluate(TRY_THE_SOCKET, 999_999) == refused

    # And the facilitator's room never heard of them
    assert facilitator.stats() == {}
    expect(facilitator.page.locator("[data-tiles] [data-peer]")).to_have_count(1)  # their own picture


def test_the_person_harmed_stops_taking_part_mid_meeting_and_is_disconnected_at_once(media_context, meeting):
    ids = meeting.ids

    # Given three people in the meeting, each receiving the others
    facilitator, harmed, responsible = three_in_the_room(media_context, meeting)
    facilitator.receives_from({ids["harmed"], ids["responsible"]})
    responsible.receives_from({ids["facilitator"], ids["harmed"]})
    harmed.receives_from({ids["facilitator"], ids["responsible"]})

    # When the person harmed, on another tab, stops taking part
    other_tab = harmed.page.context.new_page()
    other_tab.goto(f"/cases/{meeting.case.case_reference}/")
    started = time.monotonic()
    other_tab.get_by_role("button", name="Stop taking part").click()
    expect(other_tab.locator(".messages")).to_contain_text("You have stopped taking part")

    # Then the others are disconnected from them within seconds
    for person in (facilitator, responsible):
        expect(person.tile(ids["harmed"])).to_have_count(0, timeout=5_000)
        assert ids["harmed"] not in person.stats()
    assert time.monotonic() - started < 10

    # And their own room says they left, with no connection left open
    expect(harmed.page.locator("[data-room]")).to_have_attribute("data-state", "left", timeout=5_000)
    expect(harmed.page.locator("[data-status]")).to_have_text("You have left the meeting.")
    assert harmed.stats() == {}

    # While the facilitator and the person responsible carry on
    facilitator.still_receiving_from({ids["responsible"]})
    responsible.still_receiving_from({ids["facilitator"]})

    # And coming back to the room gives them nothing
    harmed.open_room()
    expect(harmed.page.get_by_test_id("not-open")).to_have_text(
        "This meeting is not open to you at the moment. Your facilitator will be in touch."
    )
