from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.runtime.config import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOMATION_", extra="ignore")

    port: int = 8005
    database: str = "akkoord_automation"
