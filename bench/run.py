"""`make bench`: seeds a new database for each set-up, measures every scenario there against its bare
baseline (bench/driver.py), prints one BENCH line per scenario and writes bench/results/latest.md.

Set-ups: embedded (SQLite, in-process channel layer) always; scaled (PostgreSQL, Redis) when both can be
reached. The environment can change what is run:

    BENCH_QUICK=1            a smoke run: 2,000 cases, 20,000 messages, 2 runs, shorter measures
    BENCH_SETUPS=embedded    only these set-ups (comma-separated: embedded, scaled)
    BENCH_CASES, BENCH_MESSAGES, BENCH_RUNS     other volumes or run counts
    BENCH_POSTGRES_URL       the PostgreSQL server to make the scaled set-up's database in
                             (default: DATABASE_URL if it is PostgreSQL, else postgres://postgres@127.0.0.1:5432/)
    BENCH_REDIS_URL          the Redis database the scaled set-up uses (default redis://127.0.0.1:6379/14); it
                             is flushed before and after, so give it one nobody else uses
    BENCH_KEEP=1             keep the set-ups' directories and logs (in /tmp) and the PostgreSQL database
"""

import json
import os
import platform
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402

BIN = Path(sys.executable).parent
MEND = str(BIN / "mend")
QUICK = os.environ.get("BENCH_QUICK") == "1"
# A smoke run writes beside the full run's committed results, never over them.
LATEST = ROOT / "bench" / "results" / ("quick.md" if QUICK else "latest.md")


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


CASES = _int("BENCH_CASES", 2_000 if QUICK else 100_000)
MESSAGES = _int("BENCH_MESSAGES", 20_000 if QUICK else 1_000_000)
RUNS = _int("BENCH_RUNS", 2 if QUICK else 5)


def say(line: str) -> None:
    print(line, flush=True)


# --- services ------------------------------------------------------------------------------------------


def _postgres_server() -> str:
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres:", "postgresql:")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    return url


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/14"


