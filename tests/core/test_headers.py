"""Hardening headers: a strict Content-Security-Policy with no inline code, HSTS on HTTPS, no framing, no
referrer for other sites, nothing private kept in a cache, and a Permissions-Policy (docs/hardening.md)."""

import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import Client, override_settings

import mend
from mend.core.throttle import TOO_MANY_TRIES

TEMPLATES = Path(mend.__file__).parent / "templates"
CHROMIUM = Path("/usr/bin/chromium")


def csp_directives(response) -> dict[str, set[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {
        name: set(values) for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def responses_of_every_kind(cast) -> dict[str, object]:
    """One response of each kind Mend gives: pages public and private, JSON, API, errors, redirects."""
    facilitator, harmed = cast.client("facilitator"), cast.client("harmed")
    return {
        "public page": Client().get("/account/sign-in/"),
        "staff page": facilitator.get(f"/cases/{cast.case.reference}/"),
        "party page": harmed.get(f"/cases/{cast.case.reference}/"),
        "own keys (JSON)": harmed.get("/account/keys/"),
        "API": facilitator.get("/api/v1/cases/"),
        "API schema": Client().get("/api/v1/openapi.json"),
        "not found": facilitator.get("/cases/C-0000-0000/"),
        "redirect to sign-in": Client().get("/cases/"),
        "refused sign-in": Client().post("/account/sign-in/", {"identifier": "x"}),
        "unusable invitation link": Client().get("/join/not-a-real-token/"),
        "CSRF failure": Client(enforce_csrf_checks=True).post("/account/sign-in/", {}),
        "health": Client().get("/healthz"),
    }


def test_it_sends_every_hardening_header_on_every_kind_of_response(cast):
    for kind, response in responses_of_every_kind(cast).items():
        headers = response.headers
        assert headers["X-Frame-Options"] == "DENY", kind
        assert headers["Referrer-Policy"] == "same-origin", kind
        assert headers["X-Content-Type-Options"] == "nosniff", kind
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", kind
        assert "geolocation=()" in headers["Permissions-Policy"], kind
        assert "Content-Security-Policy" in headers, kind


def test_it_allows_no_inline_code_or_outside_source_in_its_content_security_policy(cast):
    for kind, response in responses_of_every_kind(cast).items():
        policy = response.headers["Content-Security-Policy"]
        directives = csp_directives(response)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy, kind
        assert directives["default-src"] == {"'self'"}, kind
        assert directives["script-src"] == {"'self'"}, kind
        assert directives["style-src"] == {"'self'"}, kind
        assert directives["connect-src"] == {"'self'"}, kind
        assert directives["object-src"] == {"'none'"}, kind
        assert directives["base-uri"] == {"'none'"}, kind
        assert directives["frame-ancestors"] == {"'none'"}, kind
        assert directives["form-action"] == {"'self'"}, kind
        assert directives["img-src"] <= {"'self'", "data:"}, kind


def test_it_keeps_inline_script_style_and_handlers_out_of_every_template():
    # The policy forbids them anyway; this finds them before a browser silently drops them.
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+\s*=|=\s*[\"']?\s*javascript:",
        re.IGNORECASE,
    )
    offenders = {
        str(path.relative_to(TEMPLATES)): match.group(0)
        for path in TEMPLATES.rglob("*.html")
        if (match := inline.search(path.read_text()))
    }
    assert offenders == {}
    assert len(list(TEMPLATES.rglob("*.html"))) > 20  # the scan really read the templates


def test_it_sends_hsts_on_https_and_never_on_plain_http(cast):
    secure = Client().get("/account/sign-in/", secure=True)
    assert secure.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    assert "Strict-Transport-Security" not in Client().get("/account/sign-in/").headers


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_it_sends_hsts_when_https_ends_at_the_proxy_in_front(cast):
    # What MEND_HTTPS=1 sets: the proxy says the request came over HTTPS.
    response = cast.client("harmed").get(
        f"/cases/{cast.case.reference}/", headers={"X-Forwarded-Proto": "https"}
    )
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_it_keeps_private_pages_and_answers_out_of_every_cache(cast):
    for kind, response in responses_of_every_kind(cast).items():
        assert response.headers["Cache-Control"] == "no-store", kind


def test_it_lets_browsers_cache_static_files_but_still_sniff_nothing(db):
    response = Client().get("/static/mend/mend.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_it_sends_a_permissions_policy_that_turns_off_what_mend_never_uses(cast):
    policy = Client().get("/account/sign-in/").headers["Permissions-Policy"]
    features = dict(item.strip().split("=", 1) for item in policy.split(","))
    for unused in ("geolocation", "payment", "usb"):
        assert features[unused] == "()", unused
    # Video sessions use the camera and microphone, from Mend's own pages only.
    assert features["camera"] == features["microphone"] == "(self)"


def test_it_marks_its_cookies_httponly_and_samesite(cast):
    from tests.accounts.helpers import sign_in
    from tests.builders import PASSWORD

    client = Client()
    client.get("/account/sign-in/")
    sign_in(client, "fac@riverbend.test", PASSWORD)
    for name in ("sessionid", "csrftoken"):
        cookie = client.cookies[name]
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name


@override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True)
def test_it_marks_its_cookies_secure_under_https_settings(cast):
    # MEND_HTTPS=1 sets both (tests/core/test_deploy_check.py reads them from production settings).
    from tests.accounts.helpers import sign_in
    from tests.builders import PASSWORD

    client = Client()
    client.get("/account/sign-in/", secure=True)
    sign_in(client, "fac@riverbend.test", PASSWORD)
    client.get("/", secure=True)
    assert client.cookies["sessionid"]["secure"] is True
    assert client.cookies["csrftoken"]["secure"] is True
    assert client.cookies["sessionid"]["httponly"] is True


def test_it_sends_headers_on_its_too_many_tries_answer(cast, settings):
    settings.MEND_RATE_LIMITS = {**settings.MEND_RATE_LIMITS, "join.address": "1/h"}
    client = Client()
    client.get("/join/not-a-real-token/")
    response = client.get("/join/not-a-real-token/")
    assert response.status_code == 429
    assert TOO_MANY_TRIES in response.content.decode().replace("&#x27;", "'")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


# --- the referrer --------------------------------------------------------------------------------------


def test_it_states_one_referrer_policy_in_the_header_and_the_page(cast):
    for client, path in [
        (Client(), "/account/sign-in/"),
        (cast.client("harmed"), f"/cases/{cast.case.reference}/"),
        (cast.client("facilitator"), "/cases/"),
    ]:
        response = client.get(path)
        metas = re.findall(r'<meta name="referrer" content="([^"]+)">', response.content.decode())
        assert metas == [response.headers["Referrer-Policy"]] == ["same-origin"], path


def test_it_never_loosens_the_referrer_policy_on_a_single_link_or_element():
    loosening = re.compile(r"referrerpolicy=|unsafe-url|no-referrer-when-downgrade|origin-when", re.I)
    for path in TEMPLATES.rglob("*.html"):
        assert not loosening.search(path.read_text()), path
    static = Path(mend.__file__).parent / "static" / "mend"
    for path in static.glob("*.js"):
        assert not loosening.search(path.read_text()), path


def test_it_sends_the_quick_exit_without_a_referrer_or_an_opener(cast):
    page = cast.client("harmed").get(f"/cases/{cast.case.reference}/").content.decode()
    link = re.search(r'<a id="quick-exit"[^>]*>', page).group(0)
    assert 'rel="noreferrer"' in link


class _OtherSite(BaseHTTPRequestHandler):
    """Another web site: it keeps the Referer each visit brings."""

    seen: list[tuple[str, str | None]]

    def do_GET(self):  # noqa: N802 - the name http.server calls
        if self.path != "/favicon.ico":  # the browser asking the other site for its own icon
            self.seen.append((self.path, self.headers.get("Referer")))
        body = b"<!doctype html><title>Elsewhere</title><h1>Elsewhere</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_site():
    seen: list[tuple[str, str | None]] = []
    handler = type("Handler", (_OtherSite,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _launch(playwright):
    return playwright.chromium.launch(executable_path=_chromium(), headless=True, args=["--no-sandbox"])


def _chromium() -> str:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package (`make browser`)."
        if os.environ.get("MEND_REQUIRE_SERVICES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return str(CHROMIUM)


def _click_away(page, href: str, *, policy: str | None = None) -> None:
    """Follows a plain link to `href`, as a person would; `policy` sets the link's own referrer policy."""
    page.evaluate(
        """([href, policy]) => {
            const a = document.createElement("a");
            a.href = href;
            a.textContent = "elsewhere";
            if (policy) a.referrerPolicy = policy;
            document.body.append(a);
            a.click();
        }""",
        [href, policy],
    )
    page.wait_for_url(f"{href}**")


@pytest.mark.e2e
def test_it_never_sends_a_referrer_to_another_site_from_a_real_browser(live_server, other_site):
    from playwright.sync_api import sync_playwright

    elsewhere, seen = other_site
    # A page whose address holds something private (an invitation token sits in the path like this).
    private_page = f"{live_server.url}/join/a-private-invitation-token/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page()
            for start in (private_page, f"{live_server.url}/account/sign-in/?next=/cases/C-SECRET/"):
                page.goto(start)
                _click_away(page, f"{elsewhere}/plain")
            # The control: a link that asks for the full referrer gets it, so the site above would see one.
            page.goto(private_page)
            _click_away(page, f"{elsewhere}/control", policy="unsafe-url")
        finally:
            browser.close()
    assert seen == [("/plain", None), ("/plain", None), ("/control", private_page)]


@pytest.mark.e2e
def test_it_keeps_same_origin_because_no_referrer_would_break_every_form_post(live_server):
    """docs/hardening.md: under no-referrer Chromium sends `Origin: null` with a form post, and Django's
    CSRF check refuses it. Same-origin sends the page's own origin, which passes; other sites get nothing."""
    from playwright.sync_api import sync_playwright

    def post_sign_in_form(page) -> int:
        page.goto("/account/sign-in/")
        with page.expect_navigation() as navigation:
            # Sent as a plain form post, without the page's script: the browser alone sets the Origin.
            page.evaluate(
                """() => {
                    const form = document.querySelector("form[data-sign-in]");
                    form.elements.identifier.value = "nobody@riverbend.test";
                    const key = document.createElement("input");
                    key.type = "hidden";
                    key.name = "auth_key";
                    key.value = "A".repeat(43);
                    form.append(key);
                    form.submit();
                }"""
            )
        return navigation.value.status

    def as_no_referrer(route):
        # The same page, but with the policy the issue first asked for, in the header and the page.
        if route.request.method != "GET":
            route.continue_()
            return
        response = route.fetch()
        body = response.text().replace('content="same-origin"', 'content="no-referrer"')
        route.fulfill(
            response=response, body=body, headers={**response.headers, "referrer-policy": "no-referrer"}
        )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=["--no-sandbox"]
        )
        try:
            same_origin = browser.new_page(base_url=live_server.url)
            assert post_sign_in_form(same_origin) == 400  # refused sign-in: the CSRF check passed
            no_referrer = browser.new_page(base_url=live_server.url)
            no_referrer.route("**/account/sign-in/", lambda route: as_no_referrer(route))
            assert post_sign_in_form(no_referrer) == 403  # the CSRF check refused `Origin: null`
        finally:
            browser.close()
