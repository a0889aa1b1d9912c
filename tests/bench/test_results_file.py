"""A smoke run (BENCH_QUICK=1) writes its own file and never replaces the full run's committed results."""

import importlib

import pytest

import bench.run


@pytest.mark.parametrize(("quick", "name"), [("1", "quick.md"), ("", "latest.md")])
def test_it_writes_a_quick_run_beside_the_full_runs_results(monkeypatch, quick, name):
    monkeypatch.setenv("BENCH_QUICK", quick)
    try:
        run = importlib.reload(bench.run)
        assert run.LATEST.name == name
        assert run.LATEST.parent == run.ROOT / "bench" / "results"
    finally:
        monkeypatch.undo()
        importlib.reload(bench.run)
