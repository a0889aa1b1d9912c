"""Verdicts and the report: medians over the runs, each scenario's ratio and target, the BENCH lines and
bench/results/latest.md. Nothing here rounds a figure in Mend's favour: a target missed by a hair is short."""

import math
from dataclasses import dataclass

from bench.loadgen import median

# Each target, as the BENCH line writes it (no spaces).
TARGETS = {
    "api": "throughput-ratio>=0.5",
    "page": "throughput-ratio>=0.4,p99<100ms,fixed-queries",
    "send": "p50<=base+2ms,p99<=base+10ms",
    "fanout": "p99<=3xbase,0-lost",
    "signin": "p50<=hash+10ms",
}


@dataclass
class Verdict:
    name: str  # scenario@setup
    scenario: str
    setup: str
    rate: float
    ours: dict  # medians over the runs; errors and lost are totals
    base: dict
    ratio: float
    ok: bool
    why: list[str]  # what fell short, in words

    @property
    def line(self) -> str:
        kind = self.scenario.split("-")[0]
        return (
            f"BENCH {self.name} ratio={_num(self.ratio, 2)} p50_ms={_num(self.ours['p50_ms'], 1)} "
            f"p99_ms={_num(self.ours['p99_ms'], 1)} target={TARGETS[kind]} {'ok' if self.ok else 'short'}"
        )


def _num(value: float, places: int) -> str:
    return "nan" if value is None or math.isnan(value) else f"{value:.{places}f}"


def _medians(runs: list[dict], side: str) -> dict:
    keys = ("p50_ms", "p99_ms", "throughput")
    out = {k: median([r[side][k] for r in runs]) for k in keys}
    out["errors"] = sum(r[side]["errors"] for r in runs)
    out["lost"] = sum(r[side].get("lost", 0) for r in runs)
    out["n"] = sum(r[side]["n"] for r in runs)
    return out


def verdict(setup: str, scenario: str, data: dict, queries: dict | None = None) -> Verdict:
    runs = data["runs"]
    ours, base = _medians(runs, "ours"), _medians(runs, "base")
    kind = scenario.split("-")[0]
    why = []
    if kind in ("api", "page"):
        ratio = ours["throughput"] / base["throughput"] if base["throughput"] else math.nan
        floor = 0.5 if kind == "api" else 0.4
        if not ratio >= floor:
            why.append(f"throughput ratio {ratio:.2f} < {floor}")
        if kind == "page":
            if not ours["p99_ms"] < 100:
                why.append(f"p99 {ours['p99_ms']:.0f} ms >= 100 ms")
            if not (queries or {}).get("fixed"):
                why.append("query count not the same on every page")
    elif kind == "send":
        ratio = ours["p50_ms"] / base["p50_ms"]
        if not ours["p50_ms"] <= base["p50_ms"] + 2:
            why.append(f"p50 {ours['p50_ms']:.1f} ms > baseline {base['p50_ms']:.1f} + 2 ms")
        if not ours["p99_ms"] <= base["p99_ms"] + 10:
            why.append(f"p99 {ours['p99_ms']:.1f} ms > baseline {base['p99_ms']:.1f} + 10 ms")
    elif kind == "fanout":
        ratio = ours["p99_ms"] / base["p99_ms"]
        if not ratio <= 3:
            why.append(f"p99 {ratio:.1f}x the baseline's")
    else:  # signin
        ratio = ours["p50_ms"] / base["p50_ms"]
        if not ours["p50_ms"] <= base["p50_ms"] + 10:
            why.append(f"p50 {ours['p50_ms']:.0f} ms > hash {base['p50_ms']:.0f} + 10 ms")
    if ours["errors"]:
        why.append(f"{ours['errors']} wrong or missing answers")
    if ours["lost"]:
        why.append(f"{ours['lost']} messages lost")
    return Verdict(f"{scenario}@{setup}", scenario, setup, data["rate"], ours, base, ratio, not why, why)


def verdicts(result: dict) -> list[Verdict]:
    return [
        verdict(result["setup"], name, data, result.get("queries"))
        for name, data in result["scenarios"].items()
    ]


# --- latest.md ---------------------------------------------------------------------------------------------

