"""The program admin's page of people in headless Chromium, wide and narrow: an admin removes a colleague
from the program through the confirmation page, and nothing on either page runs off the screen."""

import secrets
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import servers
from tests.e2e.navigators import loads_last_line

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("offboarding_seed.py")


class ProgramAdmin:
    """A program admin on the people page of their program."""

    def __init__(self, page: Page, program_id: int):
        self.page = page
        self.program_id = program_id

    def open_people(self) -> None:
        self.page.goto(f"/programs/{self.program_id}/people/")

    def choose_to_remove(self, name: str) -> None:
        self.page.get_by_role("link", name=f"Remove {name} from program").click()

    def confirm(self, button: str) -> None:
        self.page.get_by_role("button", name=button).click()

    def fits_the_screen(self) -> bool:
        return self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def seeded(mend_server, server_database_url, tmp_path_factory) -> dict:
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    env = servers.server_env(var_dirs[0], server_database_url)
    return loads_last_line(
        servers.run([sys.executable, str(SEED), secrets.token_hex(3)], env, "Seeding a program")
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_removes_a_colleague_from_the_program_on_a_wide_and_a_narrow_screen(
    new_context, mend_server, seeded, width
):
    # Given a program admin, signed in with their second factor, on a screen this wide
    context = new_context()
    context.add_cookies([{"name": "sessionid", "value": seeded["session_key"], "url": mend_server.url}])
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    admin = ProgramAdmin(page, seeded["program_id"])
    name = seeded["colleague"]

    # When they open the people of their program
    admin.open_people()

    # Then everyone is listed with what they facilitate, and the page fits the screen
    expect(page.get_by_role("heading", level=1)).to_contain_text("People in Harbourside Restorative")
    expect(page.get_by_text(name, exact=True)).to_be_visible()
    expect(page.get_by_text("facilitates 1 case")).to_be_visible()
    assert admin.fits_the_screen()

    # When they choose to remove the colleague, they are asked to confirm first
    admin.choose_to_remove(name)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Remove {name} from")
    assert admin.fits_the_screen()
    admin.confirm("Remove from program")

    # Then they are back on the list, told it is done, and the colleague is no longer in it
    expect(page.get_by_role("status")).to_contain_text(f"{name} is no longer in this program")
    expect(page.get_by_role("link", name=f"Remove {name} from program")).to_have_count(0)
    assert admin.fits_the_screen()
