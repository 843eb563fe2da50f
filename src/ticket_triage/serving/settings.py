"""Settings of the HTTP service, read once from the environment (``TRIAGE_`` prefix).

============================  ===================================  ============================
setting                       environment variable                 default
============================  ===================================  ============================
``model_dir``                 ``TRIAGE_MODEL_DIR``                 required: the artifact
``rules_file``                ``TRIAGE_RULES_FILE``                built-in rules (``routing``)
``api_token``                 ``TRIAGE_API_TOKEN``                 none: feedback is open
``protect_triage``            ``TRIAGE_PROTECT_TRIAGE``            false: triage stays open
``max_text_bytes``            ``TRIAGE_MAX_TEXT_BYTES``            32768 (subject + body)
``max_body_bytes``            ``TRIAGE_MAX_BODY_BYTES``            131072 (413 beyond)
``max_batch_body_bytes``      ``TRIAGE_MAX_BATCH_BODY_BYTES``      8388608 (a batch, a webhook)
``max_batch``                 ``TRIAGE_MAX_BATCH``                 500 tickets per batch
``explain_top``               ``TRIAGE_EXPLAIN_TOP``               5 n-grams per head
``log_level``                 ``TRIAGE_LOG_LEVEL``                 INFO
``database_url``              ``TRIAGE_DATABASE_URL``              none (serve: SQLite file)
``store_text``                ``TRIAGE_STORE_TEXT``                ``redacted`` (or ``none``)
``spool_path``                ``TRIAGE_SPOOL_PATH``                ``triage-spool.jsonl``
``audit_share``               ``TRIAGE_AUDIT_SHARE``               0: no audit sample (e.g. 0.02)
``connectors_file``           ``TRIAGE_CONNECTORS_FILE``           none: no help desk
``connectors_worker``         ``TRIAGE_CONNECTORS_WORKER``         true: send write-backs here
``connectors_retry_base``     ``TRIAGE_CONNECTORS_RETRY_BASE``     2 s, doubling (full jitter)
``connectors_retry_cap``      ``TRIAGE_CONNECTORS_RETRY_CAP``      600 s between two retries
``connectors_max_age``        ``TRIAGE_CONNECTORS_MAX_AGE``        86400 s of retries, then dead
``zendesk_signing_secret``    ``TRIAGE_ZENDESK_SIGNING_SECRET``    the webhook's secret
``zendesk_api_token``         ``TRIAGE_ZENDESK_API_TOKEN``         the API user's token
``freshdesk_webhook_secret``  ``TRIAGE_FRESHDESK_WEBHOOK_SECRET``  the rule's shared secret
``freshdesk_api_key``         ``TRIAGE_FRESHDESK_API_KEY``         the API key
``github_webhook_secret``     ``TRIAGE_GITHUB_WEBHOOK_SECRET``     the webhook's secret
``github_token``              ``TRIAGE_GITHUB_TOKEN``              token with issues: write
``shadow_model_dir``          ``TRIAGE_SHADOW_MODEL_DIR``          none: no shadow version
``canary_model_dir``          ``TRIAGE_CANARY_MODEL_DIR``          none: no canary version
``canary_share``              ``TRIAGE_CANARY_SHARE``              0.1 of the keys (0..1)
``canary_key``                ``TRIAGE_CANARY_KEY``                ``requester_id`` (metadata)
``registry``                  ``TRIAGE_REGISTRY``                  none: versions from the dirs
``registry_poll_seconds``     ``TRIAGE_REGISTRY_POLL_SECONDS``     10 s between pointer reads
``registry_cache``            ``TRIAGE_REGISTRY_CACHE``            a temporary folder
``shadow_queue``              ``TRIAGE_SHADOW_QUEUE``              1000 jobs, then dropped
``canary_window``             ``TRIAGE_CANARY_WINDOW``             the canary's last 500 requests
``canary_min_requests``       ``TRIAGE_CANARY_MIN_REQUESTS``       50 before a bound is judged
``canary_max_error_rate``     ``TRIAGE_CANARY_MAX_ERROR_RATE``     0.05
``canary_max_p99_ms``         ``TRIAGE_CANARY_MAX_P99_MS``         250 ms of canary scoring
``canary_min_precision``      ``TRIAGE_CANARY_MIN_PRECISION``      none: not judged
``canary_min_feedback``       ``TRIAGE_CANARY_MIN_FEEDBACK``       30 judged decisions
============================  ===================================  ============================

Nothing else in the service reads ``os.environ``. An unsafe or inconsistent value (a short token,
protected triage without a token) stops the service at start, with the variable named.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ticket_triage.core.errors import ConfigError

__all__ = ["MIN_TOKEN_LENGTH", "HelpDeskSecrets", "Settings", "get_settings", "load_settings"]

#: A bearer token shorter than this is refused: it could be guessed.
MIN_TOKEN_LENGTH = 16


class HelpDeskSecrets(BaseSettings):
    """The help desks' secrets, from ``TRIAGE_*`` variables: alone, what ``triage connectors
    import`` and ``worker`` need; and a part of :class:`Settings`."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", frozen=True, extra="ignore")

    zendesk_signing_secret: SecretStr | None = None
    zendesk_api_token: SecretStr | None = None
    freshdesk_webhook_secret: SecretStr | None = None
    freshdesk_api_key: SecretStr | None = None
    github_webhook_secret: SecretStr | None = None
    github_token: SecretStr | None = None

    def secrets(self) -> dict[str, str | None]:
        """Every help-desk secret as plain text; None when not set or empty (the template sets
        every key of its secret, ``""`` for a desk not connected)."""
        return {
            name: (value.get_secret_value() or None) if value is not None else None
            for name, value in ((n, getattr(self, n)) for n in HelpDeskSecrets.model_fields)
        }


