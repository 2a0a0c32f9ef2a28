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

POISON = "poison"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRASHTEST_", extra="ignore")

    topic: str
    group: str


def build(settings: Settings):
    runtime = build_runtime("crashtest", settings)

    async def record(event: TaskCreated, session) -> None:
        if event.payload.task.title == POISON:
            os._exit(70)
        await runtime.db["effects"].insert_one({"_id": event.event_id}, session=session)

    consumer = Consumer(group=settings.group, topics=(settings.topic,), handlers={TaskCreated: record},
                        description="records task.created; ends the process on a poison")
    return create_app(runtime, title="crash test", routers=[], consumers=[consumer])


if __name__ == "__main__":
    settings = Settings()
    serve(build(settings), settings, "crashtest")
