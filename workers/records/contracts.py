"""Topic contracts: JSON Schema validation and orjson (de)serialisation of record values.

The schemas in ``schemas/`` are the public contract (draft 2020-12). A wheel carries a copy
as ``workers/schemas``; a source checkout reads the top-level folder directly.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs
import orjson

from workers.errors import StageError

SchemaName = Literal["raw-html.v1", "articles-clean.v1", "articles-enriched.v1", "dead-letter.v1"]
SCHEMA_NAMES: tuple[SchemaName, ...] = (
    "raw-html.v1",
    "articles-clean.v1",
    "articles-enriched.v1",
    "dead-letter.v1",
)


def schema_dir() -> Path:
    packaged = resources.files("workers") / "schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "schemas"


@cache
def load_schema(name: SchemaName) -> dict[str, Any]:
    return orjson.loads((schema_dir() / f"{name}.json").read_bytes())


@cache
def _validator(name: SchemaName) -> jsonschema_rs.Validator:
    # Cross-file $refs resolve through a registry of our own schemas; nothing is fetched.
    registry = jsonschema_rs.Registry(
        [(load_schema(n)["$id"], load_schema(n)) for n in SCHEMA_NAMES]
    )
    return jsonschema_rs.validator_for(load_schema(name), registry=registry, validate_formats=True)


def schema_errors(record: Any, name: SchemaName) -> list[str]:
    """Every violation of schema ``name`` by ``record``, as 'path: message' strings.

    Messages quote the offending value; a whole page does not belong in an error message.
    """
    return [
        f"{'/'.join(map(str, err.instance_path)) or '(root)'}: {_shorten(err.message)}"
        for err in _validator(name).iter_errors(record)
    ]


def _shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else f"{text[: limit // 2]} … {text[-limit // 2 :]}"


def is_valid(record: Any, name: SchemaName) -> bool:
    """Whether ``record`` satisfies schema ``name`` (the fast path: no error collection)."""
    return _validator(name).is_valid(record)


def validate(record: Any, name: SchemaName) -> None:
    """Raise StageError(schema_violation) unless ``record`` satisfies schema ``name``."""
    if _validator(name).is_valid(record):
        return
    errors = schema_errors(record, name)
    raise StageError(
        "schema_violation",
        f"{name}: " + "; ".join(errors[:5]) + (" ..." if len(errors) > 5 else ""),
        error_class="ValidationError",
    )


def decode(value: bytes | None, name: SchemaName) -> dict[str, Any]:
    """Parse a Kafka value as JSON and check it against schema ``name``."""
    if value is None:
        raise StageError("invalid_json", "message has no value (tombstone)")
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise StageError(
            "invalid_json", f"value is not UTF-8 JSON: {exc}", error_class="JSONDecodeError"
        ) from exc
    if not isinstance(record, dict):
        raise StageError("schema_violation", f"{name}: value must be a JSON object")
    validate(record, name)
    return record


def encode(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)
