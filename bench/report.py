"""results.json, the latency-vs-load plot, and the floors of issue 8 next to what was measured."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"
PLOT = HERE / "latency_vs_load.png"


def floors(e2e: dict, ceiling: dict | None) -> list[dict]:
    levels = e2e.get("levels", [])
    top = next((lv for lv in levels if lv["offered_per_s"] is None), None) or (levels[-1] if levels else None)
    at50 = next((lv for lv in levels if lv["offered_per_s"] == 50), None)
    rows = []
    sustained = top["completed_per_s"] if top else None
    cpu = top["per_signing"]["cpu_ms_total_pipeline"] if top else None
    bound = round(e2e.get("cpus", 2) * 1000 / cpu, 1) if cpu else None
    rows.append({"floor": ">= 100 task signings/s sustained (end to end, unthrottled)",
                 "measured": f"{sustained} /s completed ({top['accepted_per_s'] if top else None} /s accepted); "
                             f"{cpu} ms CPU per signing caps an idle box at {bound} /s",
                 "pass": sustained is not None and sustained >= 100})
    if at50:
        a, b = at50["latency"]["timelines_visible"]["p99_ms"], at50["latency"]["phase_changed"]["p99_ms"]
        ok = at50["timed_out"] == 0 and a is not None and b is not None and max(a, b) <= 250
        rows.append({"floor": "p99 <= 250 ms at 50 signings/s",
                     "measured": f"p99 {a} ms to both timelines, {b} ms to the phase change"
                                 + (f", {at50['timed_out']} timed out" if at50["timed_out"] else ""),
                     "pass": ok})
    else:
        why = "skipped: time budget spent" if "50/s" in e2e.get("skipped_levels", []) else "not run (50 not in BENCH_RATES)"
        rows.append({"floor": "p99 <= 250 ms at 50 signings/s", "measured": why, "pass": False})
    if ceiling and sustained:
        raw = ceiling["signings_per_s"]["kafka_and_mongo_transactions"]
        share = sustained / raw if raw else None
        raw_cpu = ceiling["cpu_ms_per_signing"]["kafka_and_mongo_transactions"]
        rows.append({"floor": "pipeline >= 50% of the raw ceiling",
                     "measured": (f"{sustained} / {raw} signings/s = {share:.1%}" if share else "-")
                                 + (f" (by CPU: {raw_cpu} / {cpu} ms per signing = {raw_cpu / cpu:.1%})" if cpu else ""),
                     # A pipeline faster than its own raw ceiling means the ceiling's measurement went wrong.
                     "pass": bool(share and 0.5 <= share <= 1.05)})
    return rows


def print_floors(rows: list[dict]) -> None:
    print("\nFloors (issue 8) on this box:")
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
    levels = sorted((lv for lv in e2e.get("levels", []) if lv["accepted"]),
                    key=lambda lv: lv["offered_per_s"] if lv["offered_per_s"] is not None else float("inf"))
    if not levels:
        return None
    # Offered loads on a categorical axis; the unthrottled level is last, labelled with what it achieved.
    xs = list(range(len(levels)))
    labels = [f"max\n({lv['accepted_per_s']}/s accepted,\n{lv['completed_per_s']}/s completed)" if lv["offered_per_s"] is None
              else f"{lv['offered_per_s']:g}/s" for lv in levels]
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
