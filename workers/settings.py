"""One typed settings object for every worker and tool.

Every tunable comes from here, read from environment variables prefixed ``NEWSFLOW_``
(``NEWSFLOW_BOOTSTRAP_SERVERS``, ``NEWSFLOW_TOPIC_RAW``, ...) or from a ``.env`` file in the
working directory. Nothing else in the code spells a topic name, a limit or an address.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Stage = Literal["clean", "enrich"]


class Settings(BaseSettings):
    """Configuration of newsflow; see README "Configuration" for the full table."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_", env_file=".env", extra="ignore", frozen=True
    )

    # --- Kafka connection -------------------------------------------------------------
    bootstrap_servers: str = Field(
        "localhost:9092", description="Comma-separated host:port list of Kafka brokers."
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: str | None = Field(None, repr=False)
    ssl_cafile: str | None = None

    # --- Topics -----------------------------------------------------------------------
    topic_raw: str = "newsflow.raw-html.v1"
    topic_clean: str = "newsflow.articles-clean.v1"
    topic_enriched: str = "newsflow.articles-enriched.v1"
    topic_dead_letter: str = "newsflow.dead-letter.v1"
    partitions: int = Field(6, ge=1, description="Partitions of each topic at creation.")
    replication_factor: int = Field(1, ge=1)

    # --- Consumer groups (one faust app id per worker kind) ----------------------------
    clean_group: str = "newsflow-clean"
    enrich_group: str = "newsflow-enrich"
    session_timeout_s: float = Field(30.0, gt=0, description="Consumer group session timeout.")
    heartbeat_interval_s: float = Field(3.0, gt=0)
    rebalance_timeout_s: float = Field(60.0, gt=0)
    commit_interval_s: float = Field(1.0, gt=0, description="How often acked offsets commit.")
    compression: Literal["none", "gzip"] = "none"

    # --- Limits (bounded work per message) ---------------------------------------------
    max_message_bytes: int = Field(
        8 * 1024 * 1024, gt=0, description="Largest raw Kafka value a worker accepts."
    )
    max_html_bytes: int = Field(
        5 * 1024 * 1024, gt=0, description="Largest HTML document (in bytes) the cleaner parses."
    )
    extraction_timeout_s: float = Field(
        10.0, gt=0, description="Wall-clock limit of one extraction; beyond it: dead letter."
    )
    dead_letter_max_original_bytes: int = Field(
        1024 * 1024,
        gt=0,
        description="Original bytes kept in a dead letter; larger inputs keep a prefix, "
        "their full size and their SHA-256.",
    )
    validate_output: bool = Field(
        True, description="Validate every emitted record against its JSON Schema."
    )

    # --- Enrichment --------------------------------------------------------------------
    enrichers: list[str] = Field(
        default_factory=lambda: ["stats", "language", "fingerprint"],
        description="Enrichers to run, in order (comma-separated in the environment).",
    )
    reading_words_per_minute: int = Field(230, gt=0)
    minhash_permutations: int = Field(64, ge=16, le=512)
    shingle_words: int = Field(3, ge=1, le=10)

    # --- Shared state and web ----------------------------------------------------------
    redis_url: str = "redis://127.0.0.1:6379/0"
    web_host: str = "0.0.0.0"
    web_port: int = Field(6066, ge=0, le=65535, description="Port of /metrics and probes.")

    # --- Logging -----------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    @field_validator("enrichers", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        # Environment variables give "a,b,c"; JSON lists are accepted as well.
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def bootstrap_list(self) -> list[str]:
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]

    def group_for(self, stage: Stage) -> str:
        return self.clean_group if stage == "clean" else self.enrich_group

    def input_topic(self, stage: Stage) -> str:
        return self.topic_raw if stage == "clean" else self.topic_clean

    def output_topic(self, stage: Stage) -> str:
        return self.topic_clean if stage == "clean" else self.topic_enriched

    def all_topics(self) -> list[str]:
        return [self.topic_raw, self.topic_clean, self.topic_enriched, self.topic_dead_letter]

    def kafka_client_kwargs(self) -> dict[str, object]:
        """Connection arguments shared by every aiokafka client (producer, consumer, admin)."""
        kwargs: dict[str, object] = {
            "bootstrap_servers": self.bootstrap_list,
            "security_protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            kwargs.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        if self.security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            kwargs["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile)
        return kwargs


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
