from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.signing.handlers import SigningHandlers


def get_handlers(request: Request) -> SigningHandlers:
    return request.app.state.signing


Handlers = Annotated[SigningHandlers, Depends(get_handlers)]
