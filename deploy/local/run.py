"""`make run`: the whole system on one machine — Kafka, SecantusDB, the services, a mail sink, demo data.

Stays in the foreground, prefixes every process's output with its name, and on Ctrl-C or SIGTERM
stops everything it started. Data lives in .data/ and survives restarts. A second `make run`
while one is running says so and exits.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from deploy.local import infra
from deploy.local.demo import seed_demo

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("AKKOORD_DATA_DIR", ROOT / ".data"))
DEFAULT_PORTS = {
    "portal": 8000,
    "tasks": 8001,
    "signing": 8002,
    "documents": 8003,
    "timeline": 8004,
    "automation": 8005,
    "notifications": 8006,
}
# <SERVICE>_PORT and <SERVICE>_OPS_PORT (/metrics, /docs: services/runtime/ops.py) move a service, so that a
# second instance (a test's, say) can run beside the usual one.
PORTS = {name: int(os.environ.get(f"{name.upper()}_PORT", port)) for name, port in DEFAULT_PORTS.items()}
OPS_PORTS = {name: int(os.environ.get(f"{name.upper()}_OPS_PORT", port + 100)) for name, port in PORTS.items()}
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_WAIT_S = 15
# The local mail sink (deploy/local/mailsink.py): services send to its SMTP port, people read its inbox page.
MAIL_SMTP_PORT = int(os.environ.get("AKKOORD_MAIL_SMTP_PORT", "1025"))
MAIL_INBOX_PORT = int(os.environ.get("AKKOORD_MAIL_INBOX_PORT", "8025"))
KAFKA_PORT = int(os.environ.get("AKKOORD_KAFKA_PORT", "9092"))
MONGO_PORT = int(os.environ.get("AKKOORD_MONGODB_PORT", "27017"))
_print_lock = threading.Lock()


def say(name: str, line: str) -> None:
    with _print_lock:
        sys.stdout.write(f"{name:>10} | {line.rstrip()}\n")
        sys.stdout.flush()


def pump(name: str, stream) -> None:
    for raw in iter(stream.readline, b""):
        say(name, raw.decode(errors="replace"))


def take_lock() -> object:
    DATA.mkdir(parents=True, exist_ok=True)
    handle = open(DATA / "run.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        sys.exit(
            f"Akkoord is already running (make run, pid {handle.read().strip() or '?'}); "
            "stop it with Ctrl-C in its terminal first."
        )
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


class Supervisor:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.ports = {**PORTS, "mailsink": MAIL_INBOX_PORT}
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self, name: str) -> None:
        if name == "mailsink":
            command = [
                "-m",
                "deploy.local.mailsink",
                "--dir",
                str(DATA / "mail"),
                "--smtp-port",
                str(MAIL_SMTP_PORT),
                "--http-port",
                str(MAIL_INBOX_PORT),
            ]
        else:
            command = ["-m", f"services.{name}"]
        env = {**self.env, f"{name.upper()}_PORT": str(self.ports[name])}
        if name in OPS_PORTS:
            env[f"{name.upper()}_OPS_PORT"] = str(OPS_PORTS[name])
        with held_signals():  # a stop signal between the start and the bookkeeping would orphan the process
            proc = subprocess.Popen(
                [sys.executable, *command],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # A child inherits the blocked signal mask across exec: unblocked, it stops on SIGTERM itself
                # instead of being killed after STOP_WAIT_S.
                preexec_fn=release_signals,
            )
            self.procs[name] = proc
        threading.Thread(target=pump, args=(name, proc.stdout), daemon=True).start()

    def wait_ready(self, deadline_s: float = 90) -> None:
        deadline = time.monotonic() + deadline_s
        waiting = set(self.procs)
        while waiting and time.monotonic() < deadline:
            for name in list(waiting):
                if self.procs[name].poll() is not None:
                    raise RuntimeError(f"{name} exited with code {self.procs[name].returncode}")
                try:
                    if httpx.get(f"http://127.0.0.1:{self.ports[name]}/readyz", timeout=1).status_code == 200:
                        waiting.discard(name)
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
        if waiting:
            raise RuntimeError(f"not ready within {deadline_s:.0f}s: {', '.join(sorted(waiting))}")

    def watch(self) -> None:
        """Restart a service that dies, as an orchestrator would."""
        while not self.stopping:
            for name, proc in list(self.procs.items()):
                if proc.poll() is not None and not self.stopping:
                    say("run", f"{name} exited with code {proc.returncode}; restarting it")
                    self.start(name)
            time.sleep(1)

    def stop(self) -> None:
        """Stop every process: all at once, then whatever is left after STOP_WAIT_S is killed."""
        self.stopping = True
        for proc in self.procs.values():
            infra.signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        for name, proc in self.procs.items():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say("run", f"{name} did not stop in time; killing it")
                infra.signal_group(proc, signal.SIGKILL)
                proc.wait()


def release_signals() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


@contextmanager
def held_signals() -> Iterator[None]:
    """Stop signals that arrive inside are delivered when it ends."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


