from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.runtime.config import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SIGNING_", extra="ignore")

    port: int = 8002
    database: str = "akkoord_signing"
    # The seal's key material: a PKCS#12 file, or a PEM key + certificate (chain) pair. In development,
    # when neither is set, a P-256 key and a self-signed certificate are made on first start.
    seal_pkcs12_path: Path | None = None
    seal_pkcs12_password: str = Field("", repr=False)
    seal_key_path: Path | None = None
    seal_key_password: str = Field("", repr=False)
    seal_cert_path: Path | None = None
    # An RFC 3161 timestamp authority upgrades seals to PAdES B-T. While it does not answer, seals wait
    # (retried as an outage, then dead-lettered): none is made without the timestamp asked for.
    seal_tsa_url: str | None = None
    seal_tsa_timeout_seconds: float = 10.0
    # A document.stamped that arrives before its document.signed is held this long for it, then
    # dead-lettered (to replay once the signing is there); the holds are looked at every check interval.
    hold_stamp_seconds: float = Field(600.0, ge=0)
    hold_check_seconds: float = Field(30.0, gt=0)
    # The public verify endpoint: a file past max_verify_bytes is refused (413) before more is read; each
    # client may ask verify_rate (a `limits` string, per replica); at most verify_workers checks run at
    # once (in worker processes), verify_queue more wait, the rest get 503; a check past
    # verify_timeout_seconds is stopped (504).
    max_verify_bytes: int = 25 * 1024 * 1024
    verify_rate: str = "20/minute"
    verify_workers: int = Field(2, ge=1)
    verify_queue: int = Field(4, ge=0)
    verify_timeout_seconds: float = Field(20.0, gt=0)
    fetch_timeout_seconds: float = 15.0

    @property
    def route_body_limits(self) -> dict[str, int]:
        return {"/v1/verify": self.max_verify_bytes + 64 * 1024}  # the file plus its multipart framing

    @property
    def seal_configured(self) -> bool:
        return self.seal_pkcs12_path is not None or (self.seal_key_path is not None and self.seal_cert_path is not None)

    @model_validator(mode="after")
    def _production_needs_real_key_material(self):
        if self.environment != "development" and not self.seal_configured:
            raise ValueError(
                "set SIGNING_SEAL_PKCS12_PATH (or SIGNING_SEAL_KEY_PATH and SIGNING_SEAL_CERT_PATH) "
                "outside development: the generated development seal is not trusted by anyone"
            )
        return self
