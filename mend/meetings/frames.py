"""The frames a browser sends to a video room, and whether a signal is one offer, answer or ICE candidate of a
sensible size: checked before the consumer acts on anything."""

import json
import re

from django.utils.translation import gettext as _

FRAME_TYPES = ("join", "signal", "media", "leave", "pause", "resume", "caucus", "rejoin", "end")
FACILITATOR_FRAMES = ("pause", "resume", "caucus", "rejoin", "end")
MAX_FRAME = 72 * 1024  # a whole frame, read before parsing
MAX_SIGNAL = 64 * 1024  # an offer, answer or candidate, as JSON
PERSON_ID = re.compile(r"[pmk][0-9]{1,18}")


def bool_pair(content: dict) -> tuple[bool, bool] | None:
    audio, video = content.get("audio", True), content.get("video", True)
    if not isinstance(audio, bool) or not isinstance(video, bool):
        return None
    return audio, video


# An ICE candidate's fields: their type and, for text, their greatest length.
CANDIDATE_FIELDS = {
    "candidate": (str, 2048),
    "sdpMid": (str, 64),
    "sdpMLineIndex": (int, 0),
    "usernameFragment": (str, 256),
}


def _candidate_problem(candidate) -> bool:
    if candidate is None:
        return False  # the end of the candidates
    if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
        return True
    for name, value in candidate.items():
        if name not in CANDIDATE_FIELDS:
            return True
        kind, longest = CANDIDATE_FIELDS[name]
        if value is None and name != "candidate":
            continue
        if type(value) is not kind:
            return True
        if kind is str and len(value) > longest:
            return True
        if kind is int and not 0 <= value < 1024:
            return True
    return False


def signal_problem(data) -> str | None:
    """Why a signal's data is not one offer, answer or ICE candidate of a sensible size, or None."""
    if not isinstance(data, dict) or len(data) != 1 or not {"description", "candidate"} & set(data):
        return _("signal.data must hold one description or one candidate.")
    if "description" in data:
        description = data["description"]
        if (
            not isinstance(description, dict)
            or set(description) != {"type", "sdp"}
            or description["type"] not in ("offer", "answer")
            or not isinstance(description["sdp"], str)
        ):
            return _("signal.data.description must be an offer or an answer with its sdp.")
    elif _candidate_problem(data["candidate"]):
        return _("signal.data.candidate must be an ICE candidate.")
    if len(json.dumps(data)) > MAX_SIGNAL:
        return _("This signal is too large.")
    return None
