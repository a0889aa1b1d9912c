"""The edges stay thin: no view, API or consumer function in mend/ is longer than 25 lines.

An edge parses, checks access, calls one service and answers (ARCHITECTURE.md, "Views, consumers and
commands are thin"); anything longer is a rule or a read that belongs in a service, selector or access
function. The edge modules are the views (`views.py`, `*_views.py`), the JSON API (`api.py` and any module
that makes a django-ninja `Router`) and the websocket consumers (`consumers.py`, `consumer.py`, and any
module defining a `...Consumer` class). Every function in them counts, helpers included, from its `def`
line to its last line (decorators not counted).
"""

import ast
from pathlib import Path

MEND = Path(__file__).resolve().parents[1] / "mend"
LIMIT = 25


def _is_edge(path: Path, tree: ast.Module) -> bool:
    name = path.name
    if name in ("views.py", "api.py", "consumers.py", "consumer.py") or name.endswith("_views.py"):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            getattr(base, "id", getattr(base, "attr", "")).endswith("Consumer") for base in node.bases
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "ninja"
            and any(a.name == "Router" for a in node.names)
        ):
            return True
    return False


def edge_functions():
    """(name, lines) of every function in an edge module of mend/."""
    for path in sorted(MEND.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        if not _is_edge(path, tree):
            continue
        where = path.relative_to(MEND.parent).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield f"{where}::{node.name}", node.end_lineno - node.lineno + 1


def test_it_keeps_every_view_api_and_consumer_function_short():
    long = {name: lines for name, lines in edge_functions() if lines > LIMIT}
    assert not long, f"over {LIMIT} lines (move rules and reads out of the edge): " + ", ".join(
        f"{name} ({lines})" for name, lines in sorted(long.items())
    )


def test_it_finds_the_edges_it_measures():
    names = {name.split("::")[0] for name, _lines in edge_functions()}
    for module in ("mend/cases/views.py", "mend/cases/api.py", "mend/dialogue/consumers.py", "mend/api.py"):
        assert module in names
