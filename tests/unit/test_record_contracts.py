"""The topic contracts: the JSON Schemas themselves and workers.records.contracts."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pytest

from tests.support.paths import SCHEMAS
from workers.errors import Reason, StageError
from workers.pipeline import STAGES
from workers.records import contracts

SCHEMA_FILES = sorted(SCHEMAS.glob("*.json"))
DOCS: dict[str, dict[str, Any]] = {
    path.name: json.loads(path.read_text(encoding="utf-8")) for path in SCHEMA_FILES
}
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def test_schema_folder_holds_exactly_the_contract_schemas() -> None:
    assert sorted(DOCS) == sorted(f"{name}.json" for name in contracts.SCHEMA_NAMES)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    schema = DOCS[path.name]
    jsonschema_rs.meta.validate(schema)  # raises on an invalid schema
    assert schema["$schema"] == DRAFT_2020_12
    assert schema["$id"].endswith("/" + path.name)
    assert schema["description"]


# --- every property documented ---------------------------------------------------------------


def _resolve(doc: dict[str, Any], ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(document, node) a $ref points at; relative file refs resolve among our schemas."""
    target, _, fragment = ref.partition("#")
    document = DOCS[target.rsplit("/", 1)[-1]] if target else doc
    node: Any = document
    for part in filter(None, fragment.split("/")):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return document, node


def _documented(doc: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> bool:
    if schema.get("description"):
        return True
    if "$ref" in schema and depth < 10:
        return _documented(*_resolve(doc, schema["$ref"]), depth + 1)
    return False


def _undocumented(doc: dict[str, Any], node: Any, path: str) -> list[str]:
    missing: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    where = f"{path}/properties/{name}"
                    if not _documented(doc, sub):
                        missing.append(where)
                    missing += _undocumented(doc, sub, where)
            else:
                missing += _undocumented(doc, value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            missing += _undocumented(doc, item, f"{path}/{index}")
    return missing


def test_walker_sees_nested_properties() -> None:
    # Guard the walker itself: it must reach properties inside $defs, items and nesting.
    doc = {
        "properties": {
            "a": {"description": "d", "properties": {"b": {"type": "string"}}},
            "c": {"$ref": "#/$defs/c"},
            "e": {"items": {"properties": {"f": {"$ref": "#/$defs/c"}}}, "description": "d"},
        },
        "$defs": {"c": {"type": "object", "properties": {"g": {"type": "integer"}}}},
    }
    assert _undocumented(doc, doc, "#") == [
        "#/properties/a/properties/b",
        "#/properties/c",
        "#/properties/e/items/properties/f",
        "#/$defs/c/properties/g",
    ]


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_property_has_a_description(path: Path) -> None:
    doc = DOCS[path.name]
    missing = _undocumented(doc, doc, "#")
    assert not missing, f"{path.name}: properties without a description: {', '.join(missing)}"


# --- raw-html.v1 -------------------------------------------------------------------------------

MINIMAL_RAW = {
    "url": "https://example.com/a",
    "fetched_at": "2024-06-19T14:32:07Z",
    "html_base64": "PHA+aGk8L3A+",
}


@pytest.mark.parametrize(
    "record",
    [
        MINIMAL_RAW,
        {"url": "https://example.com/a", "fetched_at": "2024-06-19T14:32:07+02:00", "html": ""},
        {
            **MINIMAL_RAW,
            "status": 200,
            "headers": {"content-type": "text/html; charset=utf-8", "etag": "x"},
            "crawler": "test",
            "meta": {"crawl": 7},
        },
    ],
)
def test_raw_accepts_valid_records(record: dict[str, Any]) -> None:
    assert contracts.schema_errors(record, "raw-html.v1") == []


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (_without(MINIMAL_RAW, "url"), '"url" is a required property'),
        (_without(MINIMAL_RAW, "fetched_at"), '"fetched_at" is a required property'),
        ({**MINIMAL_RAW, "html": "<p>hi</p>"}, "oneOf"),
        (_without(MINIMAL_RAW, "html_base64"), "oneOf"),
        ({**MINIMAL_RAW, "fetched_at": "19 June 2024"}, "fetched_at"),
        ({**MINIMAL_RAW, "fetched_at": "2024-06-19"}, "fetched_at"),
        ({**MINIMAL_RAW, "colour": "blue"}, "colour"),
        ({**MINIMAL_RAW, "status": 99}, "status"),
        ({**MINIMAL_RAW, "status": 600}, "status"),
        ({**MINIMAL_RAW, "url": ""}, "url"),
        ({**MINIMAL_RAW, "headers": {"content-type": 1}}, "headers/content-type"),
    ],
    ids=[
        "missing-url",
        "missing-fetched_at",
        "html-and-html_base64",
        "neither-html-nor-html_base64",
        "bad-date-time",
        "date-without-time",
        "unknown-field",
        "status-99",
        "status-600",
        "empty-url",
        "non-string-header",
    ],
)
def test_raw_rejects(record: dict[str, Any], field: str) -> None:
    errors = contracts.schema_errors(record, "raw-html.v1")
    assert errors
    assert any(field in error for error in errors), errors
    with pytest.raises(StageError) as caught:
        contracts.validate(record, "raw-html.v1")
    assert caught.value.reason == "schema_violation"


# --- contracts.decode ------------------------------------------------------------------------


def test_decode_returns_the_valid_record() -> None:
    assert contracts.decode(orjson.dumps(MINIMAL_RAW), "raw-html.v1") == MINIMAL_RAW


@pytest.mark.parametrize("value", [b"not json", b'{"url": ', b"\xff\xfe\x00", b"", None], ids=repr)
def test_decode_invalid_json(value: bytes | None) -> None:
    with pytest.raises(StageError) as caught:
        contracts.decode(value, "raw-html.v1")
    assert caught.value.reason == "invalid_json"


def test_decode_json_array_is_schema_violation() -> None:
    with pytest.raises(StageError) as caught:
        contracts.decode(b'[{"url": "https://example.com/a"}]', "raw-html.v1")
    assert caught.value.reason == "schema_violation"
    assert "raw-html.v1" in caught.value.message
    assert "object" in caught.value.message


@pytest.mark.parametrize(
    ("record", "named"),
    [
        (_without(MINIMAL_RAW, "url"), '"url"'),
        ({**MINIMAL_RAW, "status": 99}, "status"),
        ({**MINIMAL_RAW, "fetched_at": "yesterday"}, "fetched_at"),
    ],
)
def test_decode_schema_violation_names_the_field(record: dict[str, Any], named: str) -> None:
    with pytest.raises(StageError) as caught:
        contracts.decode(orjson.dumps(record), "raw-html.v1")
    assert caught.value.reason == "schema_violation"
    assert caught.value.error_class == "ValidationError"
    assert caught.value.message.startswith("raw-html.v1: ")
    assert named in caught.value.message


def test_encode_round_trips() -> None:
    record = {"text": "Grüße €", "n": 1, "none": None}
    assert orjson.loads(contracts.encode(record)) == record


# --- schema enums match the code --------------------------------------------------------------


def test_dead_letter_reasons_equal_the_reason_literal() -> None:
    enum = DOCS["dead-letter.v1.json"]["properties"]["reason"]["enum"]
    assert len(enum) == len(set(enum))
    assert set(enum) == set(typing.get_args(Reason))


def test_dead_letter_stages_equal_the_pipeline_stages() -> None:
    enum = DOCS["dead-letter.v1.json"]["properties"]["stage"]["enum"]
    assert set(enum) == set(STAGES)
