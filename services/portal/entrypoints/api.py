"""The portal's JSON API for the signed-in contact (session cookie; `X-CSRF-Token` on every change)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from contracts.errors import NotFound
from contracts.models import FieldValue
from services.portal.domain import CONSENT_VERSION, consent_text
from services.portal.entrypoints.deps import ChangeRate, ClientDep, CsrfSessionDep, PortalDep, SessionDep
from services.portal.handlers import queries, second_factor, signing
from services.portal.handlers.signing import Submission
from services.runtime.staff_auth import InternalCaller

router = APIRouter(prefix="/api/v1", tags=["portal"])
internal = APIRouter(prefix="/internal/v1", tags=["internal"], dependencies=[InternalCaller])


class SignatureIn(BaseModel):
    kind: Literal["drawn", "typed", "uploaded"]
    png_base64: str | None = Field(None, description="PNG or JPEG, base64 (a data: URL is accepted too)")
    typed_name: str | None = Field(
        None, max_length=200, description="For kind=typed without an image: the server renders the name"
    )


class SignRequest(BaseModel):
    fields: dict[str, FieldValue] = {}
    signature: SignatureIn
    consent: bool = False
    document_digest: str | None = None
    consent_version: str | None = Field(None, description="The consent version shown (from GET /api/v1/session)")
    task_digest: str | None = Field(
        None,
        description="sign_task: the task_digest of the action as shown "
        "(GET /api/v1/actions/{id}); a changed task is refused with 409",
    )


class SignResponse(BaseModel):
    signature_id: str
    action_id: str
    task_id: str
    event_id: str
    signed_at: str
    status: Literal["completed"] = "completed"


class DeclineRequest(BaseModel):
    reason: str | None = Field(None, max_length=4000)


@router.get("/session", summary="The signed-in contact and the CSRF token for changes")
async def get_session(ctx: SessionDep, portal: PortalDep) -> dict:
    return {
        "contact": await queries.contact(portal, ctx),
        "csrf_token": ctx.csrf_token,
        "consent": {"text": consent_text(ctx.language), "version": CONSENT_VERSION},
        "auth_method": ctx.auth_method,
        "second_factor": second_factor.status(portal, ctx),
    }


class SendCodeRequest(BaseModel):
    action_id: str = Field(description="The action the code is for: wrong codes count against it")


class VerifyCodeRequest(BaseModel):
    code: str = Field(min_length=1, max_length=20)
    action_id: str = Field(description="The action the code is for: wrong codes count against it")


@router.post(
    "/session/otp",
    status_code=202,
    dependencies=[ChangeRate],
    summary="E-mail a one-time code (when the tenant asks for one)",
)
async def send_code(body: SendCodeRequest, ctx: CsrfSessionDep, portal: PortalDep) -> dict:
    sent = await second_factor.send(portal, ctx, body.action_id)
    return {"sent_to": sent.sent_to, "expires_at": sent.expires_at}


@router.post(
    "/session/otp/verify", dependencies=[ChangeRate], summary="Confirm the e-mailed code; the session may then sign"
)
async def verify_code(body: VerifyCodeRequest, ctx: CsrfSessionDep, portal: PortalDep) -> dict:
    await second_factor.verify(portal, ctx, body.action_id, body.code)
    return {"auth_method": "magic_link+otp"}


@router.get("/tasks", summary="The contact's tasks, each with its open actions")
async def list_tasks(ctx: SessionDep, portal: PortalDep) -> list[dict]:
    return await queries.tasks(portal, ctx)


@router.get("/tasks/{task_id}", summary="One task with the contact's actions and the portal timeline")
async def get_task(task_id: str, ctx: SessionDep, portal: PortalDep) -> dict:
    return await queries.task(portal, ctx, task_id)


@router.get("/actions/{action_id}", summary="One of the contact's actions")
async def get_action(action_id: str, ctx: SessionDep, portal: PortalDep) -> dict:
    return await queries.action(portal, ctx, action_id)


@router.post(
    "/actions/{action_id}/signature",
    status_code=201,
    response_model=SignResponse,
    dependencies=[ChangeRate],
    summary="Sign an open action: fields, signature image and consent (exactly once)",
)
async def sign_action(
    action_id: str, body: SignRequest, ctx: CsrfSessionDep, portal: PortalDep, client: ClientDep, response: Response
) -> SignResponse:
    signed = await signing.sign(
        portal,
        ctx,
        action_id,
        Submission(
            fields=body.fields,
            signature_kind=body.signature.kind,
            png_base64=body.signature.png_base64,
            typed_name=body.signature.typed_name,
            consent=body.consent,
            document_digest=body.document_digest,
            consent_version=body.consent_version,
            task_digest=body.task_digest,
        ),
        client,
    )
    response.headers["Location"] = f"/api/v1/actions/{action_id}"
    return SignResponse(**signed.__dict__)


@router.post("/actions/{action_id}/decline", dependencies=[ChangeRate], summary="Decline an open action, with a reason")
async def decline_action(
    action_id: str, body: DeclineRequest, ctx: CsrfSessionDep, portal: PortalDep, client: ClientDep
) -> dict:
    event_id = await signing.decline(portal, ctx, action_id, body.reason, client)
    return {"action_id": action_id, "status": "declined", "event_id": event_id}


@internal.get(
    "/signatures/{signature_id}",
    summary="A stored signature image, for Akkoord's own services",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def signature_image(signature_id: str, portal: PortalDep, tenant_id: str | None = None) -> Response:
    found = await signing.signature_image(portal, signature_id, tenant_id)
    if found is None:
        raise NotFound("No such signature.")
    image, media_type = found
    return Response(image, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
