"""What a keyboard and a screen reader meet on a page, as Chromium itself works it out: the focused element's
role, accessible name and description (from its accessibility tree, over the DevTools protocol), whether its
focus can be seen, Tab walks that record where focus went, and the names of everything that can take focus.

Journeys drive the page with `KeyboardUser` only: keys and typing, never a click, a fill or a focus() call."""

from dataclasses import dataclass

from playwright.sync_api import CDPSession, Page
from playwright.sync_api import Error as PlaywrightError

# The focused element, marked so that the protocol can find its node, with what CSS draws around it.
_FOCUSED = """() => {
  document.querySelector("[data-a11y-focused]")?.removeAttribute("data-a11y-focused");
  const node = document.activeElement;
  if (!node || node === document.body || node === document.documentElement) return null;
  node.setAttribute("data-a11y-focused", "");
  const style = getComputedStyle(node);
  const box = node.getBoundingClientRect();
  return {
    tag: node.tagName.toLowerCase(),
    id: node.id,
    outline_style: style.outlineStyle,
    outline_width: parseFloat(style.outlineWidth) || 0,
    box_shadow: style.boxShadow,
    on_screen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
      && box.top < innerHeight && box.left < innerWidth,
  };
}"""

# Everything a Tab can reach or a script may focus, and every visible field and group of choices: each marked
# for the protocol, with the help text the page shows in its own .field box (what a screen reader should read
# after its name).
_TAG_FOCUSABLE = """() => {
  for (const details of document.querySelectorAll("details")) details.open = true;
  const shown = (node) => node.getClientRects().length > 0;
  const selector = "a[href], button, input, select, textarea, summary, fieldset, [tabindex]";
  const nodes = [...document.querySelectorAll(selector)]
    .filter((node) => node.type !== "hidden" && shown(node) && node.getAttribute("tabindex") !== "-1");
  return nodes.map((node, i) => {
    node.setAttribute("data-a11y-each", String(i));
    // A group's help text is the group's description, not each of its choices'.
    const field = ["INPUT", "SELECT", "TEXTAREA"].includes(node.tagName) && !node.closest("fieldset");
    const described = field || node.tagName === "FIELDSET";
    const help = described ? node.closest(".field")?.querySelector(".help") : null;
    const what = node.name || node.id || node.textContent.trim().slice(0, 40);
    return { probe: String(i), tag: node.tagName.toLowerCase(), what, help: help?.textContent.trim() ?? "" };
  });
}"""


@dataclass(frozen=True)
class Focused:
    """Where the focus is: what a screen reader says of it, and whether a sighted person can see it."""

    tag: str
    id: str
    role: str
    name: str
    description: str
    outline_style: str
    outline_width: float
    box_shadow: str
    on_screen: bool

    @property
    def shows_focus(self) -> bool:
        """An outline of 2px or more, or a box shadow, drawn on screen (WCAG 2.4.7 and 2.4.11)."""
        outlined = self.outline_style not in ("none", "hidden") and self.outline_width >= 2
        return self.on_screen and (outlined or self.box_shadow not in ("", "none"))

    def __str__(self) -> str:
        return f"{self.role} {self.name!r}"


NOWHERE = Focused("body", "", "", "", "", "none", 0, "none", False)


class Replaced(Exception):
    """The page's document changed between marking an element and asking the protocol about it."""


def _ax(cdp: CDPSession, selector: str) -> dict:
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node_id = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        if not node_id:
            raise Replaced(selector)
        tree = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node_id, "fetchRelatives": False})
    except PlaywrightError as error:
        if "Could not find node" not in error.message:
            raise
        raise Replaced(selector) from error
    ax = tree["nodes"][0]
    return {
        "role": str(ax.get("role", {}).get("value", "")),
        "name": " ".join(str(ax.get("name", {}).get("value", "")).split()),
        "description": " ".join(str(ax.get("description", {}).get("value", "")).split()),
    }


class KeyboardUser:
    """Someone who uses only the keyboard (and perhaps a screen reader) on this page."""

    def __init__(self, page: Page):
        self.page = page
        self._cdp: CDPSession | None = None

    @property
    def cdp(self) -> CDPSession:
        if self._cdp is None:
            self._cdp = self.page.context.new_cdp_session(self.page)
        return self._cdp

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def focused(self) -> Focused:
        for _attempt in range(3):
            seen = self.page.evaluate(_FOCUSED)
            if seen is None:
                return NOWHERE
            try:
                return Focused(**seen, **_ax(self.cdp, "[data-a11y-focused]"))
            except Replaced:
                self.page.wait_for_load_state()
                self.page.wait_for_timeout(200)
        raise AssertionError(f"the focused element of {self.page.url} could not be read")

    def tab_to(
        self, name: str, *, role: str = "", description: str = "", backwards: bool = False, limit: int = 60
    ) -> list[Focused]:
        """Presses Tab (or Shift+Tab) until the focus is on the element of that accessible name (and role,
        and description); returns every stop on the way, that one last. Fails, naming the stops, if it never
        comes."""
        walk: list[Focused] = []
        for _press in range(limit):
            self.press("Shift+Tab" if backwards else "Tab")
            here = self.focused()
            walk.append(here)
            wanted = (not role or here.role == role) and (not description or here.description == description)
            if here.name == name and wanted:
                return walk
        raise AssertionError(f"Tab never reached {role} {name!r}; it went: {[str(f) for f in walk]}")

    def close(self) -> None:
        if self._cdp is not None:
            self._cdp.detach()
            self._cdp = None


def in_order(names: list[str], expected: list[str]) -> bool:
    """Whether `expected` comes in `names` in this order (other stops may come between)."""
    rest = iter(names)
    return all(any(name == wanted for name in rest) for wanted in expected)


def focusable_elements(page: Page) -> list[dict]:
    """Each link, button, field, group and focusable element shown on the page (closed sections opened), with
    the role, name and description Chromium's accessibility tree gives it, and the help text beside it. Read
    again from the start if the protocol loses the document meanwhile (it does after a navigation, even to a
    fragment of the same page)."""
    for _attempt in range(3):
        page.wait_for_load_state()
        elements = page.evaluate(_TAG_FOCUSABLE)
        cdp = page.context.new_cdp_session(page)
        try:
            for element in elements:
                element.update(_ax(cdp, f'[data-a11y-each="{element["probe"]}"]'))
            return elements
        except Replaced:
            page.wait_for_timeout(500)
        finally:
            cdp.detach()
    raise AssertionError(f"{page.url} kept changing while it was read")


def nameless_or_undescribed(page: Page) -> list[str]:
    """What a screen reader would read badly here: elements that can take focus but have no name, and fields
    whose help text is not read out as their description. Empty when all is well."""
    return problems_of(focusable_elements(page))


def problems_of(elements: list[dict]) -> list[str]:
    """nameless_or_undescribed, for elements already read with focusable_elements."""
    problems = []
    for element in elements:
        where = f"{element['tag']} {element['what']!r}"
        if not element["name"]:
            problems.append(f"{where} has no accessible name")
        if element["help"] and element["help"] not in element["description"]:
            problems.append(f"{where}: its help text is not its description")
    return problems
