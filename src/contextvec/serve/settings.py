"""One settings class for the server: every field is a `contextvec serve` flag and a CONTEXTVEC_* variable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contextvec.models.contract import DEFAULT_BACKEND, DEFAULT_PRECISION, BackendName, Precision


class ServerSettings(BaseSettings):
    """Server configuration. Flags win over environment variables, which win over these defaults."""

    model_config = SettingsConfigDict(env_prefix="CONTEXTVEC_", extra="forbid")

    models: Annotated[list[str], NoDecode] = Field(
        default=["minilm"], description="models to serve (offline names or local folders); the first is the default"
    )
    image_models: Annotated[list[str], NoDecode] = Field(
        default=[], description="image models to serve at /embed/patches (folders written by `contextvec train vit`)"
    )
    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8080, ge=0, le=65535, description="port to listen on")
    api_key: str | None = Field(
        default=None, description="require 'Authorization: Bearer KEY' on every route but /health and /metrics"
    )
    device: str = Field(default="auto", description="auto | cpu | cuda | cuda:N")
    dtype: Precision = Field(default=DEFAULT_PRECISION, description="model precision (int8: backend onnx)")
    backend: BackendName = Field(default=DEFAULT_BACKEND, description="torch | onnx (CPU) | auto (docs/backends.md)")
    batching: bool = Field(default=True, description="coalesce concurrent requests into shared forward passes")
    max_batch_texts: int = Field(default=256, ge=1, description="texts per coalesced forward call")
    max_batch_tokens: int = Field(default=16384, ge=1, description="tokens per coalesced forward call")
    max_wait_ms: float = Field(
        default=10.0,
        ge=0,
        description="under load, how long a batch may wait for as many requests as the last batch had "
        "(light traffic never waits)",
    )
    max_queue_texts: int = Field(default=4096, ge=1, description="texts waiting at most; beyond: HTTP 429")
    max_texts_per_request: int = Field(default=512, ge=1, description="texts (or spans) in one request")
    max_chars_per_text: int = Field(default=200_000, ge=1, description="characters in one text")
    max_request_bytes: int = Field(default=16_000_000, ge=1, description="request body size")
    request_timeout_s: float = Field(default=120.0, gt=0, description="time a request may wait and run")
    drain_timeout_s: float = Field(
        default=30.0, ge=0, description="on shutdown, time queued requests get to finish before they are answered 503"
    )
    max_jobs: int = Field(
        default=2, ge=1, description="explorer jobs (senses, layers) running at once; up to 4x more wait, beyond: 429"
    )
    job_chunk_texts: int = Field(
        default=16, ge=1, description="texts per model call of an explorer job (it yields to requests between calls)"
    )
    job_idle_timeout_s: float = Field(
        default=30.0, gt=0, description="an explorer job nobody has polled for this long is cancelled"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=[], description="origins allowed by CORS (none: CORS off)"
    )
    index: Path | None = Field(
        default=None, description="an index folder (contextvec index build) to answer POST /search from"
    )
    ui: bool = Field(default=False, description="also serve the web explorer at /explore (contextvec explore)")
    ui_static_model: str = Field(
        default="glove-50d", description="static model the explorer shows beside the contextual one ('' for none)"
    )
    openai_pooling: Literal["cls", "mean", "mean_all", "max", "last"] | None = Field(
        default=None, description="sentence pooling for /v1/embeddings (default: the model's sentence recipe)"
    )
    openai_normalize: bool | None = Field(
        default=None, description="unit-length vectors from /v1/embeddings (default: the model's sentence recipe)"
    )

    @field_validator("models", "cors_origins", "image_models", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @model_validator(mode="after")
    def _request_fits_queue(self) -> ServerSettings:
        if self.max_texts_per_request > self.max_queue_texts:
            raise ValueError(
                f"max_texts_per_request ({self.max_texts_per_request}) is larger than max_queue_texts "
                f"({self.max_queue_texts}): every request that large would be refused as 'busy'. Lower "
                "--max-texts-per-request or raise --max-queue-texts."
            )
        return self

    @field_validator("models")
    @classmethod
    def _at_least_one(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("serve at least one model")
        return value
