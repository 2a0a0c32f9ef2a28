"""Documents, versions and previews in MongoDB; PDF bytes in GridFS. Every query carries tenant_id."""

from __future__ import annotations

from bson import Binary
from gridfs import AsyncGridFSBucket
from gridfs.errors import FileExists, NoFile
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts import utcnow
from services.documents.domain import Document, Version
from services.runtime.mongo import Session


class DocumentStore:
    def __init__(self, db: AsyncDatabase):
        self.documents = db["documents"]
        self.versions = db["versions"]
        self.previews = db["previews"]
        self.db = db
        self.files_meta = db["pdfs.files"]

    @property
    def files(self) -> AsyncGridFSBucket:
        # Built on use, not in bootstrap: the bucket binds to the running event loop when created.
        return AsyncGridFSBucket(self.db, bucket_name="pdfs")

    async def ensure_indexes(self) -> None:
        await self.documents.create_index([("tenant_id", 1), ("updated_at", -1)])
        await self.versions.create_index([("tenant_id", 1), ("document_id", 1), ("version", 1)], unique=True)
        # One stamped version per signed action, however often the signed event is delivered.
        await self.versions.create_index(
            [("tenant_id", 1), ("action_id", 1)],
            unique=True,
            partialFilterExpression={"action_id": {"$type": "string"}},
        )

    # -- bytes --

    async def put_pdf(self, file_id: str, data: bytes, tenant_id: str, digest: str) -> None:
        """Store PDF bytes under `file_id`; storing the same id again is a no-op (retries are safe)."""
        if await self.files_meta.find_one({"_id": file_id}, {"_id": 1}):
            return
        try:
            await self.files.upload_from_stream_with_id(
                file_id, f"{file_id}.pdf", data, metadata={"tenant_id": tenant_id, "sha256": digest}
            )
        except (DuplicateKeyError, FileExists):
            pass  # a concurrent attempt stored the same bytes first

    async def get_pdf(self, file_id: str) -> bytes | None:
        try:
            stream = await self.files.open_download_stream(file_id)
        except NoFile:
            return None
        return await stream.read()

    # -- documents and versions --

    async def create_document(self, document: Document, session: Session) -> None:
        await self.documents.insert_one({"_id": document.document_id, **document.model_dump()}, session=session)

    async def claim_next_version(
        self, tenant_id: str, document_id: str, version_id: str, session: Session
    ) -> Document | None:
        """Bump the document's version count and point it at `version_id`; None if it does not exist."""
        doc = await self.documents.find_one_and_update(
            {"_id": document_id, "tenant_id": tenant_id},
            {"$inc": {"version_count": 1}, "$set": {"latest_version_id": version_id, "updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return _document(doc)

    async def add_version(self, version: Version, session: Session) -> None:
        await self.versions.insert_one({"_id": version.version_id, **version.model_dump()}, session=session)

    async def document(self, tenant_id: str, document_id: str, session: Session | None = None) -> Document | None:
        return _document(await self.documents.find_one({"_id": document_id, "tenant_id": tenant_id}, session=session))

    async def list_documents(self, tenant_id: str, limit: int, before=None) -> list[Document]:
        query: dict = {"tenant_id": tenant_id}
        if before is not None:
            query["updated_at"] = {"$lt": before}
        docs = await self.documents.find(query).sort("updated_at", -1).to_list(limit)
        return [Document.model_validate(d) for d in docs]

    async def version(
        self, tenant_id: str, document_id: str, version_id: str, session: Session | None = None
    ) -> Version | None:
        doc = await self.versions.find_one(
            {"_id": version_id, "tenant_id": tenant_id, "document_id": document_id}, session=session
        )
        return _version(doc)

    async def versions_of(self, tenant_id: str, document_id: str) -> list[Version]:
        docs = (
            await self.versions.find({"tenant_id": tenant_id, "document_id": document_id})
            .sort("version", 1)
            .to_list(None)
        )
        return [Version.model_validate(d) for d in docs]

    async def signed_and_standing(self, tenant_id: str, document_id: str, session: Session) -> list[Version]:
        docs = await self.versions.find(
            {"tenant_id": tenant_id, "document_id": document_id, "source": "stamped", "withdrawn_at": None},
            session=session,
        ).to_list(None)
        return [Version.model_validate(d) for d in docs]

    async def mark_withdrawn(self, version_id: str, session: Session) -> None:
        await self.versions.update_one({"_id": version_id}, {"$set": {"withdrawn_at": utcnow()}}, session=session)

    async def stamped_for(self, tenant_id: str, action_id: str, session: Session | None = None) -> Version | None:
        return _version(await self.versions.find_one({"tenant_id": tenant_id, "action_id": action_id}, session=session))

    # -- previews, cached after the first render --

    async def preview(self, version_id: str, page: int, scale: int = 1) -> bytes | None:
        doc = await self.previews.find_one({"_id": _preview_id(version_id, page, scale)})
        return bytes(doc["png"]) if doc else None

    async def save_preview(self, version_id: str, page: int, png: bytes, scale: int = 1) -> None:
        await self.previews.update_one(
            {"_id": _preview_id(version_id, page, scale)},
            {"$setOnInsert": {"png": Binary(png), "at": utcnow()}},
            upsert=True,
        )


def _preview_id(version_id: str, page: int, scale: int) -> str:
    # 1x keeps the key it always had, so previews cached before scales existed are still found.
    return f"{version_id}:{page}" if scale == 1 else f"{version_id}:{page}@{scale}x"


def _document(doc: dict | None) -> Document | None:
    return Document.model_validate(doc) if doc else None


def _version(doc: dict | None) -> Version | None:
    return Version.model_validate(doc) if doc else None
