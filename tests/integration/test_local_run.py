"""`make run` guards: a second instance says so instead of failing on a taken port; the demo stays one request."""

from __future__ import annotations

import fcntl
import re
import subprocess
import sys

import httpx

from deploy.local.demo import TASK as DEMO_TASK
from deploy.local.demo import seed_demo
from tests.support.magic_link import open_link
from tests.support.waiting import eventually


def test_a_second_make_run_says_one_is_already_running(tmp_path):
    # given a running instance holding the lock in the data directory
    with open(tmp_path / "run.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        # when another one starts
        result = subprocess.run([sys.executable, "-m", "deploy.local.run"], capture_output=True, text=True,
                                env={"AKKOORD_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=60)
    # then it refuses clearly, naming the running one, and started nothing
    assert result.returncode != 0
    assert "already running" in result.stderr and "4242" in result.stderr
    assert not (tmp_path / "kafka").exists() and not (tmp_path / "mongodb").exists()


def test_every_start_leaves_one_demo_task_with_one_open_request(stack):
    # given tasks and automation running, as `make run` starts them before seeding
    tasks = stack.start("tasks")
    stack.start("automation")
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
