"""Evidence records and sealed PDFs (bytes in GridFS). Every query carries tenant_id."""

from __future__ import annotations

from datetime import datetime

from gridfs import AsyncGridFSBucket
from gridfs.errors import FileExists, NoFile
from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts import utcnow
from services.runtime.mongo import Session
from services.signing.domain import DocumentEvidence, EvidenceRecord, SealKind, TimelineAnchor


class SealedPdf(BaseModel):
    pdf_id: str
    tenant_id: str
    evidence_id: str
    action_id: str
    task_id: str | None
    kind: SealKind
    digest: str
    size: int
    created_at: datetime


class EvidenceStore:
    def __init__(self, db: AsyncDatabase):
        self.db = db
        self.evidence = db["evidence"]
        self.sealed = db["sealed_pdfs"]
        self.files_meta = db["sealed.files"]
        self.held_stamps = db["held_stamps"]

    @property
    def files(self) -> AsyncGridFSBucket:
        # Built on use, not in bootstrap: the bucket binds to the running event loop when created.
        return AsyncGridFSBucket(self.db, bucket_name="sealed")

    async def ensure_indexes(self) -> None:
        await self.evidence.create_index([("tenant_id", 1), ("task_id", 1), ("signed_at", -1)])
        await self.evidence.create_index([("tenant_id", 1), ("action_id", 1)], unique=True)
        await self.sealed.create_index([("tenant_id", 1), ("evidence_id", 1)])
        await self.sealed.create_index("digest")
        await self.held_stamps.create_index("held_at", sparse=True)

    # -- evidence --

    async def record(self, evidence: EvidenceRecord, session: Session) -> bool:
        """Store the record unless this action already has one; True when it is new."""
        # Look first: a duplicate-key error inside a transaction would abort the whole transaction.
        if await self.evidence.find_one({"_id": evidence.evidence_id}, {"_id": 1}, session=session):
            return False
        await self.evidence.insert_one({"_id": evidence.evidence_id, **evidence.model_dump()}, session=session)
        return True

    async def get(self, tenant_id: str, evidence_id: str, session: Session | None = None) -> EvidenceRecord | None:
        doc = await self.evidence.find_one({"_id": evidence_id, "tenant_id": tenant_id}, session=session)
        return EvidenceRecord.model_validate(doc) if doc else None

    async def for_action(self, tenant_id: str, action_id: str, session: Session | None = None) -> EvidenceRecord | None:
        doc = await self.evidence.find_one({"tenant_id": tenant_id, "action_id": action_id}, session=session)
        return EvidenceRecord.model_validate(doc) if doc else None

    async def for_task(self, tenant_id: str, task_id: str | None, limit: int) -> list[EvidenceRecord]:
        query = {"tenant_id": tenant_id, **({"task_id": task_id} if task_id else {})}
        docs = await self.evidence.find(query).sort("signed_at", -1).to_list(limit)
        return [EvidenceRecord.model_validate(d) for d in docs]

    async def set_stamped(self, tenant_id: str, evidence_id: str, document: DocumentEvidence, session: Session) -> None:
        await self.evidence.update_one(
            {"_id": evidence_id, "tenant_id": tenant_id}, {"$set": {"document": document.model_dump()}}, session=session
        )

    async def set_anchor(self, tenant_id: str, evidence_id: str, anchor: TimelineAnchor, session: Session) -> None:
        await self.evidence.update_one(
            {"_id": evidence_id, "tenant_id": tenant_id},
            {"$set": {"timeline_anchor": anchor.model_dump()}},
            session=session,
        )

    # -- a document.stamped that overtook its document.signed --
    # Both sides write the action's one document here, so a stamp held by one replica while another records
    # the signing is a write conflict (one transaction is retried and sees the other), never a stamp left held.

    async def hold_stamp(self, tenant_id: str, action_id: str, stamped: dict, session: Session) -> None:
        await self.held_stamps.update_one(
            {"_id": f"{tenant_id}:{action_id}"},
            {"$set": {"tenant_id": tenant_id, "action_id": action_id, "event": stamped, "held_at": utcnow()}},
            upsert=True,
            session=session,
        )

    async def overdue_stamps(self, held_before: datetime, tenant_id: str | None = None, limit: int = 100) -> list[str]:
        query = {
            "event": {"$exists": True},
            "held_at": {"$lt": held_before},
            **({"tenant_id": tenant_id} if tenant_id else {}),
        }
        docs = await self.held_stamps.find(query, {"_id": 1}).limit(limit).to_list(limit)
        return [d["_id"] for d in docs]

    async def count_held_stamps(self) -> int:
        return await self.held_stamps.count_documents({"event": {"$exists": True}})

    async def release_stamp(self, held_id: str, session: Session) -> dict | None:
        """Give up holding a stamp (its signing never came); the stamp, unless it was taken meanwhile."""
        before = await self.held_stamps.find_one_and_update(
            {"_id": held_id, "event": {"$exists": True}}, {"$unset": {"event": "", "held_at": ""}}, session=session
        )
        return (before or {}).get("event")

    async def take_stamp(self, tenant_id: str, action_id: str, session: Session) -> dict | None:
        """Mark the action's signing recorded; the stamp that was held for it, if any."""
        before = await self.held_stamps.find_one_and_update(
            {"_id": f"{tenant_id}:{action_id}"},
            {
                "$set": {"tenant_id": tenant_id, "action_id": action_id, "signing_recorded": True},
                "$unset": {"event": "", "held_at": ""},
            },
            upsert=True,
            session=session,
        )
        return (before or {}).get("event")

    # -- sealed PDFs --

    async def sealed_pdf(self, tenant_id: str, pdf_id: str, session: Session | None = None) -> SealedPdf | None:
        doc = await self.sealed.find_one({"_id": pdf_id, "tenant_id": tenant_id}, session=session)
        return SealedPdf.model_validate(doc) if doc else None

    async def seals_of(self, tenant_id: str, evidence_id: str) -> list[SealedPdf]:
        docs = await self.sealed.find({"tenant_id": tenant_id, "evidence_id": evidence_id}).to_list(None)
        return [SealedPdf.model_validate(d) for d in docs]

    async def seal_by_digest(self, digest: str) -> SealedPdf | None:
        doc = await self.sealed.find_one({"digest": digest})
        return SealedPdf.model_validate(doc) if doc else None

    async def save_seal(self, sealed: SealedPdf, session: Session) -> None:
        await self.sealed.insert_one({"_id": sealed.pdf_id, **sealed.model_dump()}, session=session)

    async def put_file(self, file_id: str, data: bytes, tenant_id: str, digest: str) -> bytes:
        """Store `data` as `file_id`; the bytes stored under it (another attempt's, when that one came first)."""
        try:
            await self.files.upload_from_stream_with_id(
                file_id, f"{file_id}.pdf", data, metadata={"tenant_id": tenant_id, "sha256": digest}
            )
        except (DuplicateKeyError, FileExists):
            stored = await self.get_file(file_id)  # a concurrent attempt stored its seal first: that one counts
            if stored is None:  # its file is not whole yet: a retry of this message finds it
                raise RuntimeError(f"sealed PDF {file_id} is still being stored by another attempt") from None
            return stored
        return data

    async def get_file(self, file_id: str) -> bytes | None:
        try:
            stream = await self.files.open_download_stream(file_id)
        except NoFile:
            return None
        return await stream.read()
