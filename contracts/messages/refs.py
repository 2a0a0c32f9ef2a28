"""What many payloads start with: the action (of a contact) a message is about.

Only leading fields are shared this way: a base class's fields come first in a message's JSON, and the
order on the wire stays as it was.
"""

from __future__ import annotations

from pydantic import BaseModel

from contracts.models import ActionKind


class ContactAction(BaseModel):
    action_id: str
    contact_id: str


class ContactActionOfKind(ContactAction):
    kind: ActionKind
