"""The audit events of a case, told in plain words for the case page (the words: mend.audit.codes)."""

from django.utils.translation import gettext as _

from mend.audit.codes import words_for
from mend.cases.models import Stage


def _stage(value: str) -> str:
    try:
        return Stage(value).label.lower()
    except ValueError:
        return value


def describe(event, program) -> str:
    # An account closed at its owner's request keeps no name.
    who = (event.actor.display_name or _("Someone")) if event.actor else _("Mend")
    data = event.payload
    words = words_for(event.code, data)
    if words is None:
        return _("%(who)s: %(code)s") % {"who": who, "code": event.code}
    text = str(words.text)
    role = program.word_for(data.get("role", "")) if data.get("role") else ""
    if words.someone and "%(role)s" in text and not role:
        role = _("someone in the case")
    return text % {
        "who": who,
        "role": role,
        "what": str(data.get("scope") or data.get("outcome") or "").replace("_", " "),
        "from": _stage(data.get("from", "")),
        "to": _stage(data.get("to", "")),
    }


def timeline(events, program) -> list[dict]:
    return [{"at": e.at, "text": describe(e, program)} for e in events]
