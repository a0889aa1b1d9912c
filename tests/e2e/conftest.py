"""Browser journeys run against a real `mend serve` on a throwaway database, driven by Debian's Chromium.

The server gets its own MEND_VAR_DIR and database (a SQLite file there, or a fresh PostgreSQL database when
DATABASE_URL points at PostgreSQL), so nothing here touches the database pytest-django uses.
"""

import os
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.e2e.navigators import StaffAccount, StaffMember, serve_neutral_sites
from tests.e2e.servers import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    failed,
    is_postgres,
    seed_and_serve,
    server_env,
    stop,
    unavailable,
    wait_until_healthy,
)

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: install Debian's chromium package (`make browser`).")
    return str(CHROMIUM)


# --- the server --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MendServer:
    url: str
    facilitator: StaffAccount
    case_reference: str
    prepared_case_reference: str
    harmed_sign_in: str
    responsible_sign_in: str
    party_phrase: str


@pytest.fixture(scope="session")
def server_database_url() -> Iterator[str]:
    """A database of the server's own: a file in its var dir, or a throwaway PostgreSQL database."""
    url = os.environ.get("DATABASE_URL", "")
    if not is_postgres(url):
        yield ""  # empty: the server uses the SQLite file in its own MEND_VAR_DIR
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"mend_e2e_{secrets.token_hex(4)}"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        unavailable(f"Cannot reach PostgreSQL at {parts.hostname}:{parts.port} to make a database: {error}")
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def mend_server(chromium_executable, server_database_url, tmp_path_factory) -> Iterator[MendServer]:
    """`mend migrate`, the seed script, then `mend serve` on a free port; stopped at the end of the run."""
    var_dir = tmp_path_factory.mktemp("mend-var")
    env = server_env(var_dir, server_database_url)
    process, url, seeded = seed_and_serve(var_dir, env, Path(__file__).with_name("seed.py"))
    try:
        wait_until_healthy(url, process, var_dir / "server.log")
        yield MendServer(
            url=url,
            facilitator=StaffAccount(
                email=seeded["facilitator_email"],
                password=seeded["facilitator_password"],
                name=seeded["facilitator_name"],
            ),
            case_reference=seeded["case_reference"],
            prepared_case_reference=seeded["prepared_case_reference"],
            harmed_sign_in=seeded["harmed_sign_in"],
            responsible_sign_in=seeded["responsible_sign_in"],
            party_phrase=seeded["party_phrase"],
        )
    finally:
        stop(process)


# --- the browser -------------------------------------------------------------------------------------


# Package scope, not session: Playwright's sync API leaves an asyncio loop running in this thread, and
# Django refuses database work while one runs, so the browser must be gone before other tests start.
@pytest.fixture(scope="package")
def browser(chromium_executable) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def new_context(browser, mend_server, request) -> Iterator[Callable[..., BrowserContext]]:
    """Makes browser contexts (one per person, own cookies); screenshots their pages if the test fails, or
    always with MEND_E2E_SCREENSHOTS=1 (to look at what a journey leaves on screen)."""
    contexts: list[BrowserContext] = []

    def make(storage_state=None, locale="en-GB") -> BrowserContext:
        context = browser.new_context(
            base_url=mend_server.url, storage_state=storage_state, locale=locale, timezone_id="UTC"
        )
        context.set_default_timeout(10_000)
        serve_neutral_sites(context)
        contexts.append(context)
        return context

    yield make
    if failed(request.node) or os.environ.get("MEND_E2E_SCREENSHOTS") == "1":
        ARTIFACTS.mkdir(exist_ok=True)
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
        for c, context in enumerate(contexts):
            for p, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{stem}-{c}-{p}.png"), full_page=True)
                except Exception as error:  # noqa: BLE001 - a missing screenshot must not hide the failure
                    sys.stderr.write(f"No screenshot of {page.url}: {error}\n")
    for context in contexts:
        context.close()


# --- the facilitator's signed-in state ---------------------------------------------------------------


class FacilitatorLogin:
    """The facilitator's signed-in browser state, kept for the whole run.

    Their authenticator can be enrolled only once per server, and django-otp accepts each TOTP code once,
    so journeys after the first reuse these cookies instead of signing in again.
    """

    def __init__(self) -> None:
        self.storage_state: dict | None = None

    def remember(self, context: BrowserContext) -> None:
        self.storage_state = context.storage_state()


@pytest.fixture(scope="session")
def facilitator_login() -> FacilitatorLogin:
    return FacilitatorLogin()


@pytest.fixture
def facilitator(new_context, mend_server, facilitator_login) -> StaffMember:
    """The facilitator, signed in with their second factor, on a page of their own."""
    context = new_context(storage_state=facilitator_login.storage_state)
    staff = StaffMember(context.new_page(), mend_server.facilitator)
    if facilitator_login.storage_state is None:
        staff.sign_in()
        staff.enrol_second_factor()
        facilitator_login.remember(context)
    return staff


@pytest.fixture
def invitation_link(facilitator, mend_server) -> str:
    """A fresh, unused invitation link for a harmed party in the seeded case."""
    facilitator.open_case(mend_server.case_reference)
    return facilitator.invite("harmed_party")


FIRST_JOURNEY = "test_it_lets_staff_enrol_a_second_factor_and_invite_a_harmed_party"


def pytest_collection_modifyitems(items):
    """The first-enrolment journey must meet a facilitator who never signed in: it runs before any other
    journey, whatever the files' names."""
    first = [item for item in items if item.name == FIRST_JOURNEY]
    if first:
        rest = [item for item in items if item not in first]
        at = next((i for i, item in enumerate(rest) if item.get_closest_marker("e2e")), len(rest))
        items[:] = rest[:at] + first + rest[at:]
