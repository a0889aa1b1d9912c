"""What the browser journeys need to start servers and seed them, shared by tests/e2e/conftest.py and the
journeys that seed a case of their own: the server's environment, running a command, the browser's flags."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.navigators import QUICK_EXIT_URL

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
STARTUP_SECONDS = 60


def server_env(var_dir: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in (
        "REDIS_URL",
        "DATABASE_URL",
        "MEND_DEMO",
        "MEND_DEBUG",
        "MEND_HTTPS",
        "MEND_SECRET_KEY_FILE",
    ):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="mend.settings",
        MEND_VAR_DIR=str(var_dir),
        MEND_QUICK_EXIT_URL=QUICK_EXIT_URL,
        MEND_ALLOWED_HOSTS="127.0.0.1",
        # The journeys reuse one facilitator session for the whole run: a slow machine must not idle it out.
        MEND_SESSION_IDLE_MINUTES="240",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run(args: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}", pytrace=False)
    return done.stdout


def failed(node) -> bool:
    return any(getattr(getattr(node, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))


def required() -> bool:
    return os.environ.get("MEND_REQUIRE_SERVICES") == "1"


def unavailable(message: str) -> None:
    if required():
        pytest.fail(f"{message} (MEND_REQUIRE_SERVICES=1, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres:", "postgresql:"))


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`mend serve` stopped ({process.returncode}):\n{log.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if json.load(response) == {"status": "ok"}:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.1)
    pytest.fail(f"`mend serve` did not answer /healthz in time:\n{log.read_text()}", pytrace=False)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def seed_and_serve(
    var_dir: Path, env: dict[str, str], seed_script: Path
) -> tuple[subprocess.Popen, str, dict]:
    """`mend migrate`, a seed script (whose last line of output is JSON), then `mend serve` on a free port,
    in its own process group so that everything it started stops with it (`stop`). Returns the process,
    its address, and what the seed printed. The caller stops the process, healthy or not."""
    bin_dir = Path(sys.executable).parent
    run([str(bin_dir / "mend"), "migrate", "--no-input", "-v", "0"], env, "`mend migrate`")
    out = run([sys.executable, str(seed_script)], env, f"Seeding ({seed_script.name})")
    seeded = json.loads(out.strip().splitlines()[-1])
    url = f"http://127.0.0.1:{free_port()}"
    port = url.rsplit(":", 1)[1]
    with (var_dir / "server.log").open("w") as log_file:
        process = subprocess.Popen(
            [str(bin_dir / "mend"), "serve", "--host", "127.0.0.1", "--port", port],
            env=env,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, url, seeded
