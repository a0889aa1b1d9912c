"""Sign-in names for participants, and the way a typed phrase is normalised. The phrase itself is made in
the browser (static/mend/join.js), from the same EFF word list."""

import re
import secrets

from xkcdpass import xkcd_password

from mend.core.ids import reference_code

PHRASE_WORDS = 6  # EFF long list: about 77 bits, beyond guessing even without rate limits.
_WORDS = None


def _wordlist() -> list[str]:
    global _WORDS
    if _WORDS is None:
        words = xkcd_password.generate_wordlist(
            wordfile=xkcd_password.locate_wordfile("eff-long"), min_length=3, max_length=9
        )
        # Letters only: "t-shirt" and "yo-yo" would make sign-in names and phrases that read ambiguously.
        _WORDS = [w for w in words if re.fullmatch(r"[a-z]{3,9}", w)]
    return _WORDS


def new_sign_in_name() -> str:
    words = _wordlist()
    return f"{secrets.choice(words)}-{reference_code('')[1:].lower()}"


_NAME = re.compile(r"^[a-z0-9]{2,12}(-[a-z0-9]{2,12}){1,3}$")


def is_sign_in_name(value) -> bool:
    return isinstance(value, str) and bool(_NAME.match(value))


def normalise_phrase(typed: str) -> str:
    return " ".join(re.split(r"[\s\-_.,]+", typed.strip().lower())).strip()
