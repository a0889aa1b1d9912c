"""A `mend serve` seeded with the permission matrix's cast (tests/e2e/matrix_seed.py), shared by the browser
tests that walk the matrix's pages (axe-core, reflow): one server for the whole run, started by the first
test that asks for it and stopped when pytest ends.

`matrix_pages` lists what to visit: for every GET page of tests/test_permission_matrix.py that a person taking
part or a member of staff may see (200), one role of each kind that may see it, so that a new page of the
matrix is visited without anyone adding it here.
"""

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.navigators import serve_neutral_sites
from tests.e2e.servers import (
    is_postgres,
    seed_and_serve,
    server_env,
    stop,
    unavailable,
    wait_until_healthy,
)
from tests.test_permission_matrix import PAGE_MATRIX, ROLES

# The roles a page is seen as, in the order they are tried: the matrix's own order, the closed account left
# out (it is signed out everywhere).
PARTICIPANT_ROLES = ("harmed", "responsible", "supporter", "outsider")
STAFF_ROLES = (
    "facilitator",
    "admin",
    "coordinator",
    "other_facilitator_same_program",
    "volunteer",
    "other_program_facilitator",
    "former_member",
)

# GET pages of the matrix that are not web pages for a person to read: nothing for axe-core or reflow to
# look at. The browser tests check that each answers something other than HTML.
NOT_PAGES = {
    "healthz": "a JSON health check for the load balancer",
    "accounts:keys": "JSON: one's own key bundle, for the browser's scripts",
    "rights:my_information_data": "a JSON download of one's own information",
    "agreements:calendar": "an iCalendar file of the check-ins",
    "agreements:version_pdf": "the signed agreement as a PDF",
    "agreements:item_evidence_frames": "JSON for the evidence form's script",
    "sessions:invitation": "an iCalendar invitation to the meeting",
    "circles:minutes_recipients": "JSON for the minutes form's script",
    "dialogue:download": "an encrypted file, downloaded",
    "dialogue:members": "JSON: the conversation's members and keys, for the browser's scripts",
    "api:openapi-json": "the API's JSON schema",
}


def get_pages() -> list[str]:
    return [name for name, method in PAGE_MATRIX if method == "GET"]


def seen_by(name: str) -> list[str]:
    """One participant role and one staff role that may see the page (200), when there are such roles."""
    row = dict(zip(ROLES, PAGE_MATRIX[(name, "GET")], strict=True))
    chosen = []
    for kind in (PARTICIPANT_ROLES, STAFF_ROLES):
        chosen += [role for role in kind if row[role] == 200][:1]
    return chosen


def matrix_pages() -> list[tuple[str, str]]:
    """(page, role) for every page to visit; pages in NOT_PAGES are left out."""
    return [(name, role) for name in get_pages() if name not in NOT_PAGES for role in seen_by(name)]


@dataclass
class MatrixServer:
    url: str
    cookie: str
    sessions: dict[str, str]
    paths: dict[str, str]
    contexts: dict[str, BrowserContext] = field(default_factory=dict)

    def page_as(self, browser: Browser, role: str) -> Page:
        """A page in the role's own browser context (made once, signed in with the role's session)."""
        if role not in self.contexts:
            context = browser.new_context(base_url=self.url, locale="en-GB", timezone_id="UTC")
            context.set_default_timeout(15_000)
            serve_neutral_sites(context)
            context.add_cookies(
                [{"name": self.cookie, "value": self.sessions[role], "url": self.url, "httpOnly": True}]
            )
            self.contexts[role] = context
        pages = self.contexts[role].pages
        return pages[0] if pages else self.contexts[role].new_page()

    def close_contexts(self) -> None:
        for context in self.contexts.values():
            context.close()
        self.contexts.clear()


_running: dict[str, MatrixServer] = {}


def own_database(cleanup: Callable) -> str:
    """A throwaway PostgreSQL database of its own when DATABASE_URL points at PostgreSQL (the journeys'
    server has another); otherwise empty, and the server uses a SQLite file in its own MEND_VAR_DIR."""
    url = os.environ.get("DATABASE_URL", "")
    if not is_postgres(url):
        return ""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"mend_matrix_{secrets.token_hex(4)}"
    maintenance = urlunsplit(parts._replace(path="/postgres"))

    def execute(statement) -> None:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)

    try:
        execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        unavailable(f"Cannot reach PostgreSQL at {parts.hostname}:{parts.port} to make a database: {error}")
    cleanup(lambda: execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))))
    return urlunsplit(parts._replace(path=f"/{name}"))


def start(var_dir: Path, cleanup: Callable) -> MatrixServer:
    if "server" in _running:
        return _running["server"]
    env = server_env(var_dir, own_database(cleanup))
    process, url, seeded = seed_and_serve(var_dir, env, Path(__file__).with_name("matrix_seed.py"))
    cleanup(lambda: stop(process))
    wait_until_healthy(url, process, var_dir / "server.log")
    _running["server"] = MatrixServer(
        url=url, cookie=seeded["cookie"], sessions=seeded["sessions"], paths=seeded["pages"]
    )
    return _running["server"]


@pytest.fixture(name="matrix_server")
def matrix_server_fixture(chromium_executable, tmp_path_factory, request) -> Iterator[MatrixServer]:
    """The matrix's server (started once per run), with no browser context left from another test."""
    server = start(tmp_path_factory.mktemp("matrix-var"), request.config.add_cleanup)
    yield server
    server.close_contexts()