class Stopping:
    """The first stop signal interrupts whatever runs (a wait, a start); every later one is ignored, so that
    the cleanup it starts is not itself cut short. A closing terminal, `timeout`, systemd and IDEs send
    SIGTERM/SIGINT/SIGHUP to the whole process group, often more than once."""

    def __init__(self) -> None:
        self.stopping = False
        for sig in STOP_SIGNALS:
            signal.signal(sig, self.on_signal)

    def on_signal(self, signum: int, _frame) -> None:
        if self.stopping:
            return
        self.stopping = True
        raise KeyboardInterrupt

    def begin(self) -> None:
        """Cleanup starts: from here on no signal interrupts anything."""
        self.stopping = True


def main() -> None:
    lock = take_lock()
    # Without an SMTP server of your own, mail goes to the local sink and its inbox page.
    sink = not os.environ.get("AKKOORD_SMTP_URL")
    sink_ports = {"mail sink inbox": MAIL_INBOX_PORT, "mail sink SMTP": MAIL_SMTP_PORT} if sink else {}
    ops_ports = {f"{n} operations": p for n, p in OPS_PORTS.items()}
    for name, port in {**PORTS, **ops_ports, **sink_ports}.items():
        if infra.port_is_taken(port):
            sys.exit(f"port {port} ({name}) is taken by another program; free it and run again.")

    stop = Stopping()
    local: infra.Infra | None = None
    sup: Supervisor | None = None
    try:
        say("run", f"starting Kafka and SecantusDB (data in {DATA})")
        log = open(DATA / "infra.log", "ab")
        local = infra.start(DATA, KAFKA_PORT, MONGO_PORT, log_file=log)
        sup = Supervisor(service_env(local, sink))
        serve(sup, sink)
    except KeyboardInterrupt:
        say("run", "stopping")
    finally:
        stop.begin()
        if sup is not None:
            sup.stop()
        if local is not None:
            local.stop()
        lock.close()
        say("run", "stopped")


def service_env(local: infra.Infra, sink: bool) -> dict[str, str]:
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": local.kafka_bootstrap,
        "MONGODB_URI": local.mongodb_uri,
        "AKKOORD_ENV": os.environ.get("AKKOORD_ENV", "development"),
        # Webhook receivers on this machine are what a developer tries webhooks with.
        "AUTOMATION_WEBHOOK_ALLOW_NETWORKS": os.environ.get("AUTOMATION_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8,::1"),
        **({"AKKOORD_SMTP_URL": f"smtp://127.0.0.1:{MAIL_SMTP_PORT}"} if sink else {}),
        **{f"AKKOORD_{n.upper()}_URL": f"http://127.0.0.1:{p}" for n, p in PORTS.items()},
    }


def serve(sup: Supervisor, sink: bool) -> None:
    if sink:  # first, so that no mail of the first moments waits for it
        sup.start("mailsink")
    for name in PORTS:
        sup.start(name)
    sup.wait_ready()
    demo = seed_demo(sup.env, PORTS)
    banner = [
        "",
        "Akkoord is running.",
        f"  Staff console:        http://127.0.0.1:{PORTS['tasks']}/console/",
        f"  Demo staff login:     {demo.staff_email}  password: {demo.staff_password}",
        f"  Customer portal:      http://127.0.0.1:{PORTS['portal']}/",
        f"  Demo customer link:   {demo.portal_link}",
        (
            f"  Mail inbox:           http://127.0.0.1:{MAIL_INBOX_PORT}/  (the demo customer's invitation to sign "
            f"is there: open it and press the button)"
            if sink
            else "  Mail:                 sent through AKKOORD_SMTP_URL"
        ),
        f"  Staff API (tasks):    http://127.0.0.1:{PORTS['tasks']}  (docs: http://127.0.0.1:{OPS_PORTS['tasks']}/docs)",
        "  API documents and metrics (operations ports): "
        + "  ".join(f"{n} http://127.0.0.1:{p}/docs" for n, p in OPS_PORTS.items() if n not in ("portal", "tasks")),
        f"  Demo staff API key:   {demo.staff_key}",
        f"  Demo task:            {demo.task_id} (phase 'Waiting for approval', open signature request)",
        "Press Ctrl-C to stop everything.",
        "",
    ]
    for line in banner:
        say("run", line)
    sup.watch()


if __name__ == "__main__":
    main()
