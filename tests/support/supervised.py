"""A service process as a supervisor (Kubernetes) runs it: started again by the test each time it dies, on the
stack's ports and with settings of the test's own, and known here before it is ready, so a receiver can end the
very process that called it."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.support.waiting import eventually


class Supervised:
    def __init__(self, stack, name: str, settings: dict[str, str]):
        self.stack, self.name, self.settings = stack, name, settings
        self.popen: subprocess.Popen | None = None
        self.starts = 0
        self.url = f"http://127.0.0.1:{stack.ports[name]}"
        self.ops_url = f"http://127.0.0.1:{stack.ops_ports[name]}"

    def dead(self) -> bool:
        return self.popen is None or self.popen.poll() is not None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    async def start(self) -> None:
        self.starts += 1
        with open(self.stack.workdir / f"{self.name}-supervised.log", "ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                env=self.stack.env(self.name, self.settings),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        async def ready() -> bool:
            try:
                async with httpx.AsyncClient(timeout=1) as client:
                    return (await client.get(f"{self.url}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(ready, timeout=60, what=f"{self.name} ready")

    def stop(self) -> None:
        if self.popen is not None and not self.dead():
            self.popen.terminate()
            self.popen.wait(15)
