"""Personal data is masked before it reaches a log line, tracebacks included."""

from __future__ import annotations

import logging

import pytest

from ivr.domain.privacy import MaskingFilter, mask_input, mask_phone, mask_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("from +79161234567", "from +*********67"),
        ("СНИЛС 123-456-789 01", "СНИЛС ***-***-*** 01"),
        ("ИНН 771234567890", "ИНН **********90"),
        ("request 12345678", "request ******78"),
        ("call CA3333333333333333333333333333", "call CA3333333333333333333333333333"),
        ("press 1, wait 30 s", "press 1, wait 30 s"),
        ("мой снилс 160, 519, 740, 33", "мой снилс ***, ***, ***, 33"),
        ("снилс 160; 519; 740; 33", "снилс ***; ***; ***; 33"),
        ("инн 7712/3456/7890", "инн ****/****/**90"),
        ("телефон +7 (916) 123–45–67", "телефон +* (***) ***–**–67"),
        ("номер 1 2 3 4 5 6", "номер * * * * 5 6"),
        ("с 10:30, 10:45 или 11:00", "с 10:30, 10:45 или 11:00"),
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_inputs_and_phones() -> None:
    assert mask_input("1") == "1"
    assert mask_input("123456#") == "******#"
    assert mask_phone("+79161234567") == "+*********67"
    assert mask_phone(None) == ""


def test_the_filter_masks_messages_and_tracebacks() -> None:
    record = logging.LogRecord(
        "t", logging.ERROR, __file__, 1, "caller %s", ("+79161234567",), None
    )
    try:
        raise ValueError("[parameters: ('+79161234567', '12345678')]")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert MaskingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "+79161234567" not in text and "12345678" not in text
    assert "caller +*********67" in text
