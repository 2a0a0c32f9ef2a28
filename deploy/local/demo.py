"""Demo data for `make run`, created through the public APIs like any staff application would.

Re-running is safe: POSTs carry fixed Idempotency-Keys, so the same contact, task and request come
back; only the customer's magic link is new each time (links are single-use).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import httpx

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


def _staff_key(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "services.tasks", "seed-demo"], env=env, check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("DEMO_STAFF_KEY="):
            return line.split("=", 1)[1].strip()
    raise RuntimeError(f"seed-demo printed no DEMO_STAFF_KEY: {out!r}")


def seed_demo(env: dict[str, str], ports: dict[str, int]) -> Demo:
    key = _staff_key(env)
    headers = {"Authorization": f"Bearer {key}"}

    def post(service: str, path: str, body: dict, idem: str | None = None) -> dict:
        h = {**headers, **({"Idempotency-Key": idem} if idem else {})}
        r = httpx.post(f"http://127.0.0.1:{ports[service]}{path}", json=body, headers=h, timeout=10)
        r.raise_for_status()
        return r.json()

    contact = post("tasks", "/v1/contacts", {"name": "Jan de Vries", "email": "jan@example.nl",
                                             "company": "Bakkerij De Vries", "language": "nl"}, "demo-contact")
    task = post("tasks", "/v1/tasks", {
        "title": "Onderhoud ovens april", "phase": "Waiting for approval", "contact_id": contact["id"],
        "description": "Jaarlijks onderhoud van beide ovens uitgevoerd; thermostaat vervangen.",
    }, "demo-task")
    post("tasks", f"/v1/tasks/{task['id']}/actions", {
        "contact_id": contact["id"], "kind": "sign_task",
        "message": "Wilt u het uitgevoerde onderhoud goedkeuren?",
        "fields": [{"name": "full_name", "label": "Naam", "type": "text", "required": True},
                   {"name": "remarks", "label": "Opmerkingen", "type": "text", "required": False}],
    }, "demo-action")
    rules = httpx.get(f"http://127.0.0.1:{ports['automation']}/v1/rules", headers=headers, timeout=10)
    if rules.status_code == 200 and not any(r.get("name") == RULE["name"] for r in _items(rules.json())):
        post("automation", "/v1/rules", RULE)
    link = post("tasks", f"/v1/contacts/{contact['id']}/portal-links", {})
    return Demo(staff_key=key, task_id=task["id"], portal_link=link["url"])


def _items(body) -> list[dict]:
    return body if isinstance(body, list) else body.get("items", body.get("rules", []))
