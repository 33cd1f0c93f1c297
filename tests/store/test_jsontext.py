"""JSON columns' text: compact, Cyrillic as itself, and readable by the standard library."""

from __future__ import annotations

import json

from ivr.store import jsontext


def test_json_text_keeps_cyrillic_and_reads_back_with_either_library() -> None:
    value = {"node": "main_menu", "kind": "speech", "value": "оплата ***45", "n": [1, None]}
    text = jsontext.dumps(value)
    assert isinstance(text, str)
    assert text == '{"node":"main_menu","kind":"speech","value":"оплата ***45","n":[1,null]}'
    assert json.loads(text) == jsontext.loads(text) == value
