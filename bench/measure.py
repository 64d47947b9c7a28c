"""Timing an operation: repeated runs, percentiles, the SQL statements each run sends, and the same for
its bare-SQL floor in the same process, on the same connection.

An operation runs its measured part inside ``with clock:``; what it does outside (finding a client,
resetting rows) is not timed. Writes run in a transaction that is rolled back after each run
(mode "rollback"), so every run meets the same world; what must commit to be honest (the reminder
outbox commits each claim and each result) runs as the application runs it and is undone afterwards
(mode "commit").
"""

import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction


class Clock:
    """Accumulates the time spent inside ``with clock:`` and the SQL statements sent meanwhile."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0
        self.counting = False
        self.extra: dict = {}

    def __enter__(self):
        self.counting = True
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds += time.perf_counter() - self._started
        self.counting = False
        return False


class _Counter:
    """A connection execute wrapper: counts statements while a clock runs. A function call per statement;
    cheap next to a round trip to PostgreSQL."""

    def __init__(self):
        self.clock: Clock | None = None

    def __call__(self, execute, sql, params, many, context):
        if self.clock is not None and self.clock.counting:
            self.clock.queries += 1
        return execute(sql, params, many, context)


COUNTER = _Counter()


def install_counter() -> None:
    if COUNTER not in connection.execute_wrappers:
        connection.execute_wrappers.append(COUNTER)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile with linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Summary:
    samples_ms: list[float]
    queries: list[int]

    def as_dict(self) -> dict:
        s = self.samples_ms
        return {
            "n": len(s),
            "p50_ms": round(percentile(s, 50), 2),
            "p95_ms": round(percentile(s, 95), 2),
            "p99_ms": round(percentile(s, 99), 2),
            "mean_ms": round(statistics.fmean(s), 2) if s else None,
            "min_ms": round(min(s), 2) if s else None,
            "max_ms": round(max(s), 2) if s else None,
            "queries": _queries(self.queries),
        }


def _queries(counts: list[int]) -> int | str | None:
    if not counts:
        return None
    low, high = min(counts), max(counts)
    return low if low == high else f"{low}-{high}"


@dataclass
class Operation:
    key: str
    label: str
    run: Callable[[Clock], None]
    floor: Callable[[Clock], None] | None = None
    mode: str = "rollback"  # "rollback", "commit" (reset() undoes), "read"
    reset: Callable[[], None] | None = None
    repeat: int = 30
    floor_label: str = "SQL"
    issue_ms: float | None = None  # "Parlor now" in issue 15's table
    target_ms: float | None = None
    note: str = ""
    result: dict = field(default_factory=dict)


def _run_once(op: Operation, body: Callable[[Clock], None], *, rollback: bool) -> Clock:
    clock = Clock()
    COUNTER.clock = clock
    try:
        if rollback:
            with transaction.atomic():
                body(clock)
                transaction.set_rollback(True)
        else:
            body(clock)
    finally:
        COUNTER.clock = None
    return clock


def _repeat(op: Operation, body, *, rollback: bool, reset, count: int, budget: float, warmup: int = 1) -> tuple:
    samples, queries, extra = [], [], {}
    started = time.perf_counter()
    for index in range(warmup + count):
        clock = _run_once(op, body, rollback=rollback)
        if reset is not None:
            reset()
        extra = clock.extra or extra
        if index < warmup:
            continue
        samples.append(clock.seconds * 1000)
        queries.append(clock.queries)
        # A slow operation on a busy machine: enough runs for the median, not the whole budget again.
        if len(samples) >= 5 and time.perf_counter() - started > budget:
            break
    return Summary(samples, queries), extra


def measure(op: Operation, *, scale_repeat: float = 1.0, budget: float = 60.0) -> dict:
    """Run the operation and its floor; returns the figures for the report."""
    load_before = os.getloadavg()
    count = max(5, round(op.repeat * scale_repeat))
    rollback = op.mode == "rollback"
    summary, extra = _repeat(op, op.run, rollback=rollback, reset=op.reset, count=count, budget=budget)
    result = {"key": op.key, "label": op.label, "mode": op.mode, **summary.as_dict(), "extra": extra}
    if op.floor is not None:
        floor, floor_extra = _repeat(op, op.floor, rollback=True, reset=None, count=max(count, 10), budget=budget / 2)
        floor_figures = floor.as_dict()
        result["floor"] = {"label": op.floor_label, **floor_figures, "extra": floor_extra}
        if floor_figures["p50_ms"]:
            result["ratio"] = round(result["p50_ms"] / floor_figures["p50_ms"], 1)
    result["issue_ms"] = op.issue_ms
    result["target_ms"] = op.target_ms
    result["note"] = op.note
    result["load"] = {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]}
    return result


def profile(op: Operation, folder: Path) -> Path:
    """One more run of the operation under pyinstrument (a sampling profiler); text and HTML reports."""
    from pyinstrument import Profiler

    folder.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(interval=0.0005)

    def body(clock):
        profiler.start()
        try:
            op.run(clock)
        finally:
            profiler.stop()

    _run_once(op, body, rollback=op.mode == "rollback")
    if op.reset is not None:
        op.reset()
    text = folder / f"{op.key}.txt"
    text.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    # With the library frames too (Django, psycopg): where inside the ORM or the template engine.
    (folder / f"{op.key}-full.txt").write_text(profiler.output_text(unicode=True, color=False, show_all=True))
    (folder / f"{op.key}.html").write_text(profiler.output_html())
    return text
