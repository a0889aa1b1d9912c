"""Random identifiers that say nothing about the case or person they name."""

import hashlib
import secrets

# No 0/O, 1/I/L, so that a code read aloud over the phone is not misheard.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def reference_code(prefix: str = "C") -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def token() -> str:
    """A secret for a one-time link or API token: 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(raw: str) -> str:
    """Tokens are stored only as their SHA-256, so a database copy cannot be used to sign in."""
    return hashlib.sha256(raw.encode()).hexdigest()
