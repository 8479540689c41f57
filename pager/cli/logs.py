"""How the daemon writes its log: `--log-format text|json|logfmt`, one line per event.

Our log messages are `event=... key=value ...` already; `json` and `logfmt` read those pairs
into fields, beside the time, level, logger and the request id of the request being served."""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any

import click

FORMATS = ("text", "json", "logfmt")
_PAIR = re.compile(r"""(\w+)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S*)""")
_BARE = re.compile(r"[^\s\"=\\]+")

log_format_option = click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    envvar="PAGER_LOG_FORMAT",
    help="text (for people), json or logfmt (for log collectors); one line per event.",
)


def fields_of(message: str) -> dict[str, Any]:
    """`event=x who='Alice Example' n=3` -> {"event": "x", "who": "Alice Example", "n": "3"};
    words that are no pair are kept in `msg`."""
    fields: dict[str, Any] = {}
    rest = []
    position = 0
    for found in _PAIR.finditer(message):
        rest.append(message[position : found.start()])
        position = found.end()
        fields[found.group(1)] = _unquoted(found.group(2))
    rest.append(message[position:])
    leftover = " ".join("".join(rest).split())
    if leftover:
        fields["msg"] = leftover
    return fields


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value[1:-1]
        return parsed if isinstance(parsed, str) else value[1:-1]
    return value


def _facts(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, Any]:
    at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
    facts: dict[str, Any] = {"ts": at, "level": record.levelname.lower(), "logger": record.name}
    facts.update(fields_of(record.getMessage()))
    given = getattr(record, "request_id", None)
    if given:
        facts["request_id"] = given
    if record.exc_info:
        facts["exc"] = formatter.formatException(record.exc_info)
    return facts


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_facts(record, self), ensure_ascii=False, default=str)


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_logfmt(value)}" for key, value in _facts(record, self).items())


def _logfmt(value: Any) -> str:
    text = str(value)
    if _BARE.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class TextFormatter(logging.Formatter):
    """Today's lines for people, with `request_id=` at the end of a request's."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        line = super().formatMessage(record)
        given = getattr(record, "request_id", None)
        return f"{line} request_id={given}" if given else line


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Only a process that serves the web has request ids; `pager worker` never imports the
        # web (Flask and the views: 12 MB) just to learn that it has none.
        request_ids = sys.modules.get("pager.web.request_ids")
        record.request_id = request_ids.current() if request_ids else None
        return True


def handler(log_format: str, stream: Any) -> logging.Handler:
    """A handler writing to `stream` in `log_format`, each line with its request's id."""
    made = logging.StreamHandler(stream)
    formatter = {"json": JsonFormatter, "logfmt": LogfmtFormatter}.get(log_format, TextFormatter)
    made.setFormatter(formatter())
    made.addFilter(_RequestId())
    return made


def _level() -> str:
    return os.environ.get("PAGER_LOG_LEVEL", "INFO").upper()


def configure(log_format: str = "text") -> None:
    """The root logger to stderr in `log_format`, at PAGER_LOG_LEVEL (INFO by default)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(log_format, sys.stderr))
    root.setLevel(_level())
    for noisy in ("werkzeug", "apscheduler", "twilio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def gunicorn_config(log_format: str) -> dict[str, Any]:
    """gunicorn's `logconfig_dict` for `pager web`: its own lines (booting, a worker's exit)
    through our handler too, so the log is in one format; no access lines, as `pager serve`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": _level(), "handlers": ["pager"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
        "handlers": {
            "pager": {
                "()": "pager.cli.logs.handler",
                "log_format": log_format,
                "stream": "ext://sys.stderr",
            }
        },
        "formatters": {},
    }