def scaled_available() -> str | None:
    """None when PostgreSQL and Redis can both be reached, else why not."""
    import psycopg
    import redis

    try:
        psycopg.connect(_with_database(_postgres_server(), "postgres"), connect_timeout=5).close()
    except psycopg.OperationalError as error:
        return f"PostgreSQL cannot be reached: {error}".strip()
    try:
        redis.Redis.from_url(_redis_url(), socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        return f"Redis cannot be reached: {error}"
    return None


def _postgres(sql: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(_postgres_server(), "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(_redis_url()).flushdb()


# --- the machine ---------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _versions(scaled: bool) -> dict:
    from importlib.metadata import version

    found = {
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "Django": version("django"),
        "Channels": version("channels"),
        "uvicorn": version("uvicorn"),
        "argon2-cffi": version("argon2-cffi"),
    }
    if scaled:
        import psycopg
        import redis

        with psycopg.connect(_with_database(_postgres_server(), "postgres")) as conn:
            found["PostgreSQL"] = conn.execute("SHOW server_version").fetchone()[0]
            shown = ("shared_buffers", "work_mem", "synchronous_commit", "max_connections")
            found["PostgreSQL settings"] = ", ".join(
                f"{name} {conn.execute(f'SHOW {name}').fetchone()[0]}" for name in shown
            )
        found["Redis"] = redis.Redis.from_url(_redis_url()).info("server")["redis_version"]
        found["channels-redis"] = version("channels-redis")
    return found


def machine(scaled: bool) -> dict:
    return {
        "CPU": _cpu_model(),
        "cores": os.cpu_count(),
        "RAM": _memory(),
        "OS": f"{platform.system()} {platform.release()}",
        **_versions(scaled),
    }


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- one set-up ----------------------------------------------------------------------------------------


class Setup:
    def __init__(self, name: str):
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"mend-bench-{name}-"))
        self.database = f"mend_bench_{secrets.token_hex(4)}" if name == "scaled" else ""
        self.env = self._env()
        self.seed_seconds = 0.0
        self.seed_output: list[str] = []

    def _env(self) -> dict:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("MEND_") and k not in ("DATABASE_URL", "REDIS_URL")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="mend.settings",
            MEND_VAR_DIR=str(self.dir / "var"),
            MEND_BENCH="1",
            MEND_ALLOWED_HOSTS="127.0.0.1",
            # The scenarios' sessions are made once and used for the whole run: no idle sign-out midway.
            MEND_SESSION_IDLE_MINUTES="600",
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(ROOT),
        )
        if self.name == "scaled":
            env.update(
                DATABASE_URL=_with_database(_postgres_server(), self.database),
                REDIS_URL=_redis_url(),
                MEND_EMBEDDED_WORKER="0",
            )
        return env

    def run(self, args: list[str], what: str) -> None:
        done = subprocess.run(args, env=self.env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{self.name}: {what} failed:\n{done.stdout}\n{done.stderr}")

    def prepare(self) -> None:
        if self.name == "scaled":
            _postgres(f'CREATE DATABASE "{self.database}"')
            _flush_redis()
        self.run([MEND, "migrate", "--no-input", "-v", "0"], "`mend migrate`")

    def seed(self) -> subprocess.Popen:
        self.seed_started = time.monotonic()
        return subprocess.Popen(
            [MEND, "bench", "seed", "--cases", str(CASES), "--messages", str(MESSAGES)],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def size(self) -> str:
        """How big the seeded database is on disk."""
        if self.name == "scaled":
            import psycopg

            with psycopg.connect(self.env["DATABASE_URL"]) as conn:
                size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        else:
            size = sum(p.stat().st_size for p in (self.dir / "var").glob("mend.sqlite3*"))
        return f"{size / 1024**3:.1f} GiB"

    def measure(self) -> dict:
        out = self.dir / "result.json"
        args = [
            sys.executable,
            "-m",
            "bench.driver",
            "--setup",
            self.name,
            "--runs",
            str(RUNS),
            "--out",
            str(out),
        ]
        if QUICK:
            args.append("--quick")
        done = subprocess.run(args, env=self.env, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"{self.name}: the measures failed; logs are in {self.dir}")
        return json.loads(out.read_text())

    def clean(self) -> None:
        if os.environ.get("BENCH_KEEP") == "1":
            say(f"  kept {self.dir}" + (f" and database {self.database}" if self.database else ""))
            return
        if self.name == "scaled":
            _postgres(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            _flush_redis()
        shutil.rmtree(self.dir, ignore_errors=True)


def _seed_all(setups: list[Setup]) -> None:
    """Seeds every set-up's database at once: the work is mostly Python on one side and PostgreSQL on the
    other, and nothing is measured meanwhile."""

    def follow(setup: Setup, process: subprocess.Popen) -> None:
        for line in process.stdout:
            setup.seed_output.append(line.rstrip())
            say(f"  [{setup.name}] {line.rstrip()}")
        process.wait()
        setup.seed_seconds = time.monotonic() - setup.seed_started
        setup.seed_returncode = process.returncode

    threads = [threading.Thread(target=follow, args=(s, s.seed())) for s in setups]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for setup in setups:
        if setup.seed_returncode != 0:
            raise RuntimeError(f"{setup.name}: `mend bench seed` failed:\n" + "\n".join(setup.seed_output))


def main() -> int:
    started = time.monotonic()
    wanted = [s.strip() for s in os.environ.get("BENCH_SETUPS", "embedded,scaled").split(",") if s.strip()]
    unknown = set(wanted) - {"embedded", "scaled"}
    if unknown:
        say(f"BENCH_SETUPS: unknown set-up {', '.join(sorted(unknown))}; use embedded, scaled.")
        return 2
    if "scaled" in wanted:
        missing = scaled_available()
        if missing:
            say(f"The scaled set-up is skipped: {missing}")
            wanted.remove("scaled")
    say(
        f"make bench: {', '.join(wanted)}; {CASES:,} cases, {MESSAGES:,} messages, {RUNS} runs; "
        f"load {_load()}"
    )
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": QUICK,
        "machine": machine("scaled" in wanted) | {"load average (1, 5, 15 min) at the start": _load()},
        "seeding": {},
    }
    setups = [Setup(name) for name in wanted]
    results = []
    try:
        say("Migrating and seeding (both set-ups at once)" if len(setups) > 1 else "Migrating and seeding")
        threads = [threading.Thread(target=s.prepare) for s in setups]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _seed_all(setups)
        for setup in setups:
            summary = next((line for line in reversed(setup.seed_output) if line.startswith("Seeded")), "")
            alongside = ", alongside the other set-up's seeding" if len(setups) > 1 else ""
            meta["seeding"][setup.name] = (
                f"{summary.rstrip('.')} ({setup.seed_seconds:.0f} s with start-up{alongside}); "
                f"{setup.size()} on disk."
            )
        for setup in setups:
            load = _load()
            say(f"Measuring the {setup.name} set-up (load {load})")
            result = setup.measure()
            result["load"] = {"before": load, "after": _load()}
            results.append(result)
    finally:
        for setup in setups:
            setup.clean()
    settings = results[0]["settings"] if results else {}
    meta["settings"] = {"cases": CASES, "messages": MESSAGES, **settings}
    meta["minutes"] = (time.monotonic() - started) / 60
    meta["machine"]["load average (1, 5, 15 min) at the end"] = _load()
    LATEST.parent.mkdir(parents=True, exist_ok=True)
    LATEST.write_text(report.markdown(meta, results))
    LATEST.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    say(f"Wrote {LATEST.relative_to(ROOT)} ({meta['minutes']:.1f} minutes)")
    for result in results:
        for v in report.verdicts(result):
            say(v.line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
