"""tasks.events: tasks' answer to the portal's signings and declines, accepted or refused."""

from __future__ import annotations

from typing import Literal

from contracts.envelope import Envelope
from contracts.messages.portal import AcceptedSigning, ActionDeclined
from contracts.messages.refs import ContactActionOfKind


class ActionCompletedPayload(ContactActionOfKind):
    signed_event_id: str
    # The portal's signing that tasks accepted, as the portal sent it: rules, evidence, seals, stamping and the
    # timelines act on this, never on the portal's event alone (tasks refuses a signing of a closed action).
    signing: AcceptedSigning | None = None


class TaskActionCompleted(Envelope):
    type: Literal["task.action_completed"] = "task.action_completed"
    payload: ActionCompletedPayload


class SigningRejectedPayload(ContactActionOfKind):
    signed_event_id: str  # the portal's task.signed / document.signed that was refused
    action_status: str  # what the action was when the signing reached tasks: cancelled, expired, completed, declined
    reason: str


class SigningRejected(Envelope):
    """tasks refused a signing the portal took (its action was closed meanwhile): no rule, seal or stamp follows."""

    type: Literal["signing.rejected"] = "signing.rejected"
    payload: SigningRejectedPayload


class TaskActionDeclinedPayload(ContactActionOfKind):
    declined_event_id: str
    # The portal's decline that tasks accepted, as the portal sent it: rules, staff mail, webhooks and the
    # timelines act on this, never on the portal's event alone (tasks refuses a decline of a closed action).
    decline: ActionDeclined


class TaskActionDeclined(Envelope):
    """tasks accepted the contact's decline: the action is declined."""

    type: Literal["task.action_declined"] = "task.action_declined"
    payload: TaskActionDeclinedPayload


class DeclineRejectedPayload(ContactActionOfKind):
    declined_event_id: str  # the portal's action.declined that was refused
    action_status: str  # what the action was when the decline reached tasks: cancelled, expired, completed, declined
    reason: str


class DeclineRejected(Envelope):
    """tasks refused a decline the portal took (its action was closed meanwhile): no rule, mail or webhook follows."""

    type: Literal["decline.rejected"] = "decline.rejected"
    payload: DeclineRejectedPayload
