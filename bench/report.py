"""results.json, the latency-vs-load plot, and the performance floors next to what was measured."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"
PLOT = HERE / "latency_vs_load.png"


SERVICES = ("portal", "tasks", "signing", "documents", "timeline", "automation", "notifications")


class CeilingBelowPipeline(RuntimeError):
    """The raw ceiling measured less than the pipeline did: a measurement error, never a ratio over 100%."""


def floors(e2e: dict, ceiling: dict | None) -> list[dict]:
    levels = e2e.get("levels", [])
    top = next((lv for lv in levels if lv["offered_per_s"] is None), None) or (levels[-1] if levels else None)
    at10 = next((lv for lv in levels if lv["offered_per_s"] == 10), None)
    rows = []
    sustained = top["completed_per_s"] if top else None
    per = top["per_signing"] if top else {}
    cpu = per.get("cpu_ms_total_pipeline")
    own = round(sum(v for k, v in per.get("cpu_ms", {}).items() if k in SERVICES), 1) if per else None
    rows.append(
        {
            "floor": ">= 25 signings/s completed end to end (unthrottled)",
            "measured": f"{sustained} /s completed ({top['accepted_per_s'] if top else None} /s accepted)",
            "pass": sustained is not None and sustained >= 25,
        }
    )
    rows.append(
        {
            "floor": "services' own CPU <= 50 ms per signing (idle burn subtracted)",
            "measured": f"{own} ms ({', '.join(f'{k} {v}' for k, v in per.get('cpu_ms', {}).items() if k in SERVICES)});"
            f" {cpu} ms with Kafka and the database",
            "pass": own is not None and own <= 50,
        }
    )
    writes = per.get("mongo_writes")
    rows.append(
        {
            "floor": "<= 25 database writes per signing (server operation counters)",
            "measured": f"{writes} writes, {sum(per.get('mongo_ops', {}).values()):.1f} operations in all",
            "pass": writes is not None and writes <= 25,
        }
    )
    if at10:
        a = at10["latency"]["timelines_visible"]["p99_ms"]
        rows.append(
            {
                "floor": "p99 <= 1 s from submit to both timelines at 10 signings/s",
                "measured": f"p99 {a} ms (p50 {at10['latency']['timelines_visible']['p50_ms']} ms)"
                + (f", {at10['timed_out']} timed out" if at10["timed_out"] else ""),
                "pass": at10["timed_out"] == 0 and a is not None and a <= 1000,
            }
        )
    else:
        rows.append(
            {
                "floor": "p99 <= 1 s from submit to both timelines at 10 signings/s",
                "measured": "not run (10 not in BENCH_RATES)",
                "pass": False,
            }
        )
    if ceiling and sustained and cpu:
        raw = ceiling["signings_per_s"]["kafka_and_mongo_transactions"]
        raw_cpu = ceiling["cpu_ms_per_signing"]["kafka_and_mongo_transactions"]
        if raw < sustained or raw_cpu > cpu:
            raise CeilingBelowPipeline(
                f"the raw ceiling ({raw} signings/s, {raw_cpu} ms CPU per signing) is below the pipeline "
                f"({sustained} signings/s, {cpu} ms): the ceiling's measurement went wrong, no ratio is printed"
            )
        rows.append(
            {
                "floor": "pipeline >= 50% of the raw ceiling, by CPU",
                "measured": f"{raw_cpu} / {cpu} ms CPU per signing = {raw_cpu / cpu:.1%} "
                f"(by rate: {sustained} / {raw} signings/s = {sustained / raw:.1%})",
                "pass": raw_cpu / cpu >= 0.5,
            }
        )
    return rows


def print_floors(rows: list[dict]) -> None:
    print("\nFloors on this box:")
    for row in rows:
        print(f"  {'PASS' if row['pass'] else 'MISS'}  {row['floor']:<60} {row['measured']}")


def write(results: dict) -> Path:
    RESULTS.write_text(json.dumps(results, indent=2, default=str))
    return RESULTS


def plot(e2e: dict) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  matplotlib is not installed: no plot (pip install -e '.[dev]')")
        return None
    levels = sorted(
        (lv for lv in e2e.get("levels", []) if lv["accepted"]),
        key=lambda lv: lv["offered_per_s"] if lv["offered_per_s"] is not None else float("inf"),
    )
    if not levels:
        return None
    # Offered loads on a categorical axis; the unthrottled level is last, labelled with what it achieved.
    xs = list(range(len(levels)))
    labels = [
        f"max\n({lv['accepted_per_s']}/s accepted,\n{lv['completed_per_s']}/s completed)"
        if lv["offered_per_s"] is None
        else f"{lv['offered_per_s']:g}/s"
        for lv in levels
    ]
    fig, ax = plt.subplots(figsize=(8, 5))
    for key, name, style in (("timelines_visible", "both timelines", "-"), ("phase_changed", "phase changed", "--")):
        for pct, marker in (("p50_ms", "o"), ("p95_ms", "s"), ("p99_ms", "^")):
            ys = [lv["latency"][key][pct] for lv in levels]
            ax.plot(xs, ys, style, marker=marker, label=f"{name} {pct[:-3]}")
    ax.axhline(250, color="grey", linewidth=0.8, linestyle=":", label="p99 floor 250 ms")
    ax.set_xticks(xs, labels, fontsize=8)
    ax.set_xlabel("offered load (signings/s)")
    ax.set_ylabel("latency from submit (ms)")
    ax.set_yscale("log")
    ax.set_title("Akkoord: task signing latency vs load (full local stack, 2 cores)")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)
    return PLOT
