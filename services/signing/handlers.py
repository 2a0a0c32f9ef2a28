"""Use cases: record evidence of a signing, seal approval certificates and stamped documents, verify."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta

from prometheus_client import Gauge

from contracts import utcnow
from contracts.errors import PermanentFailure
from contracts.messages import (
    DocumentSigned,
    DocumentStamped,
    EvidenceRecorded,
    EvidenceRecordedPayload,
    SignatureSealed,
    SignatureSealedPayload,
    TaskSigned,
)
from contracts.topics import DOCUMENTS_EVENTS, SIGNING_EVENTS, Groups, dlq
from services.runtime.dlq import dead_letter_headers
from services.runtime.metrics import EVENTS, PDF_SECONDS
from services.runtime.mongo import Session
from services.runtime.staff_auth import DEFAULT_TIME_ZONE
from services.signing.adapters.certificate import append_pdf, approval_certificate, evidence_page
from services.signing.adapters.mongo import SealedPdf
from services.signing.adapters.seal import SealCheck, Sealer
from services.signing.domain import EvidenceRecord, SealKind, TimelineAnchor, evidence_from_signed, seal_id_for
from services.signing.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
SEAL_TIME = PDF_SECONDS.labels("seal")
HELD_STAMPS = Gauge("akkoord_signing_held_stamps", "document.stamped waiting for their document.signed")


# A task is signed a handful of times; this many signings of one task are compared at most.
ANCHORS_READ = 500


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def load_seal_key(uow: UnitOfWork) -> None:
    """Load the seal key and build the sealer once, before any message is handled."""
    await uow.keys.load()
    uow.sealer = Sealer(uow.keys.key, uow.settings.seal_tsa_url, uow.settings.seal_tsa_timeout_seconds)


async def record_evidence(event: TaskSigned | DocumentSigned, uow: UnitOfWork) -> None:
    """Write the evidence record of a signing (once per action) and announce it."""
    evidence = evidence_from_signed(event, utcnow(), await _time_zone(uow, event.tenant_id, uow.tx))
    if not await uow.store.record(evidence, uow.tx):
        log.info("evidence for action %s already recorded; %s adds nothing", evidence.action_id, event.event_id)
        return
    await uow.outbox.add(
        uow.tx,
        SIGNING_EVENTS,
        EvidenceRecorded(
            **event.caused(),
            actor=event.actor,
            payload=EvidenceRecordedPayload(
                evidence_id=evidence.evidence_id,
                action_id=evidence.action_id,
                kind=evidence.kind,
                signed_event_id=event.event_id,
            ),
        ),
    )
    if (
        isinstance(event, DocumentSigned)
        and evidence.document is not None  # a document signing's evidence always names its document
        and (held := await uow.store.take_stamp(event.tenant_id, evidence.action_id, uow.tx)) is not None
    ):
        stamped = DocumentStamped.model_validate(held)
        try:
            await seal_stamped_document(stamped, uow)
        except PermanentFailure as exc:
            # The stamp is at fault, not the signing: the evidence stays as recorded, the stamp goes to
            # the DLQ with the reason, as it would have had it come after the signing.
            await uow.store.set_stamped(event.tenant_id, evidence.evidence_id, evidence.document, uow.tx)
            await _dead_letter_stamp(uow, stamped, exc.detail, uow.tx)


async def seal_approval_certificate(event: TaskSigned, uow: UnitOfWork) -> None:
    """Build the approval certificate of a signed task and seal it."""
    evidence = await uow.store.for_action(event.tenant_id, event.payload.action_id, uow.tx)
    if evidence is None:
        # The evidence group has not recorded this signing yet: record it here (once, whichever group
        # comes first), so the anchor set below lands on the record instead of on nothing.
        await record_evidence(event, uow)
        evidence = await uow.store.for_action(event.tenant_id, event.payload.action_id, uow.tx)
        if evidence is None:
            raise RuntimeError(f"the evidence of action {event.payload.action_id} was recorded but is not found")
    pdf_id = seal_id_for(evidence.evidence_id, "approval_certificate")
    if await uow.store.sealed_pdf(event.tenant_id, pdf_id, uow.tx) is not None:
        return
    evidence = await _anchored(uow, evidence, uow.tx)

    async def build() -> bytes:
        image = await uow.fetcher.get(evidence.signature.image_url)
        certificate = await asyncio.to_thread(approval_certificate, evidence, image)
        return await asyncio.to_thread(_timed_seal, uow, certificate, evidence.evidence_id)

    await _store_seal(uow, event, evidence, "approval_certificate", pdf_id, build, uow.tx)


async def seal_stamped_document(event: DocumentStamped, uow: UnitOfWork) -> None:
    """Append the evidence page to a stamped document and seal it."""
    p = event.payload
    evidence = await uow.store.for_action(event.tenant_id, p.action_id, uow.tx)
    if evidence is None:
        # document.stamped rides documents.events, its document.signed portal.events: when this one comes
        # first (a consumer behind on portal.events), it is held, and recording the signing seals it.
        log.info("document.stamped %s before its signing; held for action %s", event.event_id, p.action_id)
        await uow.store.hold_stamp(event.tenant_id, p.action_id, event.model_dump(mode="json"), uow.tx)
        return
    if evidence.document is None:
        raise PermanentFailure(f"action {p.action_id} was a task signing; {event.event_id} stamps a document")
    document = evidence.document.model_copy(update={"stamped_version_id": p.version_id, "digest_after": p.digest})
    await uow.store.set_stamped(event.tenant_id, evidence.evidence_id, document, uow.tx)
    evidence = evidence.model_copy(update={"document": document})
    pdf_id = seal_id_for(evidence.evidence_id, "sealed_document")
    if await uow.store.sealed_pdf(event.tenant_id, pdf_id, uow.tx) is not None:
        return
    evidence = await _anchored(uow, evidence, uow.tx)

    async def build() -> bytes:
        stamped = await uow.fetcher.get(p.pdf_url)
        if sha256(stamped) != p.digest.removeprefix("sha256:"):
            raise PermanentFailure(f"the stamped PDF at {p.pdf_url} does not match digest {p.digest}")
        try:
            image = await uow.fetcher.get(evidence.signature.image_url)
        except PermanentFailure:
            image = None  # the stamped document shows the signature; the audit page can go without
        page = await asyncio.to_thread(evidence_page, evidence, image)
        try:
            combined = await asyncio.to_thread(append_pdf, stamped, page)
        except Exception as exc:
            raise PermanentFailure(f"cannot add the evidence page to {p.version_id}: {exc!r}") from exc
        return await asyncio.to_thread(_timed_seal, uow, combined, evidence.evidence_id)

    await _store_seal(uow, event, evidence, "sealed_document", pdf_id, build, uow.tx)


async def give_up_overdue_stamps(uow: UnitOfWork, tenant_id: str | None = None) -> int:
    """Dead-letter each stamp held longer than `hold_stamp_seconds` (its signing never came, or was itself
    dead-lettered), of every tenant or of one: the DLQ says why, and a replay once the signing is recorded
    seals the document."""
    wait = uow.settings.hold_stamp_seconds
    released = 0
    for held_id in await uow.store.overdue_stamps(utcnow() - timedelta(seconds=wait), tenant_id):

        async def work(session: Session, held_id: str = held_id) -> bool:
            if (held := await uow.store.release_stamp(held_id, session)) is None:
                return False  # its signing came meanwhile, or another replica gave it up
            stamped = DocumentStamped.model_validate(held)
            await _dead_letter_stamp(
                uow,
                stamped,
                f"unknown evidence: no document signing recorded for action "
                f"{stamped.payload.action_id} within {wait:.0f} s",
                session,
            )
            return True

        released += await uow.outbox.transaction(work)
    if released:
        log.error("dead-lettered %d document.stamped whose signing did not come", released)
    HELD_STAMPS.set(await uow.store.count_held_stamps())
    return released


async def _dead_letter_stamp(uow: UnitOfWork, stamped: DocumentStamped, reason: str, session: Session) -> None:
    """A held stamp to the DLQ (through the outbox, with this transaction), shaped like the consumer's own
    dead letters; its processed mark is forgotten so that a replay is handled as new."""
    if uow.tracking is None:
        raise RuntimeError("the signing service was built without its consumers' tracking")
    await uow.tracking.forget(Groups.SIGNING, stamped.event_id, session)
    await uow.outbox.add(
        session,
        dlq(DOCUMENTS_EVENTS),
        stamped,
        headers=dead_letter_headers(Groups.SIGNING, f"document.stamped {stamped.event_id}: {reason}", DOCUMENTS_EVENTS),
    )
    EVENTS.labels(Groups.SIGNING, DOCUMENTS_EVENTS, "document.stamped", "dead_lettered").inc()


async def _time_zone(uow: UnitOfWork, tenant_id: str, session: Session | None = None) -> str:
    return await uow.tenants.time_zone(tenant_id, session) if uow.tenants else DEFAULT_TIME_ZONE


def _timed_seal(uow: UnitOfWork, pdf: bytes, evidence_id: str) -> bytes:
    """On a worker thread: one seal, its duration in the metrics."""
    if uow.sealer is None:
        raise RuntimeError("no sealer: the seal key loads when the service starts (load_seal_key)")
    with SEAL_TIME.time():
        return uow.sealer.seal(pdf, evidence_id)


async def _anchored(uow: UnitOfWork, evidence: EvidenceRecord, session: Session) -> EvidenceRecord:
    """Anchor the task's timeline head in the evidence, when the timeline answers (best effort)."""
    if evidence.timeline_anchor is not None or not evidence.task_id:
        return evidence
    url = (
        f"{uow.settings.timeline_url}/internal/v1/tasks/{evidence.task_id}/timeline/head?tenant_id={evidence.tenant_id}"
    )
    found = await uow.fetcher.get_json_or_none(url)
    head = (found or {}).get("heads", {}).get("staff") or {}
    if not head.get("hash"):
        return evidence
    anchor = TimelineAnchor(seq=int(head.get("seq", 0)), hash=str(head["hash"]))
    await uow.store.set_anchor(evidence.tenant_id, evidence.evidence_id, anchor, session)
    return evidence.model_copy(update={"timeline_anchor": anchor})


