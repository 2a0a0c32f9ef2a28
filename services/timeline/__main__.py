"""`python -m services.timeline` serves the API and consumers; `... rebuild` replays the projection."""

from __future__ import annotations

import asyncio
import sys

from services.runtime.app import serve
from services.timeline.config import Settings


def main(argv: list[str]) -> None:
    settings = Settings()
    if argv[:1] == ["rebuild"]:
        from services.timeline.rebuild import rebuild

        print(asyncio.run(rebuild(settings)))
        return
    from services.timeline.bootstrap import build_app

    serve(build_app(settings), settings, "timeline")


if __name__ == "__main__":
    main(sys.argv[1:])
