"""A service of the run kit whose handler ends the process on a poison message, as a crash in native code
or an exhausted memory would (os._exit: no exception, no cleanup, no offset committed).

`python -m tests.support.crashing_service` with CRASHTEST_TOPIC, CRASHTEST_GROUP, CRASHTEST_PORT,
CRASHTEST_DATABASE and the infrastructure variables; every other task.created is recorded in `effects`.
"""

from __future__ import annotations

import os

from pydantic_settings import SettingsConfigDict

from contracts.messages import TaskCreated
from services.runtime.app import build_runtime, create_app, serve
from services.runtime.config import ServiceSettings
from services.runtime.consumer import Consumer
from services.runtime.registry import Handlers
from services.runtime.service import Service, UnitOfWork, handlers

POISON = "poison"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRASHTEST_", extra="ignore")

    topic: str
    group: str


async def record(event: TaskCreated, uow: UnitOfWork) -> None:
    if event.payload.task.title == POISON:
        os._exit(70)
    await uow.outbox.messages.database["effects"].insert_one({"_id": event.event_id}, session=uow.session)


def build(settings: Settings) -> Service[UnitOfWork]:
    runtime = build_runtime("crashtest", settings)
    uow = UnitOfWork(outbox=runtime.outbox)
    consumer = Consumer(
        group=settings.group,
        topics=(settings.topic,),
        handlers=handlers(uow, Handlers[UnitOfWork]().on(TaskCreated, record)),
        description="records task.created; ends the process on a poison",
    )
    return Service(runtime, uow, title="crash test", description="", routers=[], consumers=[consumer])


if __name__ == "__main__":
    settings = Settings()
    serve(create_app(build(settings)), settings, "crashtest")
