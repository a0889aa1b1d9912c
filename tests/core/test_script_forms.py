"""Forms that only a module script may send (they have no method: what they hold is locked in the browser
first) show their submit buttons disabled until the script has wired them. A press before that would send
the form the browser's own way, reloading the page and losing what the person wrote."""

from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "mend" / "templates"
VOID = {"input", "br", "img", "meta", "link", "hr", "source", "track", "wbr", "area", "base", "col", "embed"}


class _Forms(HTMLParser):
    """Submit buttons of script-only forms that a person can press before any script ran: not disabled, and
    not inside something hidden (a hidden part is shown by the script itself, once it runs)."""

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, bool, bool]] = []  # (tag, hidden, a script-only form)
        self.pressable: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        submit = tag == "button" and attrs.get("type", "submit") == "submit" and "disabled" not in attrs
        if submit and self._in_script_only_form() and not self._hidden():
            self.pressable.append(self.get_starttag_text())
        if tag not in VOID:
            script_only = tag == "form" and "method" not in attrs
            self.open.append((tag, "hidden" in attrs, script_only))

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                return

    def _in_script_only_form(self) -> bool:
        return any(script_only for _t, _h, script_only in self.open)

    def _hidden(self) -> bool:
        return any(hidden for _t, hidden, _s in self.open)


def pressable_too_early(markup: str) -> list[str]:
    parser = _Forms()
    parser.feed(markup)
    return parser.pressable


def test_script_only_forms_hold_their_submit_buttons_until_the_script_is_ready():
    found = {
        str(path.relative_to(TEMPLATES)): pressable_too_early(path.read_text())
        for path in TEMPLATES.rglob("*.html")
    }
    assert {path: buttons for path, buttons in found.items() if buttons} == {}


def test_the_search_finds_a_pressable_button_and_lets_the_others_be():
    assert pressable_too_early('<form data-x><button type="submit">Send</button></form>')
    assert pressable_too_early("<form data-x><div><button>Send</button></div></form>")
    assert not pressable_too_early('<form data-x><button type="submit" disabled>Send</button></form>')
    assert not pressable_too_early('<form method="post"><button>Send</button></form>')
    assert not pressable_too_early("<section hidden><form data-x><button>Send</button></form></section>")
    assert not pressable_too_early('<form data-x><button type="button">Copy</button></form>')
