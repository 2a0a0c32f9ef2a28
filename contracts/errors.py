"""Domain errors every service raises the same way; the HTTP edge maps each to its status."""

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status, title = 404, "Not found"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class Invalid(DomainError):
    status, title = 422, "Invalid request"


class PermanentFailure(DomainError):
    """An event that can never be handled (unknown reference, broken input): straight to the DLQ."""

    status, title = 422, "Cannot be processed"


class Unavailable(DomainError):
    """Something the request needs is away for now (a mail server, say): the same request may work later."""

    status, title = 503, "Unavailable for now"
