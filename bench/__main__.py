"""`make bench`: PDF micro-benchmarks, end-to-end signings on the full local stack, the raw ceiling.

Environment:
  BENCH_SIGNINGS          signings per load level (default 50); also the number of customers
  BENCH_RATES             offered loads in signings/s, "max" for unthrottled, run in this order
                          (default 10,50,25,max: the 50/s floor is measured before a tight budget can skip 25/s)
  BENCH_LEVEL_SECONDS     a throttled level offers at most rate x this many signings (default 2)
  BENCH_BUDGET_S          no new throttled level starts after this many seconds (default 480)
  BENCH_TIMEOUT_S         a signing not complete this long after its submit counts as timed out (default 120)
  BENCH_PDF_RUNS          repetitions per PDF operation (default 30)
  BENCH_ONLY              "pdf" or "e2e" to run one part
  BENCH_PYSPY             services to profile with py-spy during the unthrottled level, e.g. "portal,timeline"
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import UTC, datetime

from bench import ceiling, e2e, pdf, report
from bench.stats import ratio


def config() -> dict:
    env = os.environ.get
    rates = [
        None if r.strip() == "max" else float(r) for r in env("BENCH_RATES", "10,50,25,max").split(",") if r.strip()
    ]
    return {
        "signings": int(env("BENCH_SIGNINGS", "50")),
        "rates": rates,
        "level_seconds": float(env("BENCH_LEVEL_SECONDS", "2")),
        "timeout": float(env("BENCH_TIMEOUT_S", "120")),
        "setup_concurrency": 8,
        "pdf_runs": int(env("BENCH_PDF_RUNS", "30")),
        "only": env("BENCH_ONLY", ""),
        "pyspy": [s for s in env("BENCH_PYSPY", "").split(",") if s],
        "budget_s": float(env("BENCH_BUDGET_S", "480")),
        "began": time.monotonic(),
    }


def print_ceiling(result: dict) -> None:
    c = result["ceiling"]
    w, k = c["work"], c["kafka"]
    print(
        f"\nRaw ceiling for the same work ({w['signings']} signings = {w['kafka_messages']} Kafka messages x "
        f"{w['consumer_groups']} groups, {w['mongo_transactions']} transactions x {w['writes_per_transaction']} writes):"
    )
    print(
        f"  Kafka produce+consume (acks=all, idempotent): {k['round_trips_per_s']} round trips/s, "
        f"one hop p50 {k['hop_latency']['p50_ms']} ms"
    )
    for key, name in (
        ("mongo_plain", "MongoDB writes, no transaction"),
        ("mongo_transactions", "MongoDB writes in transactions"),
    ):
        m = c[key]
        print(f"  {name}: {m['writes_per_s']} writes/s, unit p50 {m['unit_latency']['p50_ms']} ms")
    top = next((lv for lv in result["levels"] if lv["offered_per_s"] is None), result["levels"][-1])
    cpu = top["per_signing"]["cpu_ms_total_pipeline"]
    print(
        f"  {'ceiling':<30} {'signings/s':>10} {'pipeline/ceiling':>17} {'CPU ms/signing':>15} {'ceiling/pipeline CPU':>21}"
    )
    for name, value in c["signings_per_s"].items():
        raw_cpu = c["cpu_ms_per_signing"][name]
        print(
            f"  {name:<30} {value:10.1f} {ratio(top['completed_per_s'], value)!s:>17} {raw_cpu:15.1f} "
            f"{ratio(raw_cpu, cpu)!s:>21}"
        )
    print(
        f"  (pipeline: {top['completed_per_s']} signings/s completed, {cpu} ms CPU per signing over all processes, "
        f"idle burn subtracted)"
    )
    if (prev := result.get("previous_default")) is not None:
        print(
            f"  previous default beside it (SecantusDB's Python server, same transactions): "
            f"{prev['signings_per_s']} signings/s, {prev['cpu_ms_per_signing']} ms CPU per signing "
            f"(this run's server, {result.get('mongodb_server')}: "
            f"{c['signings_per_s']['mongo_transactions_only']} signings/s, "
            f"{c['cpu_ms_per_signing']['mongo_transactions_only']} ms)"
        )


def main() -> int:
    cfg = config()
    results: dict = {
        "started_at": datetime.now(UTC).isoformat(),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "config": cfg,
        "load_average_start": os.getloadavg(),
    }
    began = time.monotonic()
    if cfg["only"] in ("", "pdf"):
        results["pdf"] = pdf.run(cfg["pdf_runs"])
        pdf.print_report(results["pdf"])
    if cfg["only"] in ("", "e2e"):
        print(
            f"\nEnd to end: starting Kafka, SecantusDB and six services; {cfg['signings']} customers; "
            f"loads {', '.join('max' if r is None else f'{r:g}/s' for r in cfg['rates'])}"
        )
        results["e2e"] = e2e.run(cfg, ceiling.run)
        try:
            results["floors"] = report.floors(results["e2e"], results["e2e"].get("ceiling"))
        except report.CeilingBelowPipeline as wrong:
            results["error"] = str(wrong)
            report.write(results)
            print(f"\nbench: {wrong}", file=sys.stderr)
            return 1
        print_ceiling(results["e2e"])
        report.print_floors(results["floors"])
        if (path := report.plot(results["e2e"])) is not None:
            print(f"\nPlot: {path}")
    results["elapsed_s"] = round(time.monotonic() - began, 1)
    results["load_average_end"] = os.getloadavg()
    print(
        f"Results: {report.write(results)} ({results['elapsed_s']} s; load average at the end "
        f"{', '.join(f'{x:.1f}' for x in results['load_average_end'])} on {os.cpu_count()} CPUs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
