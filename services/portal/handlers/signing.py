"""Sign or decline an open action: validate, store the signature and evidence, emit the event — one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pymongo.errors import DuplicateKeyError

from contracts import Actor, Envelope, new_id
from contracts.errors import Conflict, Invalid
from contracts.messages import ActionDeclined, DocumentSigned, TaskSigned
from contracts.models import Evidence, FieldSpec, FieldValue, SignatureRef, Signer, TaskSnapshot
from contracts.topics import PORTAL_EVENTS
from services.portal import domain
from services.portal.adapters import images
from services.portal.domain import SessionContext
from services.portal.handlers import second_factor
from services.portal.unit_of_work import UnitOfWork
from services.runtime.mongo import Session


@dataclass(frozen=True)
class Submission:
    fields: dict[str, FieldValue]
    signature_kind: Literal["drawn", "typed", "uploaded"]
    png_base64: str | None
    typed_name: str | None
    consent: bool
    document_digest: str | None = None
    consent_version: str | None = None
    task_digest: str | None = None


@dataclass(frozen=True)
class Client:
    ip: str
    user_agent: str


@dataclass(frozen=True)
class Signed:
    signature_id: str
    action_id: str
    task_id: str
    event_id: str
    signed_at: str


async def _collect(errors: list[dict], check, *args):
    """Run a check (sync or async); on Invalid, keep its errors and carry on."""
    try:
        result = check(*args)
        return await result if asyncio.iscoroutine(result) else result
    except Invalid as exc:
        errors.extend(exc.extra.get("errors") or [{"field": "body", "message": exc.detail}])
        return None


async def _image(uow: UnitOfWork, submission: Submission) -> bytes:
    if submission.signature_kind == "typed" and not submission.png_base64:
        return await asyncio.to_thread(images.render_typed_signature, submission.typed_name or "")
    raw, _ = domain.decode_signature_image(submission.png_base64, uow.settings.max_signature_bytes)
    return await asyncio.to_thread(images.normalise_signature, raw)


async def _origin(uow: UnitOfWork, ctx: SessionContext, action: dict) -> tuple[Signer, TaskSnapshot, dict]:
    """Who signs, the task as the portal knows it, and the envelope fields continuing the request's story."""
    contact = await uow.store.contact(ctx.tenant_id, ctx.contact_id) or {}
    task = await uow.store.task(ctx.tenant_id, action["task_id"]) or {}
    signer = Signer(contact_id=ctx.contact_id, name=contact.get("name", ""), email=contact.get("email", ""))
    snapshot = TaskSnapshot(
        task_id=action["task_id"],
        title=task.get("title", ""),
        description=task.get("description", ""),
        phase=task.get("phase", ""),
        contact_id=task.get("contact_id"),
    )
    actor = Actor(kind="contact", id=ctx.contact_id, name=signer.name or None)
    envelope = {
        "tenant_id": ctx.tenant_id,
        "task_id": action["task_id"],
        "actor": actor,
        "correlation_id": action.get("correlation_id") or new_id(),
        "causation_id": action.get("requested_event_id"),
        "causation_depth": action.get("causation_depth", 0),
    }
    return signer, snapshot, envelope


