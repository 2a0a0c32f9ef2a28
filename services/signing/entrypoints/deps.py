from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.signing.unit_of_work import UnitOfWork


def get_uow(request: Request) -> UnitOfWork:
    return request.app.state.service.uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
