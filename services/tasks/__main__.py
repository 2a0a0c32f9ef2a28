"""`python -m services.tasks` serves the staff API; `python -m services.tasks seed-demo` seeds demo data."""

import sys

from services.runtime.app import serve
from services.tasks import bootstrap
from services.tasks.config import Settings


def main(argv: list[str]) -> int:
    settings = Settings()
    if argv[:1] == ["seed-demo"]:
        from services.tasks.entrypoints.cli import seed_demo

        return seed_demo(settings)
    if argv:
        print(f"unknown command {argv[0]!r}; usage: python -m services.tasks [seed-demo]", file=sys.stderr)
        return 2
    serve(bootstrap.build_app(settings), settings, "tasks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