SETUPS = {
    "embedded": "one `mend serve` (uvicorn) with its job worker thread; SQLite (WAL); in-process channel "
    "layer and cache",
    "scaled": "two `mend serve --no-worker` processes (uvicorn, one port each, no proxy: the load generator "
    "spreads its connections over both) and one `mend worker`; PostgreSQL; Redis channel layer and cache",
}
HEADER = [
    "| scenario | set-up | open-loop rate /s | Mend p50 | Mend p99 | Mend /s | baseline p50 | baseline p99 "
    "| baseline /s | ratio | target | result |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
]


def _ms(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.1f}"


def _per_s(value: float, measured: bool) -> str:
    return f"{value:.0f}" if measured and value and not math.isnan(value) else "–"


def _row(v: Verdict) -> str:
    closed = v.scenario.split("-")[0] in ("api", "page", "send")
    hashed = "hash " if v.scenario == "signin" else ""
    result = "ok" if v.ok else "short: " + "; ".join(v.why)
    cells = [
        v.scenario, v.setup, f"{v.rate:g}", _ms(v.ours["p50_ms"]), _ms(v.ours["p99_ms"]),
        _per_s(v.ours["throughput"], closed), hashed + _ms(v.base["p50_ms"]), _ms(v.base["p99_ms"]),
        _per_s(v.base["throughput"], closed), _num(v.ratio, 2), TARGETS[v.scenario.split("-")[0]], result,
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def _settings(meta: dict, results: list[dict]) -> list[str]:
    s = meta["settings"]
    lines = [
        f"- Data: `mend bench seed --cases {s['cases']} --messages {s['messages']}` in each set-up's own new "
        "database; the facilitator of the `page` scenario runs every case.",
        f"- Runs: {s['runs']} per scenario; each figure is the median over the runs (errors and lost "
        "messages: totals). Mend and its baseline are measured one after the other in every run, in "
        "alternating order.",
        f"- Closed loop (throughput): {s['clients']} keep-alive connections for {s['closed_seconds']} s "
        f"(HTTP), {s['window']} messages in flight (`send`).",
        f"- Open loop (p50, p99): requests start on a fixed schedule for {s['open_seconds']} s (longer where "
        f"needed for at least {s['min_samples']} requests; sign-in, judged by its p50, at least 10) at the "
        f"rate in the table, {s['load']:.0%} of what "
        "Mend's side managed closed-loop just before the runs, the same rate for the baseline; each latency "
        "counts from when its request was due.",
        f"- A message not delivered to every receiver within {s['drain_seconds']} s counts as lost.",
    ]
    for name, seeded in meta["seeding"].items():
        lines.append(f"- Set-up `{name}`: {SETUPS[name]}. {seeded}")
    for result in results:
        before, after = result.get("load", {}).get("before", "?"), result.get("load", {}).get("after", "?")
        lines.append(
            f"- Load average (1, 5, 15 min) of the machine, which other work shares: {before} before the "
            f"`{result['setup']}` measures, {after} after."
        )
    return lines


def markdown(meta: dict, results: list[dict]) -> str:
    kind = "BENCH_QUICK=1, a smoke run: too small to judge by" if meta["quick"] else "full run"
    out = [
        "# Mend benchmarks: latest run",
        "",
        f"Made by `make bench` ({kind}) on {meta['date']}, in {meta['minutes']:.1f} minutes including "
        "seeding. How it is measured and how to read it: [bench/README.md](../README.md).",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {k} | {v} |" for k, v in meta["machine"].items()),
        "",
        "## Settings",
        "",
        *_settings(meta, results),
        "",
        "## Results",
        "",
        "Times in ms; /s is closed-loop throughput (– where the scenario has no closed loop). Ratio: Mend "
        "over the baseline: of throughput for `api` and `page`, of p50 for `send` and `signin`, of p99 for "
        "`fanout`.",
        "",
        *HEADER,
    ]
    lines = []
    for result in results:
        for v in verdicts(result):
            out.append(_row(v))
            lines.append(v.line)
    out += ["", "## Queries of the case list (`page`)", ""]
    for result in results:
        q = result["queries"]
        counts = ", ".join(f"`{path}` {n}" for path, n in q["counts"].items())
        same = "the same on every page" if q["fixed"] else "NOT the same on every page"
        out.append(
            f"- {result['setup']}: {counts} (the facilitator runs {q['cases_of_facilitator']:,} cases); "
            f"{same}."
        )
    out += ["", "## Lines printed", "", "```", *lines, "```", ""]
    return "\n".join(out)
