"""Use cases: record evidence of a signing, seal approval certificates and stamped documents, verify."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Gauge

from contracts import utcnow
from contracts.errors import PermanentFailure
from contracts.messages import (
    DocumentSigned, DocumentStamped, EvidenceRecorded, EvidenceRecordedPayload, SignatureSealed,
    SignatureSealedPayload, TaskSigned,
)
from contracts.topics import DOCUMENTS_EVENTS, SIGNING_EVENTS, Groups, dlq
from services.runtime.consumer import Tracking
from services.runtime.dlq import dead_letter_headers
from services.runtime.metrics import EVENTS, PDF_SECONDS
from services.runtime.mongo import Session
from services.runtime.outbox import Outbox
from services.runtime.staff_auth import DEFAULT_TIME_ZONE, StaffKeys
from services.signing.adapters.certificate import append_pdf, approval_certificate, evidence_page
from services.runtime.internal_http import InternalFetcher
from services.signing.adapters.keys import SealKeys
from services.signing.adapters.mongo import EvidenceStore, SealedPdf
from services.signing.adapters.seal import SealCheck, Sealer
from services.signing.adapters.verify_pool import VerifyPool
from services.signing.config import Settings
from services.signing.domain import EvidenceRecord, SealKind, TimelineAnchor, evidence_from_signed, seal_id_for

log = logging.getLogger(__name__)
SEAL_TIME = PDF_SECONDS.labels("seal")
HELD_STAMPS = Gauge("akkoord_signing_held_stamps", "document.stamped waiting for their document.signed")


# A task is signed a handful of times; this many signings of one task are compared at most.
ANCHORS_READ = 500


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class SigningHandlers:
    settings: Settings
    store: EvidenceStore
    outbox: Outbox
    keys: SealKeys
    fetcher: InternalFetcher
    tracking: Tracking | None = None
    verifier: VerifyPool | None = None
    tenants: StaffKeys | None = None  # the tenants' time zones, projected from tasks
    sealer: Sealer | None = None

    async def load_seal_key(self) -> None:
        """Load the seal key and build the sealer once, before any message is handled."""
        await self.keys.load()
        self.sealer = Sealer(self.keys.key, self.settings.seal_tsa_url, self.settings.seal_tsa_timeout_seconds)

    async def record_evidence(self, event: TaskSigned | DocumentSigned, session: Session) -> None:
        """Write the evidence record of a signing (once per action) and announce it."""
        evidence = evidence_from_signed(event, utcnow(), await self._time_zone(event.tenant_id, session))
        if not await self.store.record(evidence, session):
            log.info("evidence for action %s already recorded; %s adds nothing", evidence.action_id, event.event_id)
            return
        await self.outbox.add(session, SIGNING_EVENTS, EvidenceRecorded(
            **event.caused(), actor=event.actor, payload=EvidenceRecordedPayload(
                evidence_id=evidence.evidence_id, action_id=evidence.action_id, kind=evidence.kind,
                signed_event_id=event.event_id)))
        if isinstance(event, DocumentSigned) and (held := await self.store.take_stamp(
                event.tenant_id, evidence.action_id, session)) is not None:
            stamped = DocumentStamped.model_validate(held)
            try:
                await self.seal_stamped_document(stamped, session)
            except PermanentFailure as exc:
                # The stamp is at fault, not the signing: the evidence stays as recorded, the stamp goes to
                # the DLQ with the reason, as it would have had it come after the signing.
                await self.store.set_stamped(event.tenant_id, evidence.evidence_id, evidence.document, session)
                await self._dead_letter_stamp(stamped, exc.detail, session)

    async def seal_approval_certificate(self, event: TaskSigned, session: Session) -> None:
        """Build the approval certificate of a signed task and seal it."""
        evidence = await self.store.for_action(event.tenant_id, event.payload.action_id, session)
        if evidence is None:
            # The evidence group has not recorded this signing yet: record it here (once, whichever group
            # comes first), so the anchor set below lands on the record instead of on nothing.
            await self.record_evidence(event, session)
            evidence = await self.store.for_action(event.tenant_id, event.payload.action_id, session)
        pdf_id = seal_id_for(evidence.evidence_id, "approval_certificate")
        if await self.store.sealed_pdf(event.tenant_id, pdf_id, session) is not None:
            return
        evidence = await self._anchored(evidence, session)

        async def build() -> bytes:
            image = await self.fetcher.get(evidence.signature.image_url)
            certificate = await asyncio.to_thread(approval_certificate, evidence, image)
            return await asyncio.to_thread(self._timed_seal, certificate, evidence.evidence_id)

        await self._store_seal(event, evidence, "approval_certificate", pdf_id, build, session)

    async def seal_stamped_document(self, event: DocumentStamped, session: Session) -> None:
        """Append the evidence page to a stamped document and seal it."""
        p = event.payload
        evidence = await self.store.for_action(event.tenant_id, p.action_id, session)
        if evidence is None:
            # document.stamped rides documents.events, its document.signed portal.events: when this one comes
            # first (a consumer behind on portal.events), it is held, and recording the signing seals it.
            log.info("document.stamped %s before its signing; held for action %s", event.event_id, p.action_id)
            await self.store.hold_stamp(event.tenant_id, p.action_id, event.model_dump(mode="json"), session)
            return
        if evidence.document is None:
            raise PermanentFailure(f"action {p.action_id} was a task signing; {event.event_id} stamps a document")
        document = evidence.document.model_copy(update={"stamped_version_id": p.version_id, "digest_after": p.digest})
        await self.store.set_stamped(event.tenant_id, evidence.evidence_id, document, session)
        evidence = evidence.model_copy(update={"document": document})
        pdf_id = seal_id_for(evidence.evidence_id, "sealed_document")
        if await self.store.sealed_pdf(event.tenant_id, pdf_id, session) is not None:
            return
        evidence = await self._anchored(evidence, session)

        async def build() -> bytes:
            stamped = await self.fetcher.get(p.pdf_url)
            if sha256(stamped) != p.digest.removeprefix("sha256:"):
                raise PermanentFailure(f"the stamped PDF at {p.pdf_url} does not match digest {p.digest}")
            try:
                image = await self.fetcher.get(evidence.signature.image_url)
            except PermanentFailure:
                image = None  # the stamped document shows the signature; the audit page can go without
            page = await asyncio.to_thread(evidence_page, evidence, image)
            try:
                combined = await asyncio.to_thread(append_pdf, stamped, page)
            except Exception as exc:
                raise PermanentFailure(f"cannot add the evidence page to {p.version_id}: {exc!r}") from exc
            return await asyncio.to_thread(self._timed_seal, combined, evidence.evidence_id)

        await self._store_seal(event, evidence, "sealed_document", pdf_id, build, session)

    async def give_up_overdue_stamps(self, tenant_id: str | None = None) -> int:
        """Dead-letter each stamp held longer than `hold_stamp_seconds` (its signing never came, or was itself
        dead-lettered), of every tenant or of one: the DLQ says why, and a replay once the signing is recorded
        seals the document."""
        wait = self.settings.hold_stamp_seconds
        released = 0
        for held_id in await self.store.overdue_stamps(utcnow() - timedelta(seconds=wait), tenant_id):
            async def work(session: Session, held_id: str = held_id) -> bool:
                if (held := await self.store.release_stamp(held_id, session)) is None:
                    return False  # its signing came meanwhile, or another replica gave it up
                stamped = DocumentStamped.model_validate(held)
                await self._dead_letter_stamp(stamped, f"unknown evidence: no document signing recorded for action "
                                                       f"{stamped.payload.action_id} within {wait:.0f} s", session)
                return True

            released += await self.outbox.transaction(work)
        if released:
            log.error("dead-lettered %d document.stamped whose signing did not come", released)
        HELD_STAMPS.set(await self.store.count_held_stamps())
        return released

    async def _dead_letter_stamp(self, stamped: DocumentStamped, reason: str, session: Session) -> None:
        """A held stamp to the DLQ (through the outbox, with this transaction), shaped like the consumer's own
        dead letters; its processed mark is forgotten so that a replay is handled as new."""
        await self.tracking.forget(Groups.SIGNING, stamped.event_id, session)
        await self.outbox.add(session, dlq(DOCUMENTS_EVENTS), stamped, headers=dead_letter_headers(
            Groups.SIGNING, f"document.stamped {stamped.event_id}: {reason}", DOCUMENTS_EVENTS))
        EVENTS.labels(Groups.SIGNING, DOCUMENTS_EVENTS, "document.stamped", "dead_lettered").inc()

    async def _time_zone(self, tenant_id: str, session: Session | None = None) -> str:
        return await self.tenants.time_zone(tenant_id, session) if self.tenants else DEFAULT_TIME_ZONE

    def _timed_seal(self, pdf: bytes, evidence_id: str) -> bytes:
        """On a worker thread: one seal, its duration in the metrics."""
        with SEAL_TIME.time():
            return self.sealer.seal(pdf, evidence_id)

    async def _anchored(self, evidence: EvidenceRecord, session: Session) -> EvidenceRecord:
        """Anchor the task's timeline head in the evidence, when the timeline answers (best effort)."""
        if evidence.timeline_anchor is not None or not evidence.task_id:
            return evidence
        url = (f"{self.settings.timeline_url}/internal/v1/tasks/{evidence.task_id}/timeline/head"
               f"?tenant_id={evidence.tenant_id}")
        found = await self.fetcher.get_json_or_none(url)
        head = (found or {}).get("heads", {}).get("staff") or {}
        if not head.get("hash"):
            return evidence
        anchor = TimelineAnchor(seq=int(head.get("seq", 0)), hash=str(head["hash"]))
        await self.store.set_anchor(evidence.tenant_id, evidence.evidence_id, anchor, session)
        return evidence.model_copy(update={"timeline_anchor": anchor})

    async def _store_seal(self, event, evidence: EvidenceRecord, kind: SealKind, pdf_id: str, build,
                          session: Session) -> None:
        # A retried transaction finds the sealed bytes already stored and does not seal again.
        sealed = await self.store.get_file(pdf_id)
        if sealed is None:
            sealed = await build()
            sealed = await self.store.put_file(pdf_id, sealed, event.tenant_id, sha256(sealed))
        record = SealedPdf(pdf_id=pdf_id, tenant_id=event.tenant_id, evidence_id=evidence.evidence_id,
                           action_id=evidence.action_id, task_id=evidence.task_id, kind=kind, digest=sha256(sealed),
                           size=len(sealed), created_at=utcnow())
        await self.store.save_seal(record, session)
        await self.outbox.add(session, SIGNING_EVENTS, SignatureSealed(
            **event.caused(), actor=event.actor, payload=SignatureSealedPayload(
                evidence_id=evidence.evidence_id, action_id=evidence.action_id, kind=kind, pdf_id=pdf_id,
                digest=record.digest, pdf_url=self.internal_pdf_url(event.tenant_id, pdf_id))))

    async def anchors_of(self, tenant_id: str, task_id: str) -> list[dict]:
        """Each signing of the task with the timeline head its seal anchored, or none: for timeline's verify."""
        out = []
        for evidence in await self.store.for_task(tenant_id, task_id, ANCHORS_READ):
            anchor = evidence.timeline_anchor
            out.append({"evidence_id": evidence.evidence_id, "action_id": evidence.action_id, "kind": evidence.kind,
                        "sealed": bool(await self.store.seals_of(tenant_id, evidence.evidence_id)),
                        "anchor": anchor.model_dump() if anchor else None})
        return out

    def internal_pdf_url(self, tenant_id: str, pdf_id: str) -> str:
        return f"{self.settings.signing_url}/internal/v1/sealed-pdfs/{pdf_id}?tenant_id={tenant_id}"

    async def verify(self, data: bytes) -> tuple[SealCheck, SealedPdf | None]:
        """Check a PDF someone hands us: our seal, intact, whole file, and whether we stored it."""
        fingerprints = await self.keys.trusted_fingerprints()
        # a public endpoint: the pool bounds the checks anyone can make us run, and how long each takes
        check = await self.verifier.run(data, self.keys.key.cert_pem, fingerprints)
        return check, await self.store.seal_by_digest(sha256(data))
