"""What documents' handlers work through: its settings and adapters, and the transaction of the work."""

from __future__ import annotations

from dataclasses import dataclass

from services.documents.adapters.mongo import DocumentStore
from services.documents.config import Settings
from services.runtime import service
from services.runtime.internal_http import InternalFetcher
from services.runtime.staff_auth import StaffKeys


@dataclass(kw_only=True)
class UnitOfWork(service.UnitOfWork):
    settings: Settings
    store: DocumentStore
    staff_keys: StaffKeys
    signatures: InternalFetcher  # signature images, read from the portal by the URL a signing names
    tenants: StaffKeys | None = None  # the tenants' time zones, projected from tasks
