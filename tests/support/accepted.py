"""Signings and declines as they reach evidence, seals, stamping, rules, webhooks, mail and timelines: accepted
by tasks.

tasks answers the portal's task.signed / document.signed with task.action_completed carrying the signing (or
signing.rejected), and its action.declined with task.action_declined carrying the decline (or decline.rejected).
Tests of those downstream services publish what tasks would, without running tasks.
"""

from __future__ import annotations

import uuid

from contracts import Envelope
from contracts import messages as m
from tests.support.bus import publish


def _accepted_id(submission: Envelope) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"akkoord:test-accepted:{submission.event_id}").hex


def accepted(signing: m.TaskSigned | m.DocumentSigned) -> m.TaskActionCompleted:
    """tasks' acceptance of `signing`; the same signing twice gives the same completion (a redelivery)."""
    p = signing.payload
    return m.TaskActionCompleted(
        event_id=_accepted_id(signing),
        tenant_id=signing.tenant_id,
        task_id=signing.task_id,
        correlation_id=signing.correlation_id,
        causation_id=signing.event_id,
        causation_depth=signing.causation_depth,
        actor=signing.actor,
        payload=m.ActionCompletedPayload(
            action_id=p.action_id,
            contact_id=p.signer.contact_id,
            kind="sign_document" if isinstance(signing, m.DocumentSigned) else "sign_task",
            signed_event_id=signing.event_id,
            signing=signing,
        ),
    )


def accepted_decline(decline: m.ActionDeclined) -> m.TaskActionDeclined:
    """tasks' acceptance of `decline`; the same decline twice gives the same acceptance (a redelivery)."""
    p = decline.payload
    return m.TaskActionDeclined(
        event_id=_accepted_id(decline),
        tenant_id=decline.tenant_id,
        task_id=decline.task_id,
        correlation_id=decline.correlation_id,
        causation_id=decline.event_id,
        causation_depth=decline.causation_depth,
        actor=decline.actor,
        payload=m.TaskActionDeclinedPayload(
            action_id=p.action_id,
            contact_id=p.contact_id,
            kind=p.kind,
            declined_event_id=decline.event_id,
            decline=decline,
        ),
    )


async def publish_accepted(bootstrap: str, *messages: Envelope) -> None:
    """Publish each message on its topic, in order; a signing or decline as tasks' acceptance of it."""
    runs: list[tuple[str, list[Envelope]]] = []
    for message in messages:
        if isinstance(message, (m.TaskSigned, m.DocumentSigned)):
            message = accepted(message)
        elif isinstance(message, m.ActionDeclined):
            message = accepted_decline(message)
        topic = m.topic_of(message)
        if runs and runs[-1][0] == topic:
            runs[-1][1].append(message)
        else:
            runs.append((topic, [message]))
    for topic, run in runs:
        await publish(bootstrap, topic, *run)
