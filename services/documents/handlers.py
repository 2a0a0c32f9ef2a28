"""Use cases: upload a document, add a version, stamp a signing onto a document."""

from __future__ import annotations

import asyncio
import hashlib

from contracts import Actor, new_id, utcnow
from contracts.errors import Invalid, NotFound, PermanentFailure
from contracts.messages import (
    ApprovalWithdrawn,
    ApprovalWithdrawnPayload,
    DocumentSigned,
    DocumentStamped,
    DocumentStampedPayload,
    DocumentUploaded,
    DocumentVersionAdded,
    DocumentVersionPayload,
)
from contracts.topics import DOCUMENTS_EVENTS
from services.documents import domain
from services.documents.adapters.pdf_inspect import inspect_pdf
from services.documents.adapters.pdf_render import render_page_png
from services.documents.adapters.pdf_stamp import Stamp, stamp_pdf
from services.documents.domain import Document, PdfFacts, Version
from services.documents.unit_of_work import UnitOfWork
from services.runtime.i18n import format_moment
from services.runtime.mongo import Session
from services.runtime.staff_auth import DEFAULT_TIME_ZONE

# A signature is a small image; anything bigger than this is not one.
MAX_SIGNATURE_BYTES = 5 * 1024 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- staff --


async def _inspect(uow: UnitOfWork, data: bytes) -> PdfFacts:
    """An uploaded PDF's pages and placeholders, refused past the configured limits (off the event loop)."""
    return await asyncio.to_thread(
        inspect_pdf,
        data,
        max_pages=uow.settings.max_pages,
        max_inflated_bytes=uow.settings.max_inflated_bytes,
        max_page_points=uow.settings.max_page_points,
        max_image_pixels=uow.settings.max_image_pixels,
    )


async def upload_document(
    uow: UnitOfWork, tenant_id: str, actor: Actor, title: str, data: bytes
) -> tuple[Document, Version]:
    title = title.strip()
    if not title:
        raise Invalid("Give the document a title.")
    facts = await _inspect(uow, data)
    now = utcnow()
    document = Document(
        document_id=new_id(),
        tenant_id=tenant_id,
        title=title[:300],
        latest_version_id="",
        version_count=1,
        created_at=now,
        updated_at=now,
    )
    version = Version(
        version_id=new_id(),
        document_id=document.document_id,
        tenant_id=tenant_id,
        version=1,
        digest=sha256(data),
        size=len(data),
        pages=facts.pages,
        placeholders=facts.placeholders,
        created_at=now,
    )
    document = document.model_copy(update={"latest_version_id": version.version_id})
    await uow.store.put_pdf(version.version_id, data, tenant_id, version.digest)

    async def work(session: Session) -> None:
        await uow.store.create_document(document, session)
        await uow.store.add_version(version, session)
        await uow.outbox.add(
            session,
            DOCUMENTS_EVENTS,
            DocumentUploaded(tenant_id=tenant_id, actor=actor, payload=_payload(document, version)),
        )

    await uow.outbox.transaction(work)
    return document, version


async def add_version(uow: UnitOfWork, tenant_id: str, actor: Actor, document_id: str, data: bytes) -> Version:
    if await uow.store.document(tenant_id, document_id) is None:
        raise NotFound(f"No document {document_id}.")
    facts = await _inspect(uow, data)
    version_id = new_id()
    digest = sha256(data)
    await uow.store.put_pdf(version_id, data, tenant_id, digest)

    async def work(session: Session) -> Version:
        document = await uow.store.claim_next_version(tenant_id, document_id, version_id, session)
        if document is None:
            raise NotFound(f"No document {document_id}.")
        version = Version(
            version_id=version_id,
            document_id=document_id,
            tenant_id=tenant_id,
            version=document.version_count,
            digest=digest,
            size=len(data),
            pages=facts.pages,
            placeholders=facts.placeholders,
            created_at=utcnow(),
        )
        await uow.store.add_version(version, session)
        await uow.outbox.add(
            session,
            DOCUMENTS_EVENTS,
            DocumentVersionAdded(tenant_id=tenant_id, actor=actor, payload=_payload(document, version)),
        )
        await _withdraw_approvals(uow, tenant_id, actor, document_id, version.version, session)
        return version

    return await uow.outbox.transaction(work)


async def _withdraw_approvals(
    uow: UnitOfWork, tenant_id: str, actor: Actor, document_id: str, new_version: int, session: Session
) -> None:
    """A new upload of a signed document means the signer never approved what it now says."""
    for signed in await uow.store.signed_and_standing(tenant_id, document_id, session):
        await uow.store.mark_withdrawn(signed.version_id, session)
        await uow.outbox.add(
            session,
            DOCUMENTS_EVENTS,
            ApprovalWithdrawn(
                tenant_id=tenant_id,
                task_id=signed.task_id,
                actor=actor,
                payload=ApprovalWithdrawnPayload(
                    document_id=document_id, action_id=signed.action_id, reason=domain.withdrawal_reason(new_version)
                ),
            ),
        )


# -- reads shared by staff and internal callers --


async def document_with_versions(uow: UnitOfWork, tenant_id: str, document_id: str) -> tuple[Document, list[Version]]:
    document = await uow.store.document(tenant_id, document_id)
    if document is None:
        raise NotFound(f"No document {document_id}.")
    return document, await uow.store.versions_of(tenant_id, document_id)


async def pdf(uow: UnitOfWork, tenant_id: str, document_id: str, version_id: str) -> tuple[Version, bytes]:
    version = await uow.store.version(tenant_id, document_id, version_id)
    data = await uow.store.get_pdf(version_id) if version else None
    if version is None or data is None:
        raise NotFound(f"No version {version_id} of document {document_id}.")
    return version, data


