"""Runtime settings, read from the environment (and an optional `.env` file).

`DATABASE_URL` selects the database: a SQLite file in the working directory by default, PostgreSQL in
production. Secrets refuse placeholder values when `WERKMATCH_ENVIRONMENT=production`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "werkmatch-development-secret-change-me"


def normalise_database_url(url: str) -> str:
    """Map plain `postgresql://` URLs to the psycopg 3 driver that werkmatch ships with."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    """All configuration of a werkmatch process."""

    model_config = SettingsConfigDict(env_prefix="WERKMATCH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./werkmatch.db",
        validation_alias=AliasChoices("DATABASE_URL", "WERKMATCH_DATABASE_URL"),
    )
    environment: Literal["development", "test", "production"] = "development"
    secret_key: str = Field(default=PLACEHOLDER_SECRET, min_length=16)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    cors_origins: list[str] = Field(default_factory=list)
    docs_enabled: bool = True
    index_poll_seconds: float = Field(default=0.25, gt=0, le=60)
    # `werkmatch serve`/`demo` build the match index in the background at start, so no request waits for it.
    warm_index_on_start: bool = False
    # Privacy and security (issue 5; see service/security/ and service/gdpr/).
    retention_days: int | None = Field(
        default=None,
        ge=1,
        le=36500,
        description="Inactive candidates are erased this many days after their "
        "last change (`werkmatch retention run`); unset: never.",
    )
    audit_retention_days: int = Field(
        default=730,
        ge=183,
        le=36500,
        description="Audit entries are kept at least this long (never < 183 days).",
    )
    rate_limit_per_minute: int = Field(default=600, ge=1, le=1_000_000)
    rate_limit_burst: int = Field(default=120, ge=1, le=1_000_000)
    auth_failure_limit_per_minute: int = Field(default=10, ge=1, le=10_000)
    auth_failure_burst: int = Field(default=20, ge=1, le=10_000)

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        return normalise_database_url(value)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError("WERKMATCH_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own `Settings`)."""
    return Settings()
