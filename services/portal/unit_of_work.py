"""What the portal's handlers work through: its settings, store, outbox and the adapters its use cases call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from services.portal.adapters.internal_files import InternalFiles
from services.portal.adapters.mail import Mailer
from services.portal.adapters.mongo import PortalStore
from services.portal.adapters.timeline import TimelineClient
from services.portal.adapters.verifier import SealVerifier
from services.portal.config import Settings
from services.runtime import service

if TYPE_CHECKING:
    from services.portal.entrypoints.ratelimit import RateLimiter
    from services.portal.handlers.documents import ViewCache


@dataclass(kw_only=True)
class UnitOfWork(service.UnitOfWork):
    settings: Settings
    store: PortalStore
    verifier: SealVerifier
    mailer: Mailer  # the second factor's codes
    timeline: TimelineClient
    files: InternalFiles  # documents' and signing's bytes, read on the contact's behalf
    views: ViewCache  # what the signing page shows of a document version, parsed once
    clock: Callable[[], datetime]
    login_limiter: RateLimiter
    signing_limiter: RateLimiter
