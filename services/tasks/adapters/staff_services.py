"""The console's reads and writes of the other services' staff APIs, as the signed-in user of one tenant.

Each request carries the internal token (the caller is Akkoord) and the user's tenant, id, name and role
(from the server-side session, never from the browser); `services.runtime.staff_auth` accepts them as a
staff credential for that tenant, so every tenant check the services make for API keys holds here too.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

import httpx

from contracts.errors import DomainError, Invalid, NotFound
from services.runtime.staff_auth import ROLE_HEADER, TENANT_HEADER, USER_HEADER, USER_NAME_HEADER, Staff
from services.tasks.config import Settings

Service = Literal["documents", "timeline", "automation", "signing"]


class Unavailable(DomainError):
    status, title = 503, "Service unavailable"


class StaffServices:
    def __init__(self, settings: Settings, timeout: float = 15.0):
        self.base = {
            "documents": settings.documents_url,
            "timeline": settings.timeline_url,
            "automation": settings.automation_url,
            "signing": settings.signing_url,
        }
        self.token = settings.internal_token
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _headers(self, staff: Staff) -> dict[str, str]:
        return {
            "X-Internal-Token": self.token,
            TENANT_HEADER: staff.tenant_id,
            USER_HEADER: staff.user_id or "",
            USER_NAME_HEADER: quote(staff.user_name or ""),
            ROLE_HEADER: staff.role,
        }

    async def request(self, staff: Staff, method: str, service: Service, path: str, **kwargs: Any) -> httpx.Response:
        if not path.startswith("/v1/"):
            raise NotFound("not a staff API path")  # only staff routes: never /internal/ on a user's behalf
        try:
            response = await self.client.request(
                method, self.base[service].rstrip("/") + path, headers=self._headers(staff), **kwargs
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"{service} did not answer ({type(exc).__name__})") from None
        if response.status_code == 404:
            raise NotFound(_detail(response, "not found"))
        if response.status_code in (400, 409, 413, 415, 422):
            raise Invalid(_detail(response, "refused"), errors=_errors(response))
        if response.status_code >= 400:
            raise Unavailable(f"{service} answered {response.status_code}")
        return response

    async def json(self, staff: Staff, method: str, service: Service, path: str, **kwargs: Any) -> Any:
        response = await self.request(staff, method, service, path, **kwargs)
        return response.json() if response.content else None


def _detail(response: httpx.Response, fallback: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return fallback
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else fallback


def _errors(response: httpx.Response) -> list:
    try:
        body = response.json()
    except ValueError:
        return []
    return body.get("errors", []) if isinstance(body, dict) else []
