"""Runtime settings, read from the environment (and an optional `.env` file).

`DATABASE_URL` selects the database: a SQLite file in the working directory by default, PostgreSQL in production.
Secrets refuse placeholder values when `WERKMATCH_ENVIRONMENT=production`.
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
