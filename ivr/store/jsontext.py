"""JSON for the database's JSON columns, with orjson.

A call's state and call log are read and written as JSON on every turn; the standard
library's encoder builds a new encoder object on every call and costs several times more
(``make bench``). orjson writes compact UTF-8 text (Cyrillic as itself, not ``\\uXXXX``),
which the standard library reads back too.
"""

from __future__ import annotations

from typing import Any

import orjson

# What the JSON columns hold: text on SQLite, a JSON value on PostgreSQL. Both read it.
loads = orjson.loads


def dumps(value: Any) -> str:
    """A value as JSON text (SQLite keeps text; orjson's bytes would be stored as a blob)."""
    return orjson.dumps(value).decode()
