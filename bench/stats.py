"""Summaries of timings: every figure the bench prints comes through here."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> dict:
    """median / p95 / p99 / max in milliseconds."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0, "median_ms": None, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
    }


def repeat(fn: Callable[[], object], runs: int, warmup: int = 2) -> dict:
    """Wall-clock and CPU time of `runs` calls of `fn` (after `warmup` unmeasured calls), summarised.

    On a shared 2-core box the wall clock also measures everyone else's work; this process's CPU time
    is what the operation itself costs, so both are kept.
    """
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    cpu_stats = summary_ms(cpu)
    return {**summary_ms(wall), "cpu_median_ms": cpu_stats["median_ms"], "cpu_p95_ms": cpu_stats["p95_ms"]}


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 2)
