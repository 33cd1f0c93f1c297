"""Log lines as text or JSON, personal data masked in both: in JSON the message, the
traceback and every extra field."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from ivr.config import ConfigError, Settings
from ivr.domain.privacy import MaskingFilter
from ivr.logs import configure_logging, formatter, masked

PHONE, PHONE_MASKED = "+79161234567", "+*********67"
SNILS, SNILS_MASKED = "123-456-789 01", "***-***-*** 01"
SPOKEN_SNILS, SPOKEN_SNILS_MASKED = "160, 519, 740, 33", "***, ***, ***, 33"


def _record(msg: str, args: tuple[Any, ...] = (), **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("ivr.test", logging.WARNING, __file__, 7, msg, args, None)
    record.__dict__.update(extra)
    return record


def _json_line(record: logging.LogRecord) -> dict[str, Any]:
    """The record as a JSON log writes it: through the filter, then the formatter."""
    assert MaskingFilter().filter(record)
    line = formatter("json").format(record)
    assert "\n" not in line
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def test_a_json_line_masks_the_message_as_a_text_line_does() -> None:
    record = _record("caller %s, СНИЛС %s", (PHONE, SNILS))
    found = _json_line(record)
    assert found["message"] == f"caller {PHONE_MASKED}, СНИЛС {SNILS_MASKED}"
    text = _record("caller %s, СНИЛС %s", (PHONE, SNILS))
    assert MaskingFilter().filter(text)
    assert logging.Formatter("%(message)s").format(text) == found["message"]
    assert (found["level"], found["name"]) == ("WARNING", "ivr.test")
    assert set(found) == {"time", "level", "name", "process", "message"}


def test_a_json_line_masks_every_extra_field() -> None:
    found = _json_line(
        _record(
            "booked",
            caller=PHONE,
            snils=SPOKEN_SNILS,
            inn=771234567890,
            request={"number": "12345678", "phones": [PHONE, "8 916 123-45-67"]},
            turn=3,
            confidence=0.92,
            ok=True,
        )
    )
    assert found["caller"] == PHONE_MASKED
    assert found["snils"] == SPOKEN_SNILS_MASKED
    assert found["inn"] == "**********90"
    assert found["request"] == {"number": "******78", "phones": [PHONE_MASKED, "* *** ***-**-67"]}
    # What holds no digit run stays as it is, of its own type.
    assert (found["turn"], found["confidence"], found["ok"]) == (3, 0.92, True)
    for value in (PHONE, "79161234567", "771234567890", "12345678", "519"):
        assert value not in json.dumps(found, ensure_ascii=False)


def test_a_json_line_masks_the_traceback() -> None:
    record = _record("the turn failed for %s", (PHONE,))
    try:
        raise ValueError(f"[parameters: ('{PHONE}', '{SNILS}')]")
    except ValueError:
        record.exc_info = sys.exc_info()
    found = _json_line(record)
    assert found["message"] == f"the turn failed for {PHONE_MASKED}"
    assert "ValueError" in found["exc_info"]
    assert PHONE not in found["exc_info"] and "123-456-789" not in found["exc_info"]
    assert PHONE_MASKED in found["exc_info"]


def test_a_json_line_keeps_the_time_and_speaks_russian_unescaped() -> None:
    found = formatter("json").format(_record("Звонок принят"))
    assert "Звонок принят" in found
    assert json.loads(found)["time"][:2] == "20"  # 2026-…, not a masked run of digits


def test_masked_leaves_short_numbers_and_masks_long_ones() -> None:
    assert masked(42) == 42
    assert masked(79161234567) == "*********67"
    assert masked(None) is None
    assert masked(("a", 12345678)) == ["a", "******78"]


@pytest.fixture
def root_handlers() -> Iterator[None]:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    yield
    root.handlers[:] = saved
    root.setLevel(level)


def test_configure_logging_writes_json_and_switches_back_to_text(
    root_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logging.getLogger().handlers[:] = []
    configure_logging("INFO", "json")
    logging.getLogger("ivr.test").info("from %s", PHONE, extra={"caller": PHONE})
    configure_logging("INFO", "text")
    logging.getLogger("ivr.test").info("from %s", PHONE)
    first, second = stream.getvalue().splitlines()
    assert json.loads(first)["caller"] == PHONE_MASKED
    assert json.loads(first)["message"] == f"from {PHONE_MASKED}"
    assert second.endswith(f"INFO ivr.test: from {PHONE_MASKED}")
    # One handler of ours, however often it is configured.
    assert len(logging.getLogger().handlers) == 1


def test_the_format_is_a_setting() -> None:
    assert Settings.from_environ({"IVR_ENVIRONMENT": "test"}).log_format == "text"
    settings = Settings.from_environ({"IVR_ENVIRONMENT": "test", "IVR_LOG_FORMAT": "json"})
    assert settings.log_format == "json"


def test_an_unknown_format_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="IVR_LOG_FORMAT"):
        Settings.from_environ({"IVR_ENVIRONMENT": "test", "IVR_LOG_FORMAT": "xml"})
