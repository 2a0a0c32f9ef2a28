"""Start the real infrastructure and the services as processes, for integration and e2e tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from deploy.local.infra import Infra, free_port
from tests.support.smtp import SmtpServer

SERVICES = ("portal", "tasks", "signing", "documents", "timeline", "automation", "notifications")
TEST_OPERATOR_KEY = "test-operator-key-" + "x" * 24


@dataclass
class ServiceProcess:
    name: str
    port: int
    popen: subprocess.Popen
    log_path: Path
    ops_port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ops_url(self) -> str:
        """The operations port: /metrics, /openapi.json, /docs, /asyncapi.json (never the public one)."""
        return f"http://127.0.0.1:{self.ops_port}"

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Stack:
    """Ports are chosen per test session, so tests never collide with a running `make run`."""

    infra: Infra
    workdir: Path
    # Where every service's mail goes: a real SMTP server on loopback, never the sink of a `make run`.
    smtp: SmtpServer | None = None
    # Public and operations ports, all different: free_port() only finds a port free now, so two picks made
    # before any service binds can land on the same one (a service then fails to start with exit 3).
    ports: dict[str, int] = field(default_factory=lambda: distinct_ports(SERVICES))
    ops_ports: dict[str, int] = field(default_factory=dict)
    running: dict[str, ServiceProcess] = field(default_factory=dict)
    replicas: dict[str, ServiceProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.ops_ports:
            self.ops_ports = distinct_ports(SERVICES, taken=set(self.ports.values()))

    def taken_ports(self) -> set[int]:
        return {
            *self.ports.values(),
            *self.ops_ports.values(),
            *(p for r in self.replicas.values() for p in (r.port, r.ops_port)),
        }

    def env(self, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            **os.environ,
            "AKKOORD_ENV": "development",
            "KAFKA_BOOTSTRAP_SERVERS": self.infra.kafka_bootstrap,
            "MONGODB_URI": self.infra.mongodb_uri,
            "TASKS_OPERATOR_KEY": TEST_OPERATOR_KEY,
            **({"AKKOORD_SMTP_URL": self.smtp.url} if self.smtp else {}),
            # Every test reaches the shared portal from one loopback address; the per-client rate
            # limits themselves are covered by their own tests.
            "PORTAL_LOGIN_BURST": "100000",
            "PORTAL_LOGIN_PER_MINUTE": "100000",
            "PORTAL_SIGNING_BURST": "100000",
            "PORTAL_SIGNING_PER_MINUTE": "100000",
            f"{name.upper()}_PORT": str(self.ports[name]),
            f"{name.upper()}_OPS_PORT": str(self.ops_ports[name]),
            **{f"AKKOORD_{svc.upper()}_URL": f"http://127.0.0.1:{port}" for svc, port in self.ports.items()},
        }
        env.update(extra or {})
        return env

    def start(self, name: str, extra_env: dict[str, str] | None = None, timeout: float = 60) -> ServiceProcess:
        if name in self.running and self.running[name].popen.poll() is None:
            return self.running[name]
        proc = self._launch(
            name,
            self.ports[name],
            self.ops_ports[name],
            self.workdir / f"{name}.log",
            self.env(name, extra_env),
            timeout,
        )
        self.running[name] = proc
        return proc

    def start_replica(
        self, name: str, replica: int = 2, extra_env: dict[str, str] | None = None, timeout: float = 60
    ) -> ServiceProcess:
        """Another process of `name` in the same consumer groups, on a port of its own (`<name>-<replica>`)."""
        key = f"{name}-{replica}"
        if key in self.replicas and self.replicas[key].popen.poll() is None:
            return self.replicas[key]
        port, ops_port = (
            (self.replicas[key].port, self.replicas[key].ops_port)
            if key in self.replicas
            else tuple(distinct_ports(("public", "ops"), taken=self.taken_ports()).values())
        )
        env = self.env(
            name, {**(extra_env or {}), f"{name.upper()}_PORT": str(port), f"{name.upper()}_OPS_PORT": str(ops_port)}
        )
        proc = self._launch(name, port, ops_port, self.workdir / f"{key}.log", env, timeout)
        self.replicas[key] = proc
        return proc

    def _launch(
        self, name: str, port: int, ops_port: int, log_path: Path, env: dict[str, str], timeout: float
    ) -> ServiceProcess:
        log_file = open(log_path, "ab")
        popen = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"], env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        proc = ServiceProcess(name, port, popen, log_path, ops_port)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if popen.poll() is not None:
                raise RuntimeError(f"{name} exited with {popen.returncode}:\n{proc.log()[-4000:]}")
            try:
                if httpx.get(f"{proc.url}/readyz", timeout=1).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        proc.stop()
        raise RuntimeError(f"{name} was not ready within {timeout}s:\n{proc.log()[-4000:]}")

    def stop(self, name: str) -> None:
        """Stop one service and forget it, so that `running` names only live processes."""
        if (proc := self.running.pop(name, None)) is not None:
            proc.stop()

    def stop_all(self) -> None:
        for proc in [*self.replicas.values(), *self.running.values()]:
            proc.stop()
        self.replicas.clear()
        self.running.clear()


def distinct_ports(names, taken: set[int] | None = None) -> dict[str, int]:
    """A free port per name, none of them in `taken` or given twice."""
    chosen: dict[str, int] = {}
    used = set(taken or ())
    for name in names:
        while (port := free_port()) in used:
            pass
        used.add(port)
        chosen[name] = port
    return chosen