async def _store_seal(
    uow: UnitOfWork, event, evidence: EvidenceRecord, kind: SealKind, pdf_id: str, build, session: Session
) -> None:
    # A retried transaction finds the sealed bytes already stored and does not seal again.
    sealed = await uow.store.get_file(pdf_id)
    if sealed is None:
        sealed = await build()
        sealed = await uow.store.put_file(pdf_id, sealed, event.tenant_id, sha256(sealed))
    record = SealedPdf(
        pdf_id=pdf_id,
        tenant_id=event.tenant_id,
        evidence_id=evidence.evidence_id,
        action_id=evidence.action_id,
        task_id=evidence.task_id,
        kind=kind,
        digest=sha256(sealed),
        size=len(sealed),
        created_at=utcnow(),
    )
    await uow.store.save_seal(record, session)
    await uow.outbox.add(
        session,
        SIGNING_EVENTS,
        SignatureSealed(
            **event.caused(),
            actor=event.actor,
            payload=SignatureSealedPayload(
                evidence_id=evidence.evidence_id,
                action_id=evidence.action_id,
                kind=kind,
                pdf_id=pdf_id,
                digest=record.digest,
                pdf_url=internal_pdf_url(uow, event.tenant_id, pdf_id),
            ),
        ),
    )


async def anchors_of(uow: UnitOfWork, tenant_id: str, task_id: str) -> list[dict]:
    """Each signing of the task with the timeline head its seal anchored, or none: for timeline's verify."""
    out = []
    for evidence in await uow.store.for_task(tenant_id, task_id, ANCHORS_READ):
        anchor = evidence.timeline_anchor
        out.append(
            {
                "evidence_id": evidence.evidence_id,
                "action_id": evidence.action_id,
                "kind": evidence.kind,
                "sealed": bool(await uow.store.seals_of(tenant_id, evidence.evidence_id)),
                "anchor": anchor.model_dump() if anchor else None,
            }
        )
    return out


def internal_pdf_url(uow: UnitOfWork, tenant_id: str, pdf_id: str) -> str:
    return f"{uow.settings.signing_url}/internal/v1/sealed-pdfs/{pdf_id}?tenant_id={tenant_id}"


async def verify(uow: UnitOfWork, data: bytes) -> tuple[SealCheck, SealedPdf | None]:
    """Check a PDF someone hands us: our seal, intact, whole file, and whether we stored it."""
    fingerprints = await uow.keys.trusted_fingerprints()
    # a public endpoint: the pool bounds the checks anyone can make us run, and how long each takes
    check = await uow.verifier.run(data, uow.keys.key.cert_pem, fingerprints)
    return check, await uow.store.seal_by_digest(sha256(data))