class Settings(HelpDeskSecrets):
    """Everything the service can be told; see the module docstring for the variables."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", frozen=True, extra="forbid")

    model_dir: Path = Field(description="The artifact directory to serve (`triage train --out`).")
    rules_file: Path | None = Field(None, description="A TOML routing rules file.")
    api_token: SecretStr | None = Field(
        None, description="Bearer token for /v1/feedback (and triage, with protect_triage)."
    )
    protect_triage: bool = Field(False, description="Require the token on triage endpoints too.")
    max_text_bytes: int = Field(32 * 1024, ge=256, le=1024 * 1024)
    max_body_bytes: int = Field(128 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_batch_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    max_batch: int = Field(500, ge=1, le=10_000)
    explain_top: int = Field(5, ge=1, le=50)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    database_url: str | None = Field(
        None, description="Prediction log and feedback: sqlite:///FILE or postgresql+psycopg://..."
    )
    store_text: Literal["redacted", "none"] = Field(
        "redacted", description="Store ticket text with personal data replaced, or not at all."
    )
    spool_path: Path = Field(
        Path("triage-spool.jsonl"),
        description="Where prediction records wait while the database is down.",
    )
    audit_share: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of automatically routed tickets flagged needs_audit for an agent to "
        "confirm (ticket_triage.production.audit); 0 turns the audit sample off.",
    )
    connectors_file: Path | None = Field(
        None, description="connectors.toml: the help desks whose webhooks this service takes."
    )
    connectors_worker: bool = Field(
        True, description="Send the help desks' write-backs from this process (a thread)."
    )
    connectors_retry_base: float = Field(
        2.0, gt=0, le=3600, description="Seconds before the first retry of a failed write-back."
    )
    connectors_retry_cap: float = Field(
        600.0, gt=0, le=86400, description="The longest wait between two retries, in seconds."
    )
    connectors_max_age: float = Field(
        86_400.0, gt=0, le=30 * 86_400, description="Seconds a write-back is retried, then dead."
    )
    shadow_model_dir: Path | None = Field(
        None, description="A version scored beside live on every ticket, logged, never returned."
    )
    canary_model_dir: Path | None = Field(
        None, description="A version answering the canary share of the stickiness keys."
    )
    canary_share: float = Field(0.1, ge=0, le=1, description="The share of keys on the canary.")
    canary_key: str = Field(
        "requester_id", min_length=1, max_length=64, description="The metadata key canary "
        "stickiness hashes (a requester or ticket id); tickets without it are served live."
    )  # fmt: skip
    registry: str | None = Field(
        None, description="A model registry (folder or s3://...): its pointers name the versions."
    )
    registry_poll_seconds: float = Field(10.0, ge=0.05, le=3600)
    registry_cache: Path | None = Field(None, description="Where registry versions are fetched.")
    shadow_queue: int = Field(1000, ge=1, le=1_000_000)
    canary_window: int = Field(500, ge=10, le=1_000_000)
    canary_min_requests: int = Field(50, ge=1, le=1_000_000)
    canary_max_error_rate: float | None = Field(0.05, ge=0, le=1)
    canary_max_p99_ms: float | None = Field(250.0, gt=0)
    canary_min_precision: float | None = Field(None, ge=0, le=1)
    canary_min_feedback: int = Field(30, ge=1, le=1_000_000)

    @field_validator("database_url")
    @classmethod
    def _no_database(cls, value: str | None) -> str | None:
        """``none`` (or empty) turns the prediction log off, e.g. in the Lambda template."""
        return None if value is None or value.strip().lower() in {"", "none"} else value

    @model_validator(mode="after")
    def _safe(self) -> Settings:
        token = self.api_token.get_secret_value() if self.api_token else None
        if token is not None and len(token.strip()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"TRIAGE_API_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters; "
                "use a random value: python -c 'import secrets; print(secrets.token_urlsafe())'"
            )
        if self.protect_triage and token is None:
            raise ValueError("TRIAGE_PROTECT_TRIAGE is set but TRIAGE_API_TOKEN is not")
        if self.connectors_file is not None and self.database_url is None:
            raise ValueError(
                "TRIAGE_CONNECTORS_FILE is set but TRIAGE_DATABASE_URL is not: the help desks' "
                "outbox lives in the prediction log's database"
            )
        return self


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with keyword overrides (from the CLI) winning.

    Raises
    ------
    ConfigError
        A value is missing or invalid; the message names the environment variable.
    """
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            field = ".".join(str(part) for part in error["loc"])
            where = f"TRIAGE_{field.upper()}: " if field else ""
            problems.append(f"{where}{error['msg'].removeprefix('Value error, ')}")
        raise ConfigError("; ".join(problems)) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (the Lambda handler and ``uvicorn --factory`` use it)."""
    return load_settings()
