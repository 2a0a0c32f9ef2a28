"""What crosses a service boundary: message envelopes, payloads, topics and consumer groups."""

from contracts.envelope import Actor, Envelope, new_id, utcnow
from contracts.messages import MESSAGE_TYPES, Message, parse_message
from contracts.models import *  # noqa: F403

__all__ = ["Actor", "Envelope", "MESSAGE_TYPES", "Message", "new_id", "parse_message", "utcnow"]
