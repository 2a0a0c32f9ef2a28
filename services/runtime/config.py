"""Settings every service shares: infrastructure addresses and the shared secrets."""

from __future__ import annotations

from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.runtime.mail import LOCAL_SINK_URL, SmtpTarget

DEV_SECRET = "development-only-secret"


class ServiceSettings(BaseSettings):
    """Base for each service's Settings; subclasses set an env prefix (TASKS_, PORTAL_, ...)."""

    # A refused setting must not print the environment it was read from (secrets) into the logs.
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    # Unset means production: the development placeholders work only when development is asked for by name
    # (`make run` and the tests do), so a deployment that forgets AKKOORD_ENV cannot run on them.
    environment: Literal["development", "production"] = Field("production", validation_alias="AKKOORD_ENV")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    mongodb_uri: str = Field("mongodb://127.0.0.1:27017/?directConnection=true", validation_alias="MONGODB_URI")
    otel_exporter_otlp_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    # Server-to-server reads between services carry this token.
    internal_token: str = Field(DEV_SECRET, validation_alias="AKKOORD_INTERNAL_TOKEN", repr=False)
    # Where the services reach each other; the portal has a public address (magic links) and an
    # internal one (references in events, read with the internal token — never through the ingress).
    portal_url: str = Field("http://127.0.0.1:8000", validation_alias="AKKOORD_PORTAL_URL")
    portal_internal_url: str = Field("", validation_alias="AKKOORD_PORTAL_INTERNAL_URL")  # default: portal_url
    tasks_url: str = Field("http://127.0.0.1:8001", validation_alias="AKKOORD_TASKS_URL")
    signing_url: str = Field("http://127.0.0.1:8002", validation_alias="AKKOORD_SIGNING_URL")
    documents_url: str = Field("http://127.0.0.1:8003", validation_alias="AKKOORD_DOCUMENTS_URL")
    timeline_url: str = Field("http://127.0.0.1:8004", validation_alias="AKKOORD_TIMELINE_URL")
    automation_url: str = Field("http://127.0.0.1:8005", validation_alias="AKKOORD_AUTOMATION_URL")
    # One SMTP path for the system (services/runtime/mail.py). Unset in development: the local sink.
    smtp_url: str | None = Field(None, validation_alias="AKKOORD_SMTP_URL", repr=False)
    mail_from: str = Field("Akkoord <no-reply@akkoord.localhost>", validation_alias="AKKOORD_MAIL_FROM")
    host: str = "127.0.0.1"
    port: int = 8000
    # /metrics, /docs, /redoc, /openapi.json, /asyncapi.json (and health) listen here, never on `port`:
    # the public ingress routes `port` only. Unset: `port` + 100 (8100 for the portal ... 8105 for automation).
    ops_host: str = ""  # unset: `host`
    ops_port: int = 0
    database: str = "akkoord"
    consumer_max_attempts: int = 5
    # Every request body is refused with 413 past this many bytes (`<SERVICE>_MAX_BODY_BYTES`); routes
    # that take uploads name their own limit in `route_body_limits`.
    max_body_bytes: int = Field(1024 * 1024, ge=0)

    secret_fields: tuple[str, ...] = ("internal_token",)
    # A service that sends mail refuses to start in production without AKKOORD_SMTP_URL.
    sends_mail: ClassVar[bool] = False

    @property
    def mail_url(self) -> str:
        return self.smtp_url or LOCAL_SINK_URL

    @property
    def route_body_limits(self) -> dict[str, int]:
        """Body limits of the routes (path templates) that take more than `max_body_bytes`."""
        return {}

    @property
    def service_hosts(self) -> set[str]:
        """Hosts that run Akkoord's services: the only ones the internal token is sent to."""
        urls = (
            self.portal_internal_url,
            self.tasks_url,
            self.signing_url,
            self.documents_url,
            self.timeline_url,
            self.automation_url,
        )
        return {host for u in urls if (host := urlsplit(u).hostname)}

    @model_validator(mode="after")
    def _ops_port_defaults_beside_the_port(self) -> ServiceSettings:
        if not self.ops_port:
            self.ops_port = self.port + 100
        return self

    @model_validator(mode="after")
    def _portal_internal_url_defaults_to_the_public_one(self) -> ServiceSettings:
        if not self.portal_internal_url:
            self.portal_internal_url = self.portal_url
        return self

    def _variable(self, name: str) -> str:
        """The environment variable that sets field `name`, so the refusal says what to set."""
        field = type(self).model_fields[name]
        if isinstance(field.validation_alias, str):
            return field.validation_alias
        return f"{self.model_config.get('env_prefix', '')}{name}".upper()

    @model_validator(mode="after")
    def _no_placeholder_secrets_outside_development(self) -> ServiceSettings:
        if self.environment != "development":
            weak = [
                name
                for name in self.secret_fields
                if getattr(self, name) in (DEV_SECRET, "", "changethis") or len(getattr(self, name)) < 32
            ]
            if weak:
                raise ValueError(
                    f"refusing to start outside development with placeholder or short secrets: set real secrets "
                    f"(32+ characters) for {', '.join(self._variable(n) for n in weak)}, or set "
                    f"AKKOORD_ENV=development explicitly to run on the development defaults"
                )
        return self

    @model_validator(mode="after")
    def _mail_needs_a_server_in_production(self) -> ServiceSettings:
        if self.sends_mail and self.environment != "development" and not self.smtp_url:
            raise ValueError(
                "this service sends mail: set AKKOORD_SMTP_URL (smtp://user:password@host:587 or "
                "smtps://host:465) outside development"
            )
        if self.smtp_url:
            SmtpTarget.parse(self.smtp_url)
        return self
