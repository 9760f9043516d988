"""Worker logs: expected failures do not look like errors to log-based alerting."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import orjson
import pytest

from workers.cleaning.stage import clean_message
from workers.errors import StageError
from workers.kafka.produce import raw_record
from workers.ops import logs
from workers.records.message import InputMessage
from workers.settings import Settings


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level


def test_a_binary_page_is_a_not_html_dead_letter_without_an_error_line(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "json")  # here: the handler binds the test's captured stdout
    blob = bytes(random.Random(1).randrange(256) for _ in range(5000))
    raw = raw_record(b"<p>" + blob + b"</p>", "https://news.example/bin", content_type="text/html")
    with pytest.raises(StageError) as caught:
        clean_message(InputMessage(orjson.dumps(raw)), Settings())
    assert caught.value.reason == "not_html"
    assert capsys.readouterr().out == ""  # trafilatura's ERROR about this page is demoted
    logs.configure("DEBUG", "json")
    with pytest.raises(StageError):
        clean_message(InputMessage(orjson.dumps(raw)), Settings())
    events = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    demoted = [e for e in events if "not valid HTML" in e["event"]]
    assert demoted and {e["level"] for e in demoted} == {"debug"}
    logging.getLogger("trafilatura.utils").error("something else went wrong")
    events = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["level"] for e in events] == ["error"]  # other errors still are errors
