"""Every page of the permission matrix that a person taking part or a member of staff may see, seen as one
role of each kind, at 1280 and 390 px wide: axe-core finds no WCAG 2.0-2.2 A or AA violation.

The pages come from tests/test_permission_matrix.py itself (tests/e2e/matrix_server.py), so a new page is
checked without anyone adding it here; the GET rows that are not web pages are listed, with a reason, in
matrix_server.NOT_PAGES.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.matrix_server import (  # noqa: F401 - the fixture, by its name matrix_server
    NOT_PAGES,
    get_pages,
    matrix_pages,
    matrix_server_fixture,
    seen_by,
)

pytestmark = pytest.mark.e2e

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
WIDTHS = (1280, 390)
AXE = Axe()


def test_every_matrix_get_page_is_visited_or_excused():
    pages = get_pages()
    unknown = set(NOT_PAGES) - set(pages)
    assert not unknown, f"NOT_PAGES names pages the matrix does not have: {sorted(unknown)}"
    visited = {name for name, _role in matrix_pages()}
    # Seen by nobody who takes part or works in a program (for example the API's root, a 404 for all).
    unseen = {name for name in pages if not seen_by(name)}
    left = set(pages) - visited - set(NOT_PAGES) - unseen
    assert not left, f"matrix GET pages neither visited nor excused: {sorted(left)}"
    for name in NOT_PAGES:
        assert seen_by(name), f"{name} is excused but nobody may see it: drop it from NOT_PAGES"


def test_it_visits_one_participant_and_one_staff_role_per_page_when_both_may_see_it():
    visits = matrix_pages()
    assert ("cases:detail", "harmed") in visits
    assert ("cases:detail", "facilitator") in visits
    assert ("programs:people", "admin") in visits
    assert not [v for v in visits if v[0] == "programs:people" and v[1] != "admin"]
    assert not [v for v in visits if v[0] in NOT_PAGES]


def test_axe_here_reports_a_violation_when_there_is_one(browser):
    # The check below can fail: the same options find an image with no text alternative.
    page = browser.new_page(viewport={"width": WIDTHS[1], "height": 900})
    try:
        page.set_content(
            '<html lang="en"><head><title>t</title></head><body><main><img src="x.png"></main></body></html>'
        )
        results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
    finally:
        page.close()
    assert "image-alt" in [violation["id"] for violation in results.response["violations"]]


def test_axe_finds_no_violation_on_any_matrix_page(browser, matrix_server):
    found, checked = [], 0
    for name, role in matrix_pages():
        page = matrix_server.page_as(browser, role)
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        response = page.goto(matrix_server.paths[name], wait_until="load")
        where = f"{name} ({matrix_server.paths[name]}) as {role}"
        if response is None or response.status != 200:
            found.append(f"{where}: answered {response and response.status}, expected 200")
            continue
        if page.url.removeprefix(matrix_server.url) != matrix_server.paths[name]:
            found.append(f"{where}: sent on to {page.url}, expected the page itself")
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            found.append(f"{where}: not HTML ({response.headers.get('content-type')}); list it in NOT_PAGES")
            continue
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
            checked += 1
            for violation in results.response["violations"]:
                targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
                found.append(f"{where} at {width}px: {violation['id']} on {targets}")
    assert checked >= 2 * 40, f"only {checked} pages checked"
    assert not found, "\n".join(found)


def test_the_pages_left_out_are_not_web_pages(browser, matrix_server):
    # What NOT_PAGES excuses must stay a file or JSON: a row that turns into a page must be checked.
    wrong = []
    for name in NOT_PAGES:
        role = seen_by(name)[0]
        page = matrix_server.page_as(browser, role)
        response = page.context.request.get(matrix_server.paths[name])
        kind = response.headers.get("content-type", "")
        if response.status != 200 or "text/html" in kind:
            wrong.append(f"{name} as {role}: {response.status} {kind}")
    assert not wrong, "\n".join(wrong)
