"""The magic-link token tasks issues and the portal redeems: signed with a secret both share.

tasks stores only the token's hash; the portal verifies the signature and expiry, and makes the
link single-use by recording its `link_id`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel

SALT = "akkoord.portal-link.v1"


class PortalLink(BaseModel):
    link_id: str
    tenant_id: str
    contact_id: str
    expires_at: datetime
    # The contact's link generation when it was issued: staff revoking a contact's links raise theirs, and the
    # portal refuses links (and ends sessions) of an older generation.
    generation: int = 0
    # Where the link lands after it opens a session: a mail about one task opens that task.
    task_id: str | None = None

    @property
    def expired(self) -> bool:
        return datetime.now(UTC) >= self.expires_at


class InvalidLink(Exception):
    pass


def sign(secret: str, link: PortalLink) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps(link.model_dump(mode="json"))


def read(secret: str, token: str) -> PortalLink:
    try:
        return PortalLink.model_validate(URLSafeSerializer(secret, salt=SALT).loads(token))
    except (BadSignature, ValueError) as exc:
        raise InvalidLink("this link is not valid") from exc
