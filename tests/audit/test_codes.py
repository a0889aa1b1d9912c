"""The audit code registry (mend.audit.codes) against the code: every code Mend records is registered,
every registered code is still recorded or kept for old events, and recording refuses anything else."""

import ast
import re
from pathlib import Path

import pytest
from django.db import transaction

from mend import audit
from mend.audit.codes import KEPT_FOR_OLD_EVENTS, TIMELINE, AuditCode, UnregisteredCode

MEND = Path(__file__).resolve().parents[2] / "mend"
NAMESPACED = re.compile(r"^[a-z_]+\.[a-z_]+$")

# Codes built at run time, by file: what each f-string can become. A new f-string code fails the test
# until it is listed here (better: pass an AuditCode member instead).
BUILT: dict[str, set[str]] = {}


def _code_values(node):
    """The code(s) a `code=` argument passes: a literal, an AuditCode member, either branch of an if, or
    any value of a dict looked up at once (`{Outcome.APPROVED: AuditCode.X, ...}[outcome]`)."""
    if isinstance(node, ast.IfExp):
        yield from _code_values(node.body)
        yield from _code_values(node.orelse)
    elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Dict):
        for value in node.value.values:
            yield from _code_values(value)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and NAMESPACED.match(node.value):
        yield node.value
    elif isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "AuditCode":
        yield AuditCode[node.attr].value
    elif isinstance(node, ast.JoinedStr):
        yield node


def recorded_codes() -> tuple[dict[str, list[str]], list[str]]:
    """Every code passed as `code=` in mend/ (to audit.record or to a helper that hands it on), with where;
    and the places that build a code at run time and are not listed in BUILT."""
    found, unlisted = {}, []
    for path in sorted(MEND.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        relative = path.relative_to(MEND).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            for keyword in (k for k in node.keywords if k.arg == "code"):
                for value in _code_values(keyword.value):
                    where = f"mend/{relative}:{node.lineno}"
                    if isinstance(value, ast.JoinedStr):
                        if relative not in BUILT:
                            unlisted.append(where)
                        for built in BUILT.get(relative, ()):
                            found.setdefault(built, []).append(where)
                    else:
                        found.setdefault(value, []).append(where)
    return found, unlisted


def test_it_registers_every_code_mend_records():
    found, unlisted = recorded_codes()
    unregistered = {code: where for code, where in found.items() if code not in AuditCode._value2member_map_}
    assert not unregistered, f"add these to mend.audit.codes.AuditCode: {unregistered}"
    assert not unlisted, f"codes built at run time, not listed in BUILT: {unlisted}"


def test_it_records_every_registered_code_or_keeps_it_for_old_events():
    found, _unlisted = recorded_codes()
    unused = sorted(c.value for c in AuditCode if c.value not in found and c not in KEPT_FOR_OLD_EVENTS)
    assert not unused, f"registered but never recorded (remove, or add to KEPT_FOR_OLD_EVENTS): {unused}"
    kept_but_used = sorted(c.value for c in KEPT_FOR_OLD_EVENTS if c.value in found)
    assert not kept_but_used, f"still recorded, so not only kept for old events: {kept_but_used}"


def test_it_gives_timeline_words_only_to_registered_codes():
    assert all(isinstance(code, AuditCode) for code in TIMELINE)


def test_it_refuses_to_record_an_unregistered_code(cast):
    with pytest.raises(UnregisteredCode, match="'case.noted' is not registered"), transaction.atomic():
        audit.record(actor=None, code="case.noted", target=cast.case)


def test_it_stores_a_member_as_its_plain_code(cast):
    with transaction.atomic():
        event = audit.record(actor=None, code=AuditCode.CASE_CREATED, target=cast.case, case=cast.case)
    event.refresh_from_db()
    assert type(event.code) is str and event.code == "case.created"
