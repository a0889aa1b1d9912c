"""The client's address that per-address limits count: X-Forwarded-For is believed only from the proxies in
MEND_TRUSTED_PROXIES (none by default), in Django and through `mend serve` itself."""

import base64
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from ipaddress import ip_network
from pathlib import Path

import pytest
from django.test import RequestFactory

from mend import env
from mend.core.throttle import client_address

ROOT = Path(__file__).resolve().parents[2]


def request(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def trust(settings, *networks: str):
    settings.MEND_TRUSTED_PROXIES = tuple(ip_network(n) for n in networks)


def test_it_believes_no_forwarded_address_by_default(settings):
    assert settings.MEND_TRUSTED_PROXIES == ()
    assert client_address(request("127.0.0.1", "203.0.113.9")) == "127.0.0.1"
    assert client_address(request("198.51.100.4", "203.0.113.9")) == "198.51.100.4"


def test_it_takes_the_forwarded_address_from_a_trusted_proxy(settings):
    trust(settings, "10.0.0.0/8", "127.0.0.1")
    assert client_address(request("10.1.2.3", "203.0.113.9")) == "203.0.113.9"
    assert client_address(request("127.0.0.1", "2001:db8::7")) == "2001:db8::7"
    assert client_address(request("10.1.2.3", "[2001:db8::7]:4431")) == "2001:db8::7"
    assert client_address(request("10.1.2.3", "203.0.113.9:51000")) == "203.0.113.9"


def test_it_ignores_what_the_client_wrote_before_the_proxy_appended_its_own(settings):
    # A proxy that appends: the client's own header comes first, and is not believed.
    trust(settings, "10.0.0.0/8")
    assert client_address(request("10.1.2.3", "192.0.2.1, 203.0.113.9")) == "203.0.113.9"
    # Through two proxies of ours, the address the outer one saw.
    assert client_address(request("10.1.2.3", "192.0.2.1, 203.0.113.9, 10.9.9.9")) == "203.0.113.9"


def test_it_does_not_believe_an_untrusted_peer_even_behind_a_trusted_network(settings):
    trust(settings, "10.0.0.0/8")
    assert client_address(request("198.51.100.4", "203.0.113.9")) == "198.51.100.4"
    assert client_address(request("127.0.0.1", "203.0.113.9")) == "127.0.0.1"


def test_it_counts_a_trusted_proxy_without_a_usable_forwarded_address_as_itself(settings):
    trust(settings, "10.0.0.0/8")
    assert client_address(request("10.1.2.3")) == "10.1.2.3"
    assert client_address(request("10.1.2.3", "")) == "10.1.2.3"
    assert client_address(request("10.1.2.3", "unknown")) == "10.1.2.3"
    assert client_address(request("10.1.2.3", "10.4.4.4")) == "10.1.2.3"


def test_it_reads_the_trusted_proxies_at_start_and_refuses_a_bad_one(monkeypatch, tmp_path):
    monkeypatch.setenv("MEND_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("MEND_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")
    assert env.read().trusted_proxies == (
        ip_network("127.0.0.1/32"),
        ip_network("10.0.0.0/8"),
        ip_network("::1/128"),
    )
    monkeypatch.setenv("MEND_TRUSTED_PROXIES", "127.0.0.1,proxy.internal")
    with pytest.raises(env.ConfigError, match="MEND_TRUSTED_PROXIES"):
        env.read()
    monkeypatch.delenv("MEND_TRUSTED_PROXIES")
    assert env.read().trusted_proxies == ()


def test_it_counts_per_address_limits_by_the_trusted_address(cast, settings):
    from tests.accounts.helpers import sign_in
    from tests.core.test_throttle import STAFF, WRONG, limits

    limits(settings, sign_in__address="2/15m")
    trust(settings, "10.0.0.0/8")
    from django.test import Client

    def through_proxy(client_ip):
        return Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client_ip)

    sign_in(through_proxy("203.0.113.1"), "a@riverbend.test", WRONG)
    sign_in(through_proxy("203.0.113.1"), "b@riverbend.test", WRONG)
    assert sign_in(through_proxy("203.0.113.1"), STAFF, WRONG).status_code == 429
    assert sign_in(through_proxy("203.0.113.2"), STAFF, WRONG).status_code == 400


# --- through `mend serve` ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """`mend serve` on a free port with its own SQLite database, for as long as the `with` lasts."""

    def __init__(self, var_dir: Path, **environ: str):
        self.var_dir = var_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MEND_HTTPS")},
            "DJANGO_SETTINGS_MODULE": "mend.settings",
            "MEND_VAR_DIR": str(var_dir),
            "MEND_ALLOWED_HOSTS": "127.0.0.1",
            "MEND_EMBEDDED_WORKER": "0",
            "PYTHONPATH": str(ROOT),  # this tree's mend, whichever the venv installed
            **environ,
        }

    def __enter__(self):
        mend = str(Path(sys.executable).parent / "mend")
        self.log = (self.var_dir / "server.log").open("w")
        self.process = subprocess.Popen(
            [mend, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.__exit__()
        raise AssertionError(f"`mend serve` did not start:\n{(self.var_dir / 'server.log').read_text()}")

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()

    def failed_sign_ins(self, count: int, forwarded_for) -> list[int]:
        """Statuses of `count` failed sign-ins, each claiming the address forwarded_for(n)."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{self.url}/account/sign-in/", timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        statuses = []
        for n in range(count):
            body = urllib.parse.urlencode(
                {
                    "csrfmiddlewaretoken": token,
                    "identifier": f"nobody-{n}@riverbend.test",
                    "auth_key": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
                }
            ).encode()
            asked = urllib.request.Request(
                f"{self.url}/account/sign-in/",
                data=body,
                headers={"X-Forwarded-For": forwarded_for(n), "Referer": f"{self.url}/account/sign-in/"},
            )
            try:
                statuses.append(opener.open(asked, timeout=10).status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        return statuses


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """One SQLite database for the servers below, migrated once."""
    var_dir = tmp_path_factory.mktemp("serve")
    environ = Served(var_dir).env
    mend = str(Path(sys.executable).parent / "mend")
    subprocess.run([mend, "migrate", "--no-input", "-v", "0"], env=environ, cwd=ROOT, check=True, timeout=300)
    return var_dir


def test_mend_serve_counts_a_loopback_client_by_its_own_address_whatever_it_forwards(migrated):
    """A client on the same host sending a new X-Forwarded-For with each try must still be counted as one
    address (uvicorn alone believes any loopback client's header)."""
    with Served(migrated) as served:
        statuses = served.failed_sign_ins(32, lambda n: f"203.0.113.{n + 1}")
    assert statuses[:30] == [400] * 30
    assert statuses[30:] == [429, 429]


def test_mend_serve_believes_a_configured_proxy(migrated):
    with Served(migrated, MEND_TRUSTED_PROXIES="127.0.0.1") as served:
        statuses = served.failed_sign_ins(32, lambda n: f"203.0.113.{n + 1}")
    assert statuses == [400] * 32
