"""Independent PDF tools (poppler, qpdf) run on a test's files."""

from __future__ import annotations

import shutil
import subprocess


def run(tool: str, *args) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is needed by this test: apt-get install qpdf poppler-utils"
    done = subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr
