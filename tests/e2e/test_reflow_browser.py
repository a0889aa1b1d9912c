"""Reflow (WCAG 1.4.10): at 320 and 390 px wide, no page a person taking part or a member of staff may see
scrolls sideways; a wide table scrolls inside its own box, a named region that keyboard users can focus.

The pages are the permission matrix's (tests/e2e/matrix_server.py), each seen as one participant role and one
staff role when both may see it.
"""

import pytest

from tests.e2e.matrix_server import matrix_pages, matrix_server_fixture  # noqa: F401 - the fixture matrix_server

pytestmark = pytest.mark.e2e

WIDTHS = (320, 390)

# What the page measures: how far it scrolls sideways, the widest thing sticking out, and every table that is
# not inside a named, focusable scroll box of its own.
MEASURE = """() => {
    const root = document.scrollingElement;
    const width = window.innerWidth;
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
        if (el.closest('.table-scroll') && !el.matches('.table-scroll')) continue;
        const box = el.getBoundingClientRect();
        // Wholly before the start, as a skip link waits until it is focused: nothing to scroll to.
        if (box.right <= 0) continue;
        if (box.width && (box.right > width + 1 || box.left < -1)) {
            const classes = typeof el.className === 'string' ? el.className.trim().split(/\\s+/) : [];
            out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                     classes.filter(Boolean).map((c) => '.' + c).join('') +
                     ' [' + Math.round(box.left) + '..' + Math.round(box.right) + ']');
        }
    }
    const tables = [];
    for (const table of document.querySelectorAll('table')) {
        const box = table.parentElement.closest('.table-scroll');
        const label = box && box.getAttribute('aria-labelledby');
        const named = label ? document.getElementById(label)?.textContent : box?.getAttribute('aria-label');
        const problems = [];
        if (!box) problems.push('not inside a .table-scroll box');
        else {
            if (box.getAttribute('role') !== 'region') problems.push('its box is not a region');
            if (box.getAttribute('tabindex') !== '0') problems.push('its box cannot be focused');
            if (!named || !named.trim()) problems.push('its box has no name');
        }
        if (getComputedStyle(table).display !== 'table') problems.push('it is not displayed as a table');
        const called = table.id || table.className || 'table';
        if (problems.length) tables.push(called + ': ' + problems.join(', '));
    }
    return {scroll: root.scrollWidth, width, out: out.slice(0, 5), tables};
}"""


def test_no_matrix_page_scrolls_sideways_at_320_or_390_px(browser, matrix_server):
    found, checked = [], 0
    for name, role in matrix_pages():
        page = matrix_server.page_as(browser, role)
        path = matrix_server.paths[name]
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            if width == WIDTHS[0]:
                response = page.goto(path, wait_until="load")
                assert response is not None and response.status == 200, f"{name} as {role}"
            measured = page.evaluate(MEASURE)
            checked += 1
            where = f"{name} ({path}) as {role} at {width}px"
            if measured["scroll"] > measured["width"]:
                found.append(
                    f"{where}: the page is {measured['scroll']} px wide; sticking out: {measured['out']}"
                )
            found += [f"{where}: table {problem}" for problem in measured["tables"]]
    assert checked >= 2 * 40, f"only {checked} pages checked"
    assert not found, "\n".join(found)


def test_a_table_box_shows_the_keyboard_focus(browser, matrix_server):
    # The case list, on a narrow screen: the table's box takes the focus from the keyboard, visibly.
    page = matrix_server.page_as(browser, "facilitator")
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(matrix_server.paths["cases:list"])
    box = page.locator(".table-scroll").first
    box.focus()
    style, width = box.evaluate("el => ((s) => [s.outlineStyle, s.outlineWidth])(getComputedStyle(el))")
    assert style not in ("none", "") and width != "0px", (style, width)


def test_it_finds_a_page_that_scrolls_sideways_and_a_table_without_its_box(browser):
    # The measure itself can fail: a wide table loose on the page makes the page scroll, and is named.
    page = browser.new_page(viewport={"width": 320, "height": 800})
    try:
        page.set_content(
            '<html lang="en"><body><main><table class="loose"><tr><td>'
            + "x" * 120
            + '</td></tr></table><div class="table-scroll" tabindex="0" role="region">'
            '<table class="unnamed"><tr><td>y</td></tr></table></div></main></body></html>'
        )
        measured = page.evaluate(MEASURE)
    finally:
        page.close()
    assert measured["scroll"] > measured["width"]
    assert any(out.startswith("table.loose") for out in measured["out"]), measured["out"]
    assert measured["tables"] == [
        "loose: not inside a .table-scroll box",
        "unnamed: its box has no name",
    ]
