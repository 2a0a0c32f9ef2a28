"""The services of this repository, found on disk, so a check over every service sees a new one too."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


SERVICES = sorted(
    p.name for p in (ROOT / "services").iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "runtime"
)
