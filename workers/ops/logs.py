"""Structured logs: one JSON object a line on stdout (or a readable line for a terminal)."""

from __future__ import annotations

import logging
import logging.config
import sys
from datetime import UTC, datetime

import orjson

# Attributes every LogRecord has; anything else passed through ``extra=`` is an event field.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        event.update((k, v) for k, v in record.__dict__.items() if k not in _STANDARD)
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(event, default=str).decode()


class DemoteExpectedFailures(logging.Filter):
    """trafilatura logs at ERROR when a page is not HTML ("parsed tree length: 1, wrong data
    type or not valid HTML"); the clean stage turns that page into a ``not_html`` dead letter,
    an expected outcome that log-based alerting must not see as an error. Such records become
    DEBUG (shown only at that level)."""

    EXPECTED = ("trafilatura.",)
    MESSAGES = ("wrong data type or not valid HTML",)

    def filter(self, record: logging.LogRecord) -> bool:
        expected = (
            record.levelno >= logging.ERROR
            and record.name.startswith(self.EXPECTED)
            and any(text in str(record.msg) for text in self.MESSAGES)
        )
        if expected:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD)
        line = f"{record.levelname[0]} {record.name}: {record.getMessage()} {fields}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def logging_config(level: str = "INFO", fmt: str = "json") -> dict:
    """A logging.config.dictConfig: our formatter on stdout (faust's Worker applies it too)."""
    if fmt == "auto":
        fmt = "console" if sys.stdout.isatty() else "json"
    formatter = JsonFormatter if fmt == "json" else ConsoleFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"newsflow": {"()": f"{__name__}.{formatter.__name__}"}},
        "filters": {"expected": {"()": f"{__name__}.{DemoteExpectedFailures.__name__}"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "newsflow",
                "filters": ["expected"],
            }
        },
        "root": {"level": level, "handlers": ["stdout"]},
        # Client libraries narrate every connection step; keep their warnings and errors.
        "loggers": {name: {"level": "WARNING"} for name in ("aiokafka", "faust", "mode")},
    }


def configure(level: str = "INFO", fmt: str = "json") -> None:
    logging.config.dictConfig(logging_config(level, fmt))
