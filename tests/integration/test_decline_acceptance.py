"""A decline takes effect once tasks accepts it: a decline of a cancelled action runs no rule, mails no staff
and shows as refused in the timelines, while one of an open action does all of that."""

from __future__ import annotations

import httpx
import pytest

from contracts import Actor, new_id, utcnow
from contracts.messages import ActionDeclined, ActionDeclinedPayload
from contracts.topics import PORTAL_EVENTS
from tests.integration.tasks_api import (
    create_contact,
    create_task,
    register_tenant,
    request_signature,
    tenant_events,
)
from tests.support.bus import publish
from tests.support.waiting import eventually

RULE = {
    "name": "Ask for changes on a decline",
    "trigger": "action.declined",
    "conditions": [],
    "actions": [{"type": "set_phase", "phase": "Changes requested"}],
}


@pytest.fixture(scope="module")
def downstream(stack, tasks_service):
    return {name: stack.start(name) for name in ("automation", "timeline", "notifications")}


def staff_client(service, tenant, admin: bool = False) -> httpx.AsyncClient:
    client = tenant.admin if admin else tenant.staff
    return httpx.AsyncClient(base_url=service.url, headers=client.headers, timeout=10)


async def test_only_the_decline_tasks_accepted_runs_rules_mails_staff_and_shows_as_declined(
    infra, smtp, tasks_service, downstream
):
    # Given a task with a rule for declines, staff mail to one address, and two requests: one cancelled, one open
    tenant = await register_tenant(tasks_service.url, name="Schilderwerken Bos")
    staff_address = f"{new_id()[:10]}@example.nl"
    contact = await create_contact(tenant, name="Jan de Vries")
    task = await create_task(tenant, title="Paint the fence", contact_id=contact["id"], phase="Waiting for approval")
    async with (
        staff_client(downstream["automation"], tenant) as automation,
        staff_client(downstream["timeline"], tenant) as timeline,
        staff_client(downstream["notifications"], tenant, admin=True) as notifications,
    ):

        async def rule_created():
            response = await automation.post("/v1/rules", json=RULE)
            return response.json() if response.status_code == 201 else None

        await eventually(rule_created, what="automation knowing the tenant's key")

        async def mail_settings_saved():
            response = await notifications.put(
                "/v1/notification-settings", json={"staff_address": staff_address, "staff_language": "en"}
            )
            return response.status_code == 200

        await eventually(mail_settings_saved, what="notifications knowing the tenant's keys")
        cancelled = await request_signature(tenant, task["id"], contact["id"], notify=False)
        still_open = await request_signature(tenant, task["id"], contact["id"], notify=False)
        assert (
            await tenant.staff.post(
                f"/v1/tasks/{task['id']}/actions/{cancelled['id']}/cancel", json={"reason": "wrong work order"}
            )
        ).status_code == 200

        # When the portal's declines of both arrive (it took the first before it heard of the cancellation)
        def decline_of(action: dict, reason: str) -> ActionDeclined:
            return ActionDeclined(
                tenant_id=tenant.tenant_id,
                task_id=task["id"],
                actor=Actor(kind="contact", id=contact["id"], name=contact["name"]),
                payload=ActionDeclinedPayload(
                    action_id=action["id"],
                    contact_id=contact["id"],
                    kind="sign_task",
                    reason=reason,
                    declined_at=utcnow(),
                ),
            )

        refused, accepted = decline_of(cancelled, "Too late anyway"), decline_of(still_open, "The colour is wrong")
        await publish(infra.kafka_bootstrap, PORTAL_EVENTS, refused, accepted)

        # Then tasks refuses the first, saying so, and accepts the second carrying the decline it accepted
        [rejection] = await eventually(
            lambda: tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "decline.rejected"), what="decline.rejected"
        )
        assert rejection["payload"]["declined_event_id"] == refused.event_id
        assert rejection["payload"]["action_status"] == "cancelled"
        [acceptance] = await eventually(
            lambda: tenant_events(infra.kafka_bootstrap, tenant.tenant_id, "task.action_declined"),
            what="task.action_declined",
        )
        assert acceptance["payload"]["decline"]["event_id"] == accepted.event_id
        actions = {a["id"]: a for a in (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["actions"]}
        assert actions[cancelled["id"]]["status"] == "cancelled" and actions[still_open["id"]]["status"] == "declined"

        # And the rule ran for the accepted decline only
        async def changes_requested():
            return (await tenant.staff.get(f"/v1/tasks/{task['id']}")).json()["phase"] == "Changes requested"

        await eventually(changes_requested, what="the rule asking for changes")
        runs = (await automation.get("/v1/rule-runs", params={"task_id": task["id"]})).json()["runs"]
        assert [r["event_id"] for r in runs] == [accepted.event_id]

        # And staff are mailed about the accepted decline only (tasks answered the refused one first, on the
        # same partition, so its mail would have been decided before this one)
        async def staff_mail():
            return smtp.to(staff_address) or None

        [mail] = await eventually(staff_mail, what="the staff mail about the accepted decline")
        assert mail.subject == "Declined: Paint the fence by Jan de Vries" and "The colour is wrong" in mail.text
        decided = (await notifications.get("/v1/notifications", params={"task_id": task["id"]})).json()
        assert [n["kind"] for n in decided["notifications"] if n["kind"].startswith("staff_")] == ["staff_declined"]
        assert len(smtp.to(staff_address)) == 1

        # And both timelines show the refusal, and "Declined by" for the accepted decline only
        async def entries(audience: str):
            body = (await timeline.get(f"/v1/tasks/{task['id']}/timeline", params={"audience": audience})).json()
            kinds = [(e["kind"], e["data"].get("action_id")) for e in body["entries"]]
            return (
                kinds
                if ("decline.rejected", cancelled["id"]) in kinds and ("action.declined", still_open["id"]) in kinds
                else None
            )

        for audience in ("staff", "portal"):
            kinds = await eventually(lambda a=audience: entries(a), what=f"the {audience} timeline")
            assert ("action.declined", cancelled["id"]) not in kinds
