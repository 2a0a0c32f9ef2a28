"""What signing's handlers work through: its settings and adapters, and the transaction of the work."""

from __future__ import annotations

from dataclasses import dataclass

from services.runtime import service
from services.runtime.consumer import Tracking
from services.runtime.internal_http import InternalFetcher
from services.runtime.staff_auth import StaffKeys
from services.signing.adapters.keys import SealKeys
from services.signing.adapters.mongo import EvidenceStore
from services.signing.adapters.seal import Sealer
from services.signing.adapters.verify_pool import VerifyPool
from services.signing.config import Settings
from services.signing.entrypoints.verify_guard import ClientRate


@dataclass(kw_only=True)
class UnitOfWork(service.UnitOfWork):
    settings: Settings
    store: EvidenceStore
    staff_keys: StaffKeys
    keys: SealKeys
    fetcher: InternalFetcher  # signature images (portal), stamped PDFs (documents), timeline heads
    verifier: VerifyPool  # worker processes that check PDFs handed to the public verify route
    verify_rate: ClientRate  # that route's rate per client address
    tenants: StaffKeys | None = None  # the tenants' time zones, projected from tasks
    tracking: Tracking | None = None  # to forget a held stamp's processed mark when it is dead-lettered
    sealer: Sealer | None = None  # built around the seal key when the service starts (handlers.load_seal_key)
