"""Demo data for `make run`, created through the public APIs like any staff application would.

Re-running finds what an earlier run made (the contact by email, the task by title, its open
request) instead of making it twice, so every start leaves one demo task with one open request; only the
customer's magic link is new each time, since links are single-use. The tenant's staff mail address (where
signed, declined and expired mails go for actions an API key or a rule requested) is the demo staff user's,
set once: an address chosen since is kept.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

CONTACT = {"name": "Jan de Vries", "email": "jan@example.nl", "company": "Bakkerij De Vries", "language": "nl"}
TASK = {
    "title": "Onderhoud ovens april",
    "phase": "Waiting for approval",
    "description": "Jaarlijks onderhoud van beide ovens uitgevoerd; thermostaat vervangen.",
}
ACTION = {
    "kind": "sign_task",
    "message": "Wilt u het uitgevoerde onderhoud goedkeuren?",
    "fields": [
        {"name": "full_name", "label": "Naam", "type": "text", "required": True},
        {"name": "remarks", "label": "Opmerkingen", "type": "text", "required": False},
    ],
}
RULE = {
    "name": "Approve on signing",
    "trigger": "task.signed",
    "conditions": [{"field": "task.phase", "op": "eq", "value": "Waiting for approval"}],
    "actions": [{"type": "set_phase", "phase": "Approved"}],
}


@dataclass
class Demo:
    staff_key: str
    task_id: str
    portal_link: str
    staff_email: str = ""
    staff_password: str = ""


def _seeded(env: dict[str, str]) -> dict[str, str]:
    """The demo tenant's staff and admin keys and its console login, from `python -m services.tasks seed-demo`."""
    out = subprocess.run(
        [sys.executable, "-m", "services.tasks", "seed-demo"], env=env, check=True, capture_output=True, text=True
    ).stdout
    values = dict(line.split("=", 1) for line in out.splitlines() if line.startswith("DEMO_"))
    if "DEMO_STAFF_KEY" not in values:
        raise RuntimeError(f"seed-demo printed no DEMO_STAFF_KEY: {out!r}")
    return {k: v.strip() for k, v in values.items()}


def seed_demo(env: dict[str, str], ports: dict[str, int]) -> Demo:
    seeded = _seeded(env)
    key = seeded["DEMO_STAFF_KEY"]
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=10) as http:

        def call(method: str, service: str, path: str, **kw) -> dict:
            r = http.request(method, f"http://127.0.0.1:{ports[service]}{path}", **kw)
            r.raise_for_status()
            return r.json()

        contacts = call("GET", "tasks", "/v1/contacts", params={"email": CONTACT["email"]})["items"]
        contact = contacts[0] if contacts else call("POST", "tasks", "/v1/contacts", json=CONTACT)
        tasks = [
            t
            for t in call("GET", "tasks", "/v1/tasks", params={"contact_id": contact["id"]})["items"]
            if t["title"] == TASK["title"]
        ]
        task = tasks[0] if tasks else call("POST", "tasks", "/v1/tasks", json={**TASK, "contact_id": contact["id"]})
        _one_open_request(call, call("GET", "tasks", f"/v1/tasks/{task['id']}"), contact["id"])
        _wait_until_known(http, f"http://127.0.0.1:{ports['automation']}/v1/rules")
        if not any(r["name"] == RULE["name"] for r in _items(call("GET", "automation", "/v1/rules"))):
            call("POST", "automation", "/v1/rules", json=RULE)
        _staff_mail_address(http, ports, seeded)
        link = call("POST", "tasks", f"/v1/contacts/{contact['id']}/portal-links")
    return Demo(
        staff_key=key,
        task_id=task["id"],
        portal_link=link["url"],
        staff_email=seeded.get("DEMO_STAFF_EMAIL", ""),
        staff_password=seeded.get("DEMO_STAFF_PASSWORD", ""),
    )


def _one_open_request(call, task: dict, contact_id: str) -> None:
    """The demo task waits for exactly one signature: surplus open requests (left by earlier versions, which
    added one on every start) are cancelled, and a task whose request was signed, declined or expired goes back
    to the phase that asks for approval with a fresh request. The task list carries no actions, so this reads
    the task itself."""
    path = f"/v1/tasks/{task['id']}"
    open_ = [a for a in task["actions"] if a["status"] == "open"]
    for surplus in open_[1:]:
        call("POST", "tasks", f"{path}/actions/{surplus['id']}/cancel")
    if open_:
        return
    if task["phase"] != TASK["phase"]:
        call("PUT", "tasks", f"{path}/phase", json={"phase": TASK["phase"], "if_phase": task["phase"]})
    call("POST", "tasks", f"{path}/actions", json={**ACTION, "contact_id": contact_id})


def _staff_mail_address(http: httpx.Client, ports: dict[str, int], seeded: dict[str, str]) -> None:
    """Staff mails for the demo's API-requested action go to the demo staff user, unless an address is set."""
    email, admin_key = seeded.get("DEMO_STAFF_EMAIL"), seeded.get("DEMO_ADMIN_KEY")
    if not email or not admin_key:
        return
    url = f"http://127.0.0.1:{ports['notifications']}/v1/notification-settings"
    admin = {"Authorization": f"Bearer {admin_key}"}
    _wait_until_known(http, url, headers=admin)
    prefs = http.get(url, headers=admin).raise_for_status().json()
    if not prefs.get("staff_address"):
        http.put(url, headers=admin, json={**prefs, "staff_address": email}).raise_for_status()


def _wait_until_known(http: httpx.Client, url: str, deadline_s: float = 30, headers: dict | None = None) -> None:
    """Services other than tasks learn a new staff key from tasks' events, moments later."""
    deadline = time.monotonic() + deadline_s
    while http.get(url, headers=headers).status_code == 401:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not accept the demo staff key within {deadline_s:.0f}s")
        time.sleep(0.2)


def _items(body) -> list[dict]:
    return body if isinstance(body, list) else body.get("items", body.get("rules", []))
