"""Sampling profiles of running services (py-spy), summarised: where each service's samples go.

`BENCH_PYSPY=portal,timeline make bench` records the named services during the unthrottled level into
bench/profiles/<service>.txt (collapsed stacks); `python -m bench.profile FILE...` prints the summary.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILES = Path(__file__).parent / "profiles"


def start(pids: dict[str, int], names: list[str], rate: int = 50) -> list[subprocess.Popen]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists() and not shutil.which("py-spy"):
        print("  py-spy is not installed: no profiles")
        return []
    PROFILES.mkdir(exist_ok=True)
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pids[n]),
                "--rate",
                str(rate),
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(PROFILES / f"{n}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in names
        if n in pids
    ]


def stop(recorders: list[subprocess.Popen]) -> None:
    for p in recorders:
        p.send_signal(signal.SIGINT)
    for p in recorders:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


def _frame_label(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", f"{ROOT}/", "lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where.rsplit(':', 1)[0]})"


def summarise(path: Path, top: int = 15) -> dict:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = idle = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [_frame_label(f) for f in stack.split(";") if f]
        total += n
        if frames and ("select (selectors.py" in frames[-1] or "_run_once" in frames[-1] and len(frames) < 4):
            idle += n
        own[frames[-1] if frames else "?"] += n
        for frame in set(frames):
            inclusive[frame] += n
    pct = lambda c: round(100 * c / total, 1) if total else 0.0  # noqa: E731
    return {
        "samples": total,
        "idle_pct": pct(idle),
        "own": [(f, pct(c)) for f, c in own.most_common(top)],
        "inclusive": [(f, pct(c)) for f, c in inclusive.most_common(top * 3)],
    }


def print_summary(path: Path) -> None:
    s = summarise(path)
    print(f"\n{path.stem}: {s['samples']} samples, {s['idle_pct']}% idle in the event loop's select")
    print("  most time itself:")
    for frame, p in s["own"]:
        print(f"    {p:5.1f}%  {frame}")
    print("  most time including callees (project and library frames):")
    for frame, p in s["inclusive"]:
        if any(
            k in frame
            for k in (
                "services/",
                "contracts/",
                "pymongo",
                "aiokafka",
                "faststream",
                "pydantic",
                "httpx",
                "opentelemetry",
                "fastapi",
                "starlette",
                "reportlab",
                "pyhanko",
                "pypdf",
                "PIL",
                "secantus",
                "wiredtiger",
                "bson",
                "ssl",
            )
        ):
            print(f"    {p:5.1f}%  {frame}")


if __name__ == "__main__":
    for arg in sys.argv[1:] or sorted(str(p) for p in PROFILES.glob("*.txt")):
        print_summary(Path(arg))
