"""Named dependencies for the routes: the use-case uow, the operator, idempotency keys, paging, PATCH bodies."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request
from pydantic import BaseModel

from contracts.errors import Invalid
from services.runtime.staff_auth import Staff
from services.tasks.adapters.idempotency import IdempotencyKey
from services.tasks.unit_of_work import UnitOfWork


def get_uow(request: Request) -> UnitOfWork:
    return request.app.state.service.uow


async def require_operator(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    expected = request.app.state.service.uow.settings.operator_key
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(secret.strip().encode(), expected.encode()):
        raise HTTPException(
            401,
            "Registering tenants needs the operator key as 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
Operator = Depends(require_operator)
IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retrying with the same key and body returns the first response and creates nothing twice.",
    ),
]


def idempotency(request: Request, staff: Staff, key: str | None, body: BaseModel | None) -> IdempotencyKey | None:
    if key is None:
        return None
    return IdempotencyKey.of(staff.tenant_id, f"{request.method} {request.url.path}", key, body)


class Paging(BaseModel):
    limit: int
    offset: int


# MongoDB's skip is a 64-bit integer: a larger offset must be a 422, not a driver error (a 500).
MAX_OFFSET = 1_000_000


def paging(
    limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0
) -> Paging:
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(paging)]


def page(items: list[dict], paging: Paging) -> dict:
    """Handlers fetch one item more than asked, to tell whether there is a next page."""
    more = len(items) > paging.limit
    return {
        "items": items[: paging.limit],
        "limit": paging.limit,
        "offset": paging.offset,
        "next_offset": paging.offset + paging.limit if more else None,
    }


def patch_changes(body: BaseModel, not_null: tuple[str, ...]) -> dict[str, Any]:
    """The fields a PATCH sets. Those in `not_null` cannot be emptied: sent as null, they are refused by name."""
    changes = body.model_dump(exclude_unset=True)
    if nulls := [k for k in not_null if k in changes and changes[k] is None]:
        raise Invalid(f"{', '.join(nulls)} cannot be empty", errors=[{"field": k, "message": "null"} for k in nulls])
    return changes
