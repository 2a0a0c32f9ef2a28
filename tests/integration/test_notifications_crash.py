"""A mail whose sending takes the notifications process with it counts as a failed attempt: it is retried on
the schedule and then marked failed like any other, instead of being claimed again after every restart.

Notifications runs as a process of its own (started again by the test each time it dies) on the real broker
and database, beside tasks; the mail goes to a real SMTP server on loopback (aiosmtpd, in this process) that
SIGKILLs the process which is handing it one mail: no exception, no cleanup, no record of the attempt."""

from __future__ import annotations

import os
import signal

import httpx
import pytest

from contracts import new_id
from tests.integration.tasks_api import create_contact, create_task, register_tenant, request_signature
from tests.support.smtp import Handler, SmtpServer
from tests.support.supervised import Supervised
from tests.support.waiting import eventually

# A short lease (above one attempt's deadline: the proof's fetch plus the SMTP conversation) so a lost attempt
# is noticed within seconds, and a give-up time that leaves room for a few restarts on a loaded machine.
CRASHING = {
    "NOTIFICATIONS_LEASE_SECONDS": "2",
    "NOTIFICATIONS_SMTP_TIMEOUT_SECONDS": "1",
    "NOTIFICATIONS_FETCH_TIMEOUT_SECONDS": "0.5",
    "NOTIFICATIONS_RETRY_BASE_SECONDS": "0.2",
    "NOTIFICATIONS_RETRY_MAX_DELAY_SECONDS": "0.5",
    "NOTIFICATIONS_GIVE_UP_AFTER_SECONDS": "12",
    "NOTIFICATIONS_POLL_SECONDS": "0.1",
}
MAX_STARTS = 12  # far more than the give-up time allows: without the count, the restarts never end
DEADLY = "deadly@example.nl"


class Killing(Handler):
    """Takes every mail but one to DEADLY; for that one, ends the notifications process while it sends DATA."""

    def __init__(self) -> None:
        super().__init__()
        self.kills = 0
        self.victim: Supervised | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if DEADLY in envelope.rcpt_tos and self.victim is not None:
            with self.lock:
                self.kills += 1
            os.kill(self.victim.pid, signal.SIGKILL)
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def killing_smtp():
    server = SmtpServer(handler=Killing()).start()
    yield server
    server.stop()


@pytest.fixture
async def notifications(stack, killing_smtp):
    """Notifications with a short lease, mailing through the killing server, in a process of its own (stopped
    after, so no other test gets its settings: the stack starts its own again)."""
    stack.start("tasks")
    if (running := stack.running.get("notifications")) is not None:
        running.stop()
    supervised = Supervised(stack, "notifications", {**CRASHING, "AKKOORD_SMTP_URL": killing_smtp.url})
    killing_smtp.handler.victim = supervised
    await supervised.start()
    yield supervised
    supervised.stop()


async def test_a_mail_whose_sending_kills_the_process_is_marked_failed_after_the_bounded_attempts(
    stack, notifications, killing_smtp
):
    # given a tenant known to notifications
    tenant = await register_tenant(stack.running["tasks"].url, name="Schilderwerken Bos")
    client = httpx.AsyncClient(base_url=notifications.url, headers=tenant.staff.headers, timeout=5)
    try:

        async def keys_known() -> bool:
            return (await client.get("/v1/notification-settings")).status_code == 200

        await eventually(keys_known, what="the tenant's keys projected into notifications")
        # when a signature is asked of a contact whose mail kills the process that sends it, and notifications
        # is started again each time it dies (as Kubernetes does)
        contact = await create_contact(tenant, email=DEADLY, language="en", name="Jan de Vries")
        task = await create_task(tenant, title="Paint the facade", contact_id=contact["id"])
        await request_signature(tenant, task["id"], contact["id"])

        async def failed() -> dict | None:
            if notifications.dead():
                if notifications.starts >= MAX_STARTS:
                    pytest.fail(f"still dying after {notifications.starts} starts, {killing_smtp.handler.kills} kills")
                await notifications.start()
                return None
            try:
                response = await client.get("/v1/notifications", params={"task_id": task["id"]})
            except httpx.HTTPError:  # died while asked
                return None
            return next((n for n in response.json()["notifications"] if n["status"] == "failed"), None)

        mail = await eventually(failed, timeout=120, interval=0.2, what="the deadly mail failed")
        # then every attempt that killed the process is counted, and the mail failed as one that did not finish
        kills = killing_smtp.handler.kills
        assert kills >= 1 and mail["attempt_count"] == kills
        assert notifications.starts == kills + 1
        assert mail["last_error"].startswith("gave up: the attempt did not finish")
        assert mail["next_attempt_at"] is None and mail["sent_at"] is None
        async with httpx.AsyncClient(base_url=notifications.ops_url, timeout=5) as ops:
            metrics = (await ops.get("/metrics")).text
        assert 'akkoord_notifications_total{kind="action_requested",outcome="failed"} 1.0' in metrics
        assert killing_smtp.to(DEADLY) == []

        # and the restarted process sends the next mail, and stays up
        address = f"{new_id()[:10]}@example.nl"
        other = await create_contact(tenant, email=address, language="en", name="Sanne Jansen")
        await request_signature(tenant, task["id"], other["id"])

        async def arrived() -> list:
            return killing_smtp.to(address)

        [sent] = await eventually(arrived, timeout=30, what="the next mail")
        assert sent.subject == "Schilderwerken Bos asks for your approval: Paint the facade"
        assert not notifications.dead() and killing_smtp.handler.kills == kills
    finally:
        await client.aclose()