async def page_png(
    uow: UnitOfWork, tenant_id: str, document_id: str, version_id: str, page: int, scale: int = 1
) -> bytes:
    """A page at `scale` times 72 dpi (2 for high-density screens, 3 to zoom), rendered once per scale."""
    version = await uow.store.version(tenant_id, document_id, version_id)
    if version is None:
        raise NotFound(f"No version {version_id} of document {document_id}.")
    if not 1 <= page <= version.pages:
        raise NotFound(f"The document has no page {page}; it has {version.pages}.")
    if (cached := await uow.store.preview(version_id, page, scale)) is not None:
        return cached
    _, data = await pdf(uow, tenant_id, document_id, version_id)
    png = await asyncio.to_thread(render_page_png, data, page, scale, max_bitmap_bytes=uow.settings.max_render_bytes)
    await uow.store.save_preview(version_id, page, png, scale)
    return png


# -- portal.events --


async def stamp_signed_document(event: DocumentSigned, uow: UnitOfWork) -> None:
    """Draw the signature, name, date and fields at the document's tags (or on an added page)."""
    p = event.payload
    if await uow.store.stamped_for(event.tenant_id, p.action_id, uow.tx) is not None:
        return  # one stamped version per signed action, however often it is announced
    source = await uow.store.version(event.tenant_id, p.document_id, p.document_version_id, uow.tx)
    document = await uow.store.document(event.tenant_id, p.document_id, uow.tx)
    if source is None or document is None:
        raise PermanentFailure(f"unknown document {p.document_id} version {p.document_version_id}")
    if not domain.digest_matches(p.document_digest, source.digest):
        raise PermanentFailure(f"signed digest {p.document_digest} is not version {source.version_id}'s")
    data = await uow.store.get_pdf(source.version_id)
    if data is None:
        raise PermanentFailure(f"the PDF of version {source.version_id} is missing")
    image = await uow.signatures.get(p.signature.image_url, max_bytes=MAX_SIGNATURE_BYTES)
    if len(p.signature.image_digest.removeprefix("sha256:")) == 64 and not domain.digest_matches(
        p.signature.image_digest, sha256(image)
    ):
        raise PermanentFailure(f"signature image {p.signature.signature_id} does not match its digest")
    stamp = Stamp(
        signature_png=image,
        signer_name=p.signer.name,
        signed_at=format_moment(p.evidence.signed_at, p.language, await _time_zone(uow, event.tenant_id, uow.tx)),
        fields={k: domain.format_field_value(v, p.language) for k, v in p.fields.items()},
        source_digest=source.digest,
        title=document.title,
        language=p.language,
    )
    try:
        stamped = await asyncio.to_thread(stamp_pdf, data, source.placeholders, stamp)
    except Exception as exc:  # a PDF that opened on upload but cannot be stamped will never be
        raise PermanentFailure(f"cannot stamp version {source.version_id}: {exc!r}") from exc
    version_id = domain.stamped_version_id(event.tenant_id, p.action_id)
    await uow.store.put_pdf(version_id, stamped.pdf, event.tenant_id, sha256(stamped.pdf))
    # A retried transaction may find the bytes of an earlier attempt stored: describe those.
    digest = sha256(await uow.store.get_pdf(version_id) or stamped.pdf)
    # The timelines show the signed page right away: render it now rather than on their first read.
    png = await asyncio.to_thread(
        render_page_png, stamped.pdf, stamped.signed_page, max_bitmap_bytes=uow.settings.max_render_bytes
    )
    await uow.store.save_preview(version_id, stamped.signed_page, png)
    document = await uow.store.claim_next_version(event.tenant_id, p.document_id, version_id, uow.tx)
    if document is None:  # read above in this transaction, so not gone
        raise PermanentFailure(f"unknown document {p.document_id}")
    version = Version(
        version_id=version_id,
        document_id=p.document_id,
        tenant_id=event.tenant_id,
        version=document.version_count,
        digest=digest,
        size=len(stamped.pdf),
        pages=stamped.pages,
        source="stamped",
        stamped_from=source.version_id,
        action_id=p.action_id,
        task_id=event.task_id,
        signed_event_id=event.event_id,
        created_at=utcnow(),
    )
    await uow.store.add_version(version, uow.tx)
    await uow.outbox.add(
        uow.tx,
        DOCUMENTS_EVENTS,
        DocumentStamped(
            **event.caused(),
            actor=event.actor,
            payload=DocumentStampedPayload(
                document_id=p.document_id,
                action_id=p.action_id,
                source_version_id=source.version_id,
                version_id=version_id,
                digest=digest,
                signed_event_id=event.event_id,
                pdf_url=internal_url(uow, event.tenant_id, p.document_id, version_id, "pdf"),
                preview_url=internal_url(
                    uow, event.tenant_id, p.document_id, version_id, f"pages/{stamped.signed_page}.png"
                ),
            ),
        ),
    )


async def _time_zone(uow: UnitOfWork, tenant_id: str, session: Session | None = None) -> str:
    return await uow.tenants.time_zone(tenant_id, session) if uow.tenants else DEFAULT_TIME_ZONE


def internal_url(uow: UnitOfWork, tenant_id: str, document_id: str, version_id: str, leaf: str) -> str:
    return (
        f"{uow.settings.documents_url}/internal/v1/documents/{document_id}/versions/{version_id}/{leaf}"
        f"?tenant_id={tenant_id}"
    )


def _payload(document: Document, version: Version) -> DocumentVersionPayload:
    return DocumentVersionPayload(
        document_id=document.document_id,
        title=document.title,
        version_id=version.version_id,
        version=version.version,
        digest=version.digest,
        pages=version.pages,
        placeholders=version.placeholders,
    )
