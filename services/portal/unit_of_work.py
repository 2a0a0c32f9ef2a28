"""What the portal's handlers work through: its settings, store and the use cases its pages and API call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.portal.adapters.mongo import PortalStore
from services.portal.adapters.verifier import SealVerifier
from services.portal.config import Settings
from services.runtime import service

if TYPE_CHECKING:
    from services.portal.entrypoints.ratelimit import RateLimiter
    from services.portal.handlers.documents import Documents
    from services.portal.handlers.queries import Queries
    from services.portal.handlers.second_factor import SecondFactor
    from services.portal.handlers.sessions import Sessions
    from services.portal.handlers.signing import Signing


@dataclass(kw_only=True)
class UnitOfWork(service.UnitOfWork):
    settings: Settings
    store: PortalStore
    verifier: SealVerifier
    # The request-side use cases, each around its own adapters (mail, timeline, internal files).
    sessions: Sessions
    signing: Signing
    queries: Queries
    documents: Documents
    second_factor: SecondFactor
    login_limiter: RateLimiter
    signing_limiter: RateLimiter
