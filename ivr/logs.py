"""Logging set-up: one stream handler whose filter masks personal data in every record, in
text (one line a record) or JSON (one object a line, python-json-logger).

Gunicorn's own logs (``ivr serve``, the Procfile) follow the same format
(``gunicorn_logconfig``).

Text lines show the message only, which ``MaskingFilter`` masks (tracebacks too). A JSON
object shows every field a record carries: the message, the traceback and whatever a caller
passed as ``extra=``. ``MaskingJsonFormatter`` masks each of them with the same rule
(``mask_text``), so no phone number, СНИЛС or ИНН reaches a JSON log either.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

from ivr.domain.privacy import MaskingFilter, mask_text

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The fields of every JSON object, besides the record's extras, and their names there.
_JSON_FIELDS = ("asctime", "levelname", "name", "process", "message")
_JSON_NAMES = {"asctime": "time", "levelname": "level"}
# Fields the logging machinery writes, not the code that logs: left as they are, as the text
# format leaves its time and level (a time's digits would read as a digit run).
_OWN_FIELDS = frozenset({"time", "level", "name", "process"})

LogFormat = Literal["text", "json"]


def masked(value: Any) -> Any:
    """``value`` with every digit run a text log would mask masked, in strings, numbers
    (as text would show them), and the keys and items of dicts, lists and tuples."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        shown = str(value)
        hidden = mask_text(shown)
        return value if hidden == shown else hidden
    if isinstance(value, dict):
        return {masked(key): masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [masked(item) for item in value]
    # Anything else is written as its text (python-json-logger's default): mask that.
    return mask_text(str(value))


class MaskingJsonFormatter(JsonFormatter):
    """python-json-logger's formatter, each field masked as text logs mask a line."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        """Mask the message, the traceback and every extra field alike."""
        return {
            key if key in _OWN_FIELDS else str(masked(key)): (
                value if key in _OWN_FIELDS else masked(value)
            )
            for key, value in log_data.items()
        }


def formatter(log_format: LogFormat = "text") -> logging.Formatter:
    """The formatter of a log format: a line of text, or a JSON object."""
    if log_format == "json":
        # Russian messages stay readable: the stream is UTF-8, no \u escapes needed.
        return MaskingJsonFormatter(
            list(_JSON_FIELDS), rename_fields=_JSON_NAMES, json_ensure_ascii=False
        )
    return logging.Formatter(_FORMAT)


def gunicorn_logconfig(log_format: LogFormat = "text") -> dict[str, Any]:
    """Gunicorn's ``logconfig_dict`` for a log format: for ``json``, its error and access
    logs as JSON objects on stderr, masked as the app's are; for ``text``, nothing (gunicorn
    keeps its own lines).

    Gunicorn's loggers do not propagate here, and the root logger gets no handler of
    gunicorn's, so that no line is written twice once the app has added its own handler.
    """
    if log_format != "json":
        return {}
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["mask"],
        "stream": "ext://sys.stderr",
    }
    return {
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            name: {"level": "INFO", "handlers": ["json"], "propagate": False, "qualname": name}
            for name in ("gunicorn.error", "gunicorn.access")
        },
        "handlers": {"json": handler},
        "filters": {"mask": {"()": MaskingFilter}},
        "formatters": {"json": {"()": formatter, "log_format": "json"}},
    }


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    """Log to stderr through the masking filter; calling it again changes the level and
    the format of the handler it installed."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in root.handlers:
        if any(isinstance(f, MaskingFilter) for f in handler.filters) and getattr(
            handler, "ivr_handler", False
        ):
            handler.setFormatter(formatter(log_format))
            return
    handler = logging.StreamHandler()
    handler.ivr_handler = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(log_format))
    handler.addFilter(MaskingFilter())
    root.addHandler(handler)
    # Handlers that others installed (gunicorn's, pytest's) get the filter too.
    for other in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in other.filters):
            other.addFilter(MaskingFilter())
