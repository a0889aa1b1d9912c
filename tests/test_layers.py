"""The layers of docs/layers.md hold, and the tool that checks them would notice if they did not.

`make lint` runs the import-linter contract of pyproject.toml; these tests run it too, show that a forbidden
import breaks it (in a copy of the package, never in mend/ itself), and ask a reason of every import of
Mend's own code written inside a function, since such an import is how a cycle hides from the contract."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
REASON = "# layering:"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layers_hold():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_a_forbidden_import_breaks_the_contract(tmp_path):
    """core is the bottom layer: a core module that imports an app (here cases) fails the check."""
    shutil.copytree(
        ROOT / "mend",
        tmp_path / "mend",
        ignore=shutil.ignore_patterns("__pycache__", "static", "templates", "locale"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    clean = lint_imports(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr  # the copy is checked as the tree is

    (tmp_path / "mend" / "core" / "forbidden_probe.py").write_text(
        '"""Core reaching up into an app."""\n\nfrom mend.cases.models import Case  # noqa: F401\n'
    )
    broken = lint_imports(tmp_path)
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout
    assert "mend.core is not allowed to import mend.cases" in broken.stdout
    assert "mend.core.forbidden_probe -> mend.cases.models" in broken.stdout


def _imports_inside_functions(path: Path):
    """(line, text) of every import of mend written inside a function or method of this file."""
    source = path.read_text()
    lines = source.splitlines()
    found = []

    def of_mend(node) -> bool:
        if isinstance(node, ast.Import):
            return any(alias.name == "mend" or alias.name.startswith("mend.") for alias in node.names)
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            return node.level > 0 or module == "mend" or module.startswith("mend.")
        return False

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if in_function and of_mend(child):
                statement = lines[child.lineno - 1 : child.end_lineno]
                found.append((child.lineno, statement))
            visit(child, inside)

    visit(ast.parse(source, filename=str(path)), False)
    return found


def test_every_import_inside_a_function_says_why():
    """An import inside a function is allowed only where the contract cannot express the need (an
    AppConfig.ready() that needs the loaded models, a cycle that another change removes); each carries
    `# layering: <reason>` on its line. Migrations are history and run against historical models: not
    asked."""
    missing = []
    for path in sorted((ROOT / "mend").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, statement in _imports_inside_functions(path):
            if not any(REASON in text for text in statement):
                missing.append(f"{path.relative_to(ROOT)}:{line}: {statement[0].strip()}")
    if missing:
        pytest.fail(
            f"{len(missing)} imports inside functions give no `{REASON} <reason>` comment "
            "(move the import to the top, fix the direction, or say why it must stay):\n" + "\n".join(missing)
        )
