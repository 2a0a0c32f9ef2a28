"""`make run` guards: a second instance says so instead of failing on a taken port; the demo stays one request;
a stop signal to its process group (or several) leaves nothing running."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deploy.local.demo import TASK as DEMO_TASK
from deploy.local.demo import seed_demo
from deploy.local.infra import free_port
from tests.support.magic_link import open_link
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_make_run_says_one_is_already_running(tmp_path):
    # given a running instance holding the lock in the data directory
    with open(tmp_path / "run.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        # when another one starts
        result = subprocess.run(
            [sys.executable, "-m", "deploy.local.run"],
            capture_output=True,
            text=True,
            env={"AKKOORD_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            timeout=60,
        )
    # then it refuses clearly, naming the running one, and started nothing
    assert result.returncode != 0
    assert "already running" in result.stderr and "4242" in result.stderr
    assert not (tmp_path / "kafka").exists() and not (tmp_path / "mongodb").exists()


def test_every_start_leaves_one_demo_task_with_one_open_request(stack):
    # given tasks, automation and notifications running, as `make run` starts them before seeding
    tasks = stack.start("tasks")
    stack.start("automation")
    stack.start("notifications")
    env = stack.env("tasks")

    # when the demo is seeded twice, as two starts on kept data do
    first, second = seed_demo(env, stack.ports), seed_demo(env, stack.ports)

    # then both starts point at the same task, which has one open request
    with httpx.Client(base_url=tasks.url, headers={"Authorization": f"Bearer {first.staff_key}"}) as staff:

        def open_requests(task_id: str) -> list[dict]:
            return [a for a in staff.get(f"/v1/tasks/{task_id}").json()["actions"] if a["status"] == "open"]

        assert first.task_id == second.task_id
        assert len(open_requests(second.task_id)) == 1

        # and when the customer's request is closed (signed, declined, cancelled) before the next start
        (request,) = open_requests(second.task_id)
        staff.post(f"/v1/tasks/{second.task_id}/actions/{request['id']}/cancel").raise_for_status()
        third = seed_demo(env, stack.ports)

        # then that start asks again, still on the one demo task
        assert third.task_id == first.task_id and len(open_requests(third.task_id)) == 1
        titles = [t["title"] for t in staff.get("/v1/tasks", params={"limit": 100}).json()["items"]]
        assert titles.count(DEMO_TASK["title"]) == 1


def test_the_demo_tenants_staff_mails_go_to_the_demo_staff_user_unless_staff_chose_another_address(stack):
    # given everything the demo's seeding talks to
    for name in ("tasks", "automation", "notifications"):
        stack.start(name)
    env = stack.env("tasks")

    # when the demo is seeded
    demo = seed_demo(env, stack.ports)

    # then the tenant's staff address (for actions an API key or a rule requested) is the demo staff user's
    settings_url = f"{stack.running['notifications'].url}/v1/notification-settings"
    admin = {"Authorization": f"Bearer {_admin_key(env)}"}
    with httpx.Client(headers=admin, timeout=10) as http:
        assert demo.staff_email and http.get(settings_url).json()["staff_address"] == demo.staff_email

        # and when staff choose another address, a later start keeps it
        prefs = {**http.get(settings_url).json(), "staff_address": "kantoor@demo.example"}
        http.put(settings_url, json=prefs).raise_for_status()
        seed_demo(env, stack.ports)
        assert http.get(settings_url).json()["staff_address"] == "kantoor@demo.example"


def _admin_key(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "services.tasks", "seed-demo"], env=env, check=True, capture_output=True, text=True
    ).stdout
    return next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("DEMO_ADMIN_KEY="))


async def test_the_demo_leads_a_newcomer_to_the_customers_invitation_mail_and_through_it_to_the_task(stack):
    # given everything `make run` starts, the mail going to an SMTP server (the sink, in `make run`)
    for name in ("tasks", "automation", "portal", "notifications"):
        stack.start(name)

    # when the demo is seeded
    demo = seed_demo(stack.env("tasks"), stack.ports)

    # then the demo customer's inbox holds the invitation, whose link opens the portal on the demo task
    async def invitation():
        return [m for m in stack.smtp.to("jan@example.nl") if DEMO_TASK["title"] in m.subject]

    mail = (await eventually(invitation, timeout=30, what="the demo customer's invitation"))[-1]
    link = re.search(r"(http://\S+/login\?token=[\w.\-]+)", mail.text).group(1)
    async with httpx.AsyncClient(timeout=10) as browser:
        opened = await open_link(browser, link)
    assert opened.status_code == 303 and opened.headers["location"] == f"/tasks/{demo.task_id}"


SERVICES = ("portal", "tasks", "signing", "documents", "timeline", "automation", "notifications")


def _processes_with(marker: str) -> dict[int, str]:
    """Live processes whose environment holds `marker` (everything `make run` starts inherits it)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return {pid: cmd for pid, cmd in found.items() if not _is_zombie(pid)}


def _is_zombie(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().split(") ", 1)[1].startswith("Z")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True


def _wait_for_line(log: Path, text: str, run: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        assert run.poll() is None, f"make run exited with {run.returncode}:\n{log.read_text()[-4000:]}"
        assert time.monotonic() < deadline, f"no '{text}' within {timeout}s:\n{log.read_text()[-4000:]}"
        time.sleep(0.2)


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "signals",
    [(signal.SIGTERM, signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGINT)],
    ids=["SIGTERM three times", "SIGINT twice"],
)
def test_make_run_stopped_by_repeated_signals_to_its_process_group_leaves_no_process(tmp_path, signals):
    # given `make run` with its own data directory and ports, up and running
    data = tmp_path / "data"
    ports = {f"{name.upper()}_PORT": str(free_port()) for name in SERVICES}
    ops_ports = {f"{name.upper()}_OPS_PORT": str(free_port()) for name in SERVICES}
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")}
    env |= {
        "AKKOORD_DATA_DIR": str(data),
        "AKKOORD_KAFKA_PORT": str(free_port()),
        "AKKOORD_MONGODB_PORT": str(free_port()),
        "AKKOORD_MAIL_SMTP_PORT": str(free_port()),
        "AKKOORD_MAIL_INBOX_PORT": str(free_port()),
        **ports,
        **ops_ports,
    }
    env.pop("AKKOORD_SMTP_URL", None)  # mail to its own sink, one more process to stop
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "deploy.local.run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
    marker = f"AKKOORD_DATA_DIR={data}"
    try:
        _wait_for_line(log, "Akkoord is running.", run, timeout=600)
        started = _processes_with(marker)
        assert len(started) >= 10, started  # Kafka, the database daemon, the mail sink, seven services, make run
        assert any("kafka.Kafka" in cmd for cmd in started.values()), started
        # when its process group gets the signals one right after another (a closing terminal, timeout, an IDE)
        for sig in signals:
            os.killpg(run.pid, sig)
        # and once more while it is stopping
        _wait_for_line(log, "stopping", run, timeout=30)
        os.killpg(run.pid, signals[0])
        run.wait(180)
        # then it stopped everything it started: no service, no database daemon, no Kafka JVM is left
        assert "stopped" in log.read_text()
        assert _processes_with(marker) == {}, log.read_text()[-3000:]
        # and each of its processes stopped on its SIGTERM, none had to be killed
        assert "did not stop in time" not in log.read_text(), log.read_text()[-3000:]
    finally:
        for pid in _processes_with(marker):  # never leave a broker behind for the next test
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