async def sign(uow: UnitOfWork, ctx: SessionContext, action_id: str, submission: Submission, client: Client) -> Signed:
    action = domain.ensure_actionable(await uow.store.action(ctx.tenant_id, action_id), ctx)
    domain.ensure_document_unchanged(action, submission.document_digest)
    shown = domain.task_digest(await uow.store.task(ctx.tenant_id, action["task_id"]) or {}, action)
    domain.ensure_task_unchanged(action, shown, submission.task_digest)
    domain.ensure_consent_current(submission.consent_version)
    second_factor.ensure(uow, ctx, action)
    # Every problem with the submission at once, so a form can show them all together.
    errors: list[dict] = []
    fields = await _collect(
        errors,
        domain.clean_fields,
        [FieldSpec.model_validate(f) for f in action.get("fields", [])],
        submission.fields,
    )
    await _collect(errors, domain.require_consent, submission.consent)
    image = await _collect(errors, _image, uow, submission)
    if errors:
        raise Invalid("; ".join(e["message"] for e in errors), errors=errors)
    signer, task, envelope = await _origin(uow, ctx, action)

    signature_id, now = new_id(), uow.clock()
    ref = SignatureRef(
        signature_id=signature_id,
        kind=submission.signature_kind,
        image_digest=domain.digest(image),
        media_type="image/png",
        image_url=f"{uow.settings.own_internal_url}/internal/v1/signatures/{signature_id}",
    )
    evidence = Evidence(
        signed_at=now,
        ip=client.ip,
        user_agent=client.user_agent[:512],
        session_id=ctx.session_id,
        auth_method=ctx.auth_method,
        consent_text=domain.consent_text(ctx.language),
        consent_version=domain.CONSENT_VERSION,
        task_digest=shown if action["kind"] == "sign_task" else None,
    )
    payload = dict(
        action_id=action_id,
        signer=signer,
        fields=fields,
        signature=ref,
        evidence=evidence,
        task=task,
        language=ctx.language,
    )
    message: DocumentSigned | TaskSigned
    if action["kind"] == "sign_document":
        message = DocumentSigned(
            **envelope,
            payload=dict(
                **payload,
                document_id=action.get("document_id") or "",
                document_version_id=action.get("document_version_id") or "",
                document_digest=action.get("document_digest") or "",
            ),
        )
    else:
        message = TaskSigned(**envelope, payload=payload)

    async def record(session: Session) -> None:
        await uow.store.add_signature(
            {
                "_id": signature_id,
                "action_id": action_id,
                "tenant_id": ctx.tenant_id,
                "contact_id": ctx.contact_id,
                "task_id": action["task_id"],
                "kind": submission.signature_kind,
                "media_type": "image/png",
                "image_digest": ref.image_digest,
                "fields": fields,
                "evidence": evidence.model_dump(),
                "document_digest": submission.document_digest,
                "event_id": message.event_id,
                "created_at": now,
            },
            image,
            session,
        )

    await _close(uow, ctx, action_id, ("completed", "signed"), now, message, record)
    return Signed(signature_id, action_id, action["task_id"], message.event_id, now.isoformat())


async def decline(uow: UnitOfWork, ctx: SessionContext, action_id: str, reason: str | None, client: Client) -> str:
    action = domain.ensure_actionable(await uow.store.action(ctx.tenant_id, action_id), ctx)
    second_factor.ensure(uow, ctx, action)
    text = domain.clean_reason(reason)
    _, _, envelope = await _origin(uow, ctx, action)
    now = uow.clock()
    message = ActionDeclined(
        **envelope,
        payload=dict(action_id=action_id, contact_id=ctx.contact_id, kind=action["kind"], reason=text, declined_at=now),
    )

    async def record(session: Session) -> None:
        await uow.store.add_decline(
            {
                "action_id": action_id,
                "tenant_id": ctx.tenant_id,
                "contact_id": ctx.contact_id,
                "reason": text,
                "at": now,
                "ip": client.ip,
                "user_agent": client.user_agent[:512],
                "session_id": ctx.session_id,
                "event_id": message.event_id,
            },
            session,
        )

    await _close(uow, ctx, action_id, ("declined", "declined"), now, message, record)
    return message.event_id


async def _close(
    uow: UnitOfWork,
    ctx: SessionContext,
    action_id: str,
    status: tuple[str, str],  # the action's new status, and the word for a repeat's refusal
    now: datetime,
    message: Envelope,
    record: Callable[[Session], Awaitable[None]],
) -> None:
    """The submission's record, the closed action and its event in one transaction. A repeat is refused by the
    record's unique key; a submission for an action closed meanwhile is refused too."""
    closed, word = status

    async def work(session: Session) -> None:
        await record(session)
        if not await uow.store.close_action(ctx.tenant_id, action_id, closed, now, session):
            raise Conflict("This action is no longer open.", code="not_open")
        await uow.outbox.add(session, PORTAL_EVENTS, message)

    try:
        await uow.outbox.transaction(work)
    except DuplicateKeyError:
        raise Conflict(f"This action is already {word}.", code=f"already_{word}") from None


async def signature_image(uow: UnitOfWork, signature_id: str, tenant_id: str | None) -> tuple[bytes, str] | None:
    doc = await uow.store.signature_image(signature_id)
    if doc is None or (tenant_id and doc["tenant_id"] != tenant_id):
        return None
    return bytes(doc["image"]), doc.get("media_type", "image/png")
