"""Sign-in names and phrases for participants, and the way a typed phrase is normalised."""

import re
import secrets

from xkcdpass import xkcd_password

from mend.core.ids import reference_code

PHRASE_WORDS = 6  # EFF long list: about 77 bits, beyond guessing even without rate limits.
_WORDS = None


def _wordlist() -> list[str]:
    global _WORDS
    if _WORDS is None:
        _WORDS = xkcd_password.generate_wordlist(
            wordfile=xkcd_password.locate_wordfile("eff-long"), min_length=3, max_length=9
        )
    return _WORDS


def new_phrase() -> str:
    words = _wordlist()
    return " ".join(secrets.choice(words) for _ in range(PHRASE_WORDS))


def new_sign_in_name() -> str:
    words = _wordlist()
    return f"{secrets.choice(words)}-{reference_code('')[1:].lower()}"


def normalise_phrase(typed: str) -> str:
    return " ".join(re.split(r"[\s\-_.,]+", typed.strip().lower())).strip()
