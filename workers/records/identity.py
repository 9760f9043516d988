"""Event ids: which crawl of which document a record is about, whatever topic it sits in.

Every record a stage sends (an output or a dead letter) has a CloudEvents ``ce_id`` derived
from the document and the page bytes it descends from, never from a topic, partition or
offset:

- an output: UUID v5 of the stage, the document id and the SHA-256 of the page bytes as
  crawled (:func:`page_sha256`), which the clean stage writes on its lineage entry
  (``content_sha256``) and the later stages read from there;
- a dead letter: UUID v5 of ``dead-letter``, the failing stage, the reason, the document id
  (empty when the URL could not be read) and the same page hash, or the SHA-256 of the failed
  value when it carries no page hash (not JSON, too large to parse, not a record).

So a page sent again (a recreated or mirrored raw topic, a replay, a producer's retry) keeps
its ids when its bytes are the same, a stage that redid its work (a second clean record at a
new offset) still yields one id downstream, and a new crawl of the same URL whose bytes
differ is a new event.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from workers.records.cloudevents import event_id
from workers.records.message import InputMessage, origin_of

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def page_sha256(raw: object) -> str | None:
    """SHA-256 (hex) of the page a raw-html.v1 record carries: the ``html_base64`` bytes
    exactly as fetched, or the ``html`` text as UTF-8; None when it carries neither."""
    if not isinstance(raw, dict):
        return None
    if isinstance(raw.get("html"), str):
        return body_sha256(raw["html"].encode("utf-8", "surrogatepass"))
    if isinstance(raw.get("html_base64"), str):
        try:
            return body_sha256(base64.b64decode(raw["html_base64"], validate=True))
        except (binascii.Error, ValueError):
            return None
    return None


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def lineage_sha256(record: object) -> str | None:
    """The page hash the first ``lineage`` entry of a stage record carries, if any (clean
    records written before it existed carry none)."""
    lineage = record.get("lineage") if isinstance(record, dict) else None
    first = lineage[0] if isinstance(lineage, list) and lineage else None
    found = first.get("content_sha256") if isinstance(first, dict) else None
    return found if isinstance(found, str) and _SHA256_HEX.match(found) else None


def output_event_id(stage: str, record: dict, message: InputMessage) -> str:
    """The ``ce_id`` of ``stage``'s output ``record``, read from ``message``."""
    content = lineage_sha256(record)
    if content is None:
        # A clean record from before page hashes (still on the topic after an upgrade): the
        # raw message's position, as its ids were derived then, so its copies still agree.
        return event_id(stage, *origin_of(record, message))
    return event_id(stage, record["document_id"], content)


def dead_letter_event_id(
    stage: str,
    reason: str,
    message: InputMessage,
    parsed: object,
    document: str | None,
    *,
    input_has_lineage: bool,
) -> str:
    """The id of the dead letter ``stage`` writes for ``message`` (``parsed``: its value as
    JSON when the stage could parse it; ``document``: the document id its URL gives)."""
    content = lineage_sha256(parsed) if input_has_lineage else page_sha256(parsed)
    if content is None:  # no page to name: the failed value's own bytes are its identity
        content = body_sha256(message.value or b"")
    return event_id("dead-letter", stage, reason, document or "", content)
