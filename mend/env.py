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
    bench: bool
    secret_key: str
    database_url: str
    redis_url: str
    allowed_hosts: list[str]
    https: bool
    trusted_proxies: tuple
    quick_exit_url: str
    var_dir: Path
    invitation_days: int
    embedded_worker: bool
    audit_key: bytes
    master_key: bytes
    install_id: str
    keystore_database_url: str
    db_pool_size: int
    session_idle_minutes: int
    session_max_hours: int
    hsts_preload: bool
    smtp_url: str
    email_from: str
    ice_servers: list[dict]


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


def _key_bytes(name: str, var_dir: Path) -> bytes:
    """A 32-byte key from NAME (base64url) or NAME_FILE; embedded mode keeps a generated one beside its
    database, owner-only. Production sets both keys explicitly (see docs/deploy.md)."""
    import base64
    import binascii

    raw = _str(name)
    source = name
    if not raw and _str(f"{name}_FILE"):
        source = f"{name}_FILE"
        try:
            raw = Path(_str(f"{name}_FILE")).read_text().strip()
        except OSError as error:
            raise ConfigError(f"{name}_FILE cannot be read: {error.strerror}.") from None
    if not raw:
        path = var_dir / name.lower()
        if not path.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
                handle.write(base64.urlsafe_b64encode(os.urandom(32)).decode())
        raw = path.read_text().strip()
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{source} must hold 32 random bytes in base64url (try: openssl rand -base64 32).")
    return key


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
    bench = _bool("MEND_BENCH", False)
    if bench and (https or not set(hosts) <= {"127.0.0.1", "localhost", "::1"}):
        # The benchmark's bare baseline routes answer without sign-in (bench/README.md): local runs only.
        raise ConfigError(
            "MEND_BENCH=1 is for a local benchmark only: unset it with MEND_HTTPS or public hosts."
        )
    return Env(
        debug=debug,
        demo=demo,
        bench=bench,
        secret_key=_secret_key(var_dir, debug),
        database_url=database_url,
        redis_url=redis_url,
        allowed_hosts=hosts,
        https=https,
        trusted_proxies=_trusted_proxies(),
        quick_exit_url=quick_exit,
        var_dir=var_dir,
        invitation_days=_int("MEND_INVITATION_DAYS", 7, minimum=1),
        embedded_worker=_bool("MEND_EMBEDDED_WORKER", True),
        audit_key=_key_bytes("MEND_AUDIT_KEY", var_dir),
        master_key=_key_bytes("MEND_MASTER_KEY", var_dir),
        install_id=_install_id(var_dir),
        keystore_database_url=_keystore_url(),
        db_pool_size=_int("MEND_DB_POOL_SIZE", 10, minimum=1),
        session_idle_minutes=_int("MEND_SESSION_IDLE_MINUTES", 30, minimum=1),
        session_max_hours=_int("MEND_SESSION_MAX_HOURS", 12, minimum=1),
        hsts_preload=_bool("MEND_HSTS_PRELOAD", False),
        smtp_url=_smtp_url(),
        email_from=_str("MEND_EMAIL_FROM", "Mend <mend@localhost>"),
        ice_servers=_ice_servers(),
    )


def _trusted_proxies() -> tuple:
    """The addresses (or networks, 10.0.0.0/8) of the reverse proxies whose X-Forwarded-For Mend believes,
    comma-separated. None by default: the connecting address is the client's, whatever headers it sends."""
    import ipaddress

    name = "MEND_TRUSTED_PROXIES"
    networks = []
    for item in (part.strip() for part in _str(name).split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{name} must list IP addresses or networks, like 127.0.0.1,10.0.0.0/8; {item!r} is neither."
            ) from None
    return tuple(networks)


def _install_id(var_dir: Path) -> str:
    """A public value made once per install and mixed into the sign-in salt, so that one precomputed table
    of guesses does not serve every Mend (docs/crypto.md). From MEND_INSTALL_ID (every server of a scaled
    install sets the same); embedded mode keeps a generated one beside its database. Never change it: every
    account would need its recovery code."""
    import re
    import secrets

    name = "MEND_INSTALL_ID"
    value = _str(name)
    if not value:
        path = var_dir / name.lower()
        if not path.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "w") as handle:
                handle.write(secrets.token_urlsafe(16))
        value, name = path.read_text().strip(), str(path)
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", value):
        raise ConfigError(f"{name} must be 16 to 64 letters, digits, - or _ (try: openssl rand -hex 16).")
    return value


def _smtp_url() -> str:
    url = _str("MEND_SMTP_URL")
    if url and not url.startswith(("smtp://", "smtps://")):
        raise ConfigError("MEND_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465.")
    return url


def _keystore_url() -> str:
    url = _str("MEND_KEYSTORE_DATABASE_URL")
    if url and not url.startswith(("sqlite:", "postgres:", "postgresql:")):
        raise ConfigError("MEND_KEYSTORE_DATABASE_URL must start with sqlite:// or postgres://.")
    return url


ICE_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


def _ice_servers() -> list[dict]:
    """STUN and TURN servers for the video rooms, as a JSON list of RTCIceServer objects, for example
    [{"urls": "stun:stun.example.org"}, {"urls": ["turn:turn.example.org"], "username": "u",
    "credential": "p"}]. Empty by default: on one network, browsers find each other without any."""
    import json

    name = "MEND_ICE_SERVERS"
    raw = _str(name)
    if not raw:
        return []
    shape = f'{name} must be a JSON list of ICE servers, like [{{"urls": "stun:stun.example.org"}}].'
    try:
        servers = json.loads(raw)
    except (ValueError, RecursionError):
        raise ConfigError(shape) from None
    if not isinstance(servers, list):
        raise ConfigError(shape)
    for number, server in enumerate(servers, start=1):
        where = f"{name}, server {number}"
        if not isinstance(server, dict) or not set(server) <= {"urls", "username", "credential"}:
            raise ConfigError(f"{where}: give an object with urls, and username and credential for TURN.")
        urls = server.get("urls")
        urls = [urls] if isinstance(urls, str) else urls
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise ConfigError(f"{where}: urls must be an address or a list of addresses.")
        if not all(u.startswith(ICE_SCHEMES) for u in urls):
            raise ConfigError(f"{where}: each address must start with stun:, stuns:, turn: or turns:.")
        for field in ("username", "credential"):
            if field in server and not isinstance(server[field], str):
                raise ConfigError(f"{where}: {field} must be text.")
        if any(u.startswith(("turn:", "turns:")) for u in urls) and not (
            server.get("username") and server.get("credential")
        ):
            raise ConfigError(f"{where}: a TURN server needs a username and a credential.")
    return servers
