"""`python -m services.timeline` serves the API and consumers; `... rebuild` replays the projection."""

from __future__ import annotations

import asyncio
import json
import sys

from services.runtime.app import serve
from services.timeline.bootstrap import build_app
from services.timeline.config import Settings
from services.timeline.entrypoints.rebuild import RebuildRefused, TimelineRunning, rebuild


def main(argv: list[str]) -> None:
    settings = Settings()
    if argv[:1] == ["rebuild"]:
        try:
            print(json.dumps(asyncio.run(rebuild(settings))))
        except RebuildRefused as refused:
            print(json.dumps(refused.report))
            sys.exit(f"rebuild refused: {refused}")
        except TimelineRunning as refused:
            sys.exit(f"rebuild refused: {refused}")
        return
    serve(build_app(settings), settings, "timeline")


if __name__ == "__main__":
    main(sys.argv[1:])
