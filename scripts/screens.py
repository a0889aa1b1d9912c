"""Screenshots of a few Mend pages, and a pixel comparison of two sets of them.

Issue 15 changes Mend's structure and not its behaviour; this shows the pages look the same before and after.

    python scripts/screens.py shoot URL FOLDER      # URL: a running demo server (`make run`)
    python scripts/screens.py compare BEFORE AFTER  # exits 1 when a page differs; writes diff images

`shoot` signs in as the demo accounts (mend/demo.py: demo mode skips the staff's second step; sign-in
derives keys in the browser, hence a real browser) and takes full-page shots at 1280 and 390 px wide:

    sign-in       the public sign-in page (accounts)
    case          the sexual-harm case as its facilitator sees it (cases)
    choices       the person harmed's choices (consent)
    messages      the person harmed's conversation list (dialogue)
    schedule      scheduling a meeting of that case (meetings)
    circle        a circle's page (circles); made on the first run as "Screens circle", reused afterwards

What changes from one run or server to the next is made the same before the shot: case and conversation
references, dates, clock times and relative times are rewritten to fixed text (so the layout stays put),
and secrets such as recovery codes are masked. The clock, the viewport, the locale, the time zone, motion
and the caret are fixed too.
"""

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
ELSEWHERE = "<!doctype html><title>Elsewhere</title>"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
WIDTHS = (1280, 390)
HEIGHT = 800
CRYPTO_TIMEOUT_MS = 90_000  # 600,000 PBKDF2 iterations in the browser, on a busy machine
STAFF = ("facilitator@demo.mend.test", "mend-demo-password")
PERSON_HARMED = ("wren-demo", "quiet harbour lantern morning cedar tide")
CASE_KIND = "Sexual harm"  # the demo case Tamsin runs with Wren and Kestrel
CIRCLE_NAME = "Screens circle"
CIRCLE_STARTS_ON = "2031-05-06"
# Masked (painted over) rather than rewritten: secrets and pictures made fresh each time.
MASKED = "[data-testid=recovery-code], [data-testid=totp-secret], [data-testid=invite-link], canvas, video"

# Runs in the page before each shot: rewrites what differs between runs in every text node and field value.
NORMALISE_JS = r"""
() => {
  const months = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|January|February|March|April|June|July|"
    + "August|September|October|November|December";
  const rules = [
    [/\b[A-Z]-[A-Z2-9]{4}-[A-Z2-9]{4}\b/g, "X-XXXX-XXXX"],
    [new RegExp("\\b\\d{1,2}[\\s\\u00a0](" + months + ")\\.?[\\s\\u00a0]\\d{4}", "g"), "1 Jan 2000"],
    [new RegExp("\\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?[\\s\\u00a0]", "g"), "Day "],
    [/\b\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?/g, "2000-01-01"],
    [/\b\d{1,2}:\d{2}(:\d{2})?([\s\u00a0]?(a\.m\.|p\.m\.|am|pm|AM|PM))?/g, "00:00"],
    [/\b\d+[\s\u00a0](second|minute|hour|day|week|month|year)s?(,[\s\u00a0]\d+[\s\u00a0][a-z]+)?[\s\u00a0]ago\b/g,
      "N $1s ago"],
    [/\bin[\s\u00a0]\d+[\s\u00a0](second|minute|hour|day|week|month|year)s?\b/g, "in N $1s"],
    [/\bUTC[+-]\d{1,2}(:\d{2})?/g, "UTC+N"],
  ];
  const fix = (text) => rules.reduce((t, [pattern, by]) => t.replace(pattern, by), text);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const fixed = fix(node.nodeValue);
    if (fixed !== node.nodeValue) node.nodeValue = fixed;
  }
  for (const field of document.querySelectorAll("input:not([type=hidden]), textarea")) {
    if (field.value && field.type !== "checkbox" && field.type !== "radio") field.value = fix(field.value);
  }
  for (const element of document.querySelectorAll("[title]")) element.title = fix(element.title);
  document.activeElement && document.activeElement.blur && document.activeElement.blur();
  window.scrollTo(0, 0);
}
"""


# --- taking the shots --------------------------------------------------------------------------------


def _context(browser, base_url: str):
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": WIDTHS[0], "height": HEIGHT},
        device_scale_factor=1,
        locale="en-GB",
        timezone_id="UTC",
        reduced_motion="reduce",
        color_scheme="light",
    )
    context.set_default_timeout(30_000)
    own = urlsplit(base_url).netloc

    def offline(route):  # nothing outside the server under test is fetched: the same answer every time
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            route.fulfill(status=200, content_type="text/html", body=ELSEWHERE)

    context.route("**/*", offline)
    return context


def _sign_in(page, identifier: str, secret: str) -> None:
    page.goto("/account/sign-in/")
    page.get_by_label("Email or sign-in name").fill(identifier)
    page.get_by_label("Password or sign-in phrase").fill(secret)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/account/sign-in/", timeout=CRYPTO_TIMEOUT_MS)
    page.wait_for_load_state("networkidle")


def _settle(page) -> None:
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.fonts.ready")
    page.evaluate(NORMALISE_JS)


def _shoot(page, path: str, name: str, out: Path) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.goto(path)
        _settle(page)
        target = out / f"{name}-{width}.png"
        page.screenshot(
            path=str(target),
            full_page=True,
            animations="disabled",
            caret="hide",
            mask=[page.locator(MASKED)],
            mask_color="#ff00ff",
        )
        print(f"{target}  ({path})")


def _case_path(page) -> str:
    page.goto("/")
    row = page.locator("tr", has_text=CASE_KIND).first
    return urlsplit(row.locator("a").first.get_attribute("href")).path


def _schedule_path(page, case: str) -> str:
    """The case page's link to scheduling a meeting: found there, so that a new URL for it is followed."""
    page.goto(case)
    return urlsplit(page.locator(f'main a[href^="{case}"][href$="/new/"]').first.get_attribute("href")).path


def _circle_path(page) -> str:
    """The demo has no circle: the first run starts one (far in the future, so its dates stay put)."""
    page.goto("/circles/")
    link = page.get_by_role("link", name=CIRCLE_NAME, exact=True)
    if not link.count():
        page.goto("/circles/new/")
        page.get_by_label("Name of the circle").fill(CIRCLE_NAME)
        page.get_by_label("First meeting on or after").fill(CIRCLE_STARTS_ON)
        page.get_by_role("button", name="Start the circle").click()
        page.wait_for_url(re.compile(r"/circles/\d+/$"))
        return urlsplit(page.url).path
    return urlsplit(link.first.get_attribute("href")).path


def shoot(base_url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    base_url = base_url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            public = _context(browser, base_url).new_page()
            _shoot(public, "/account/sign-in/", "sign-in", out)

            staff = _context(browser, base_url).new_page()
            _sign_in(staff, *STAFF)
            case = _case_path(staff)
            _shoot(staff, case, "case", out)
            _shoot(staff, _schedule_path(staff, case), "schedule", out)
            _shoot(staff, _circle_path(staff), "circle", out)

            person = _context(browser, base_url).new_page()
            _sign_in(person, *PERSON_HARMED)
            own_case = urlsplit(person.url).path
            _shoot(person, f"{own_case}choices/", "choices", out)
            _shoot(person, f"{own_case}messages/", "messages", out)
        finally:
            browser.close()


# --- comparing two sets ------------------------------------------------------------------------------


def _compare_one(before: Path, after: Path, diffs: Path) -> str:
    from PIL import Image, ImageChops

    old, new = Image.open(before).convert("RGB"), Image.open(after).convert("RGB")
    sizes = "" if old.size == new.size else f", size {old.size} -> {new.size}"
    # Compare what both cover, and count the rest (painted magenta) as differing.
    width, height = max(old.width, new.width), max(old.height, new.height)
    old, new = _padded(old, width, height), _padded(new, width, height)
    changed = ImageChops.difference(old, new).convert("L").point(lambda v: 255 if v else 0)
    count = changed.histogram()[255]
    if not count:
        return "same"
    diffs.mkdir(parents=True, exist_ok=True)
    # The after image, greyed, with the differing pixels in red.
    picture = Image.merge("RGB", [new.convert("L").point(lambda v: 128 + v // 2)] * 3)
    picture.paste((255, 0, 0), mask=changed)
    picture.save(diffs / before.name)
    return f"DIFFERS {100 * count / (width * height):.3f}% of pixels{sizes}; see {diffs / before.name}"


def _padded(image, width: int, height: int):
    from PIL import Image

    if image.size == (width, height):
        return image
    canvas = Image.new("RGB", (width, height), (255, 0, 255))
    canvas.paste(image, (0, 0))
    return canvas


def compare(before: Path, after: Path, diffs: Path) -> bool:
    names = sorted({p.name for p in before.glob("*.png")} | {p.name for p in after.glob("*.png")})
    if not names:
        print(f"No screenshots in {before} or {after}")
        return False
    alike = True
    for name in names:
        if not (before / name).exists() or not (after / name).exists():
            verdict = f"MISSING in {before if not (before / name).exists() else after}"
        else:
            verdict = _compare_one(before / name, after / name, diffs)
        alike = alike and verdict == "same"
        print(f"{name:24} {verdict}")
    print("All the same." if alike else "Some pages differ.")
    return alike


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    shooting = commands.add_parser("shoot", help="screenshots of a running demo server")
    shooting.add_argument("url")
    shooting.add_argument("folder", type=Path)
    comparing = commands.add_parser("compare", help="pixel comparison of two folders of screenshots")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    comparing.add_argument("--diffs", type=Path, help="where diff images go (default: AFTER-diff)")
    args = parser.parse_args(argv)
    if args.command == "shoot":
        shoot(args.url, args.folder)
        return 0
    diffs = args.diffs or args.after.with_name(args.after.name + "-diff")
    return 0 if compare(args.before, args.after, diffs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
