"""Reads Mend's settings from the environment and refuses to start on a value it cannot use."""

import os
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting in the environment cannot be used; the message names it and says what is wrong."""


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be 1 or 0, not {raw!r}.")


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}.")
    return value


def _str(name: str, default: str = "") -> str:
    return os.environ.get(name, default) or default


@dataclass(frozen=True)
class Env:
    debug: bool
    demo: bool
    secret_key: str
    database_url: str
    redis_url: str
    allowed_hosts: list[str]
    https: bool
    quick_exit_url: str
    var_dir: Path
    invitation_days: int
    embedded_worker: bool


def _secret_key(var_dir: Path, debug: bool) -> str:
    key = _str("MEND_SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ConfigError("MEND_SECRET_KEY must be at least 32 characters long.")
        return key
    key_file = _str("MEND_SECRET_KEY_FILE")
    if key_file:
        key = Path(key_file).read_text().strip()
        if len(key) < 32:
            raise ConfigError("MEND_SECRET_KEY_FILE must hold at least 32 characters.")
        return key
    # Embedded mode keeps a generated key beside its database, so a clone runs at once.
    path = var_dir / "secret_key"
    if not path.exists():
        import secrets

        var_dir.mkdir(parents=True, exist_ok=True)
        # Created readable by the owner only from the first byte.
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def read() -> Env:
    var_dir = Path(_str("MEND_VAR_DIR", str(BASE_DIR / "var")))
    debug = _bool("MEND_DEBUG", False)
    database_url = _str("DATABASE_URL", f"sqlite:///{var_dir / 'mend.sqlite3'}")
    if not database_url.startswith(("sqlite:", "postgres:", "postgresql:")):
        raise ConfigError("DATABASE_URL must start with sqlite:// or postgres://.")
    redis_url = _str("REDIS_URL")
    if redis_url and not redis_url.startswith(("redis:", "rediss:")):
        raise ConfigError("REDIS_URL must start with redis:// or rediss://.")
    quick_exit = _str("MEND_QUICK_EXIT_URL", "https://www.bbc.com/weather")
    if not quick_exit.startswith(("https://", "http://")):
        raise ConfigError("MEND_QUICK_EXIT_URL must be a full http(s) address.")
    hosts = [h.strip() for h in _str("MEND_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
    demo, https = _bool("MEND_DEMO", False), _bool("MEND_HTTPS", False)
    if demo and (https or not set(hosts) <= {"127.0.0.1", "localhost", "::1"}):
        # Demo accounts have published passwords and skip the second factor: never on a real address.
        raise ConfigError("MEND_DEMO=1 is for a local demo only: unset it with MEND_HTTPS or public hosts.")
    return Env(
        debug=debug,
        demo=demo,
        secret_key=_secret_key(var_dir, debug),
        database_url=database_url,
        redis_url=redis_url,
        allowed_hosts=hosts,
        https=https,
        quick_exit_url=quick_exit,
        var_dir=var_dir,
        invitation_days=_int("MEND_INVITATION_DAYS", 7, minimum=1),
        embedded_worker=_bool("MEND_EMBEDDED_WORKER", True),
    )
