"""The located YAML reader: text kept as written, lines remembered, mistakes reported."""

from __future__ import annotations

import pytest

from ivr.flows.problems import FlowError, Problem
from ivr.flows.yamlio import LocatedList, LocatedMap, line_of, parse_yaml

SAMPLE = """\
# A comment before the data.
octal: 010
flag: yes
"quoted": "yes"
tilde: ~
empty:
text_null: 'null'
list:
  - one
  - [two, 3]
keys:
  1: int
  "2": quoted
  yes: bool
  1.5: float
  "*": star
"""


def test_scalars_stay_the_text_the_admin_wrote() -> None:
    doc = parse_yaml(SAMPLE, "sample.yaml")
    assert doc.problems == []
    assert doc.data == {
        "octal": "010",
        "flag": "yes",
        "quoted": "yes",
        "tilde": None,
        "empty": None,
        "text_null": "null",
        "list": ["one", ["two", "3"]],
        "keys": {"1": "int", "2": "quoted", "yes": "bool", "1.5": "float", "*": "star"},
    }


def test_maps_and_lists_remember_their_lines() -> None:
    data = parse_yaml(SAMPLE, "sample.yaml").data
    assert isinstance(data, LocatedMap)
    assert data.line == 2
    assert data.key_lines == {
        "octal": 2,
        "flag": 3,
        "quoted": 4,
        "tilde": 5,
        "empty": 6,
        "text_null": 7,
        "list": 8,
        "keys": 11,
    }
    items = data["list"]
    assert isinstance(items, LocatedList)
    assert (items.line, items.item_lines) == (9, [9, 10])
    assert isinstance(items[1], LocatedList)
    assert items[1].item_lines == [10, 10]


def test_the_yaml_1_1_type_of_plain_keys_is_remembered_and_quoted_keys_have_none() -> None:
    keys = parse_yaml(SAMPLE, "sample.yaml").data["keys"]
    assert keys.key_implicit_types == {"1": "int", "yes": "bool", "1.5": "float"}


def test_line_of_follows_a_path_as_deep_as_it_goes() -> None:
    data = parse_yaml(SAMPLE, "sample.yaml").data
    assert line_of(data, ("list", 1)) == 10
    assert line_of(data, ("keys", "2")) == 13
    assert line_of(data, ("keys", "yes")) == 14
    # A missing key or index stops at the deepest element found.
    assert line_of(data, ("keys", "missing", "deeper")) == 11
    assert line_of(data, ("list", 7)) == 8
    assert line_of(data, ()) == 2
    assert line_of("not located", ("a",)) == 1


def test_a_duplicate_key_is_reported_and_the_first_value_kept() -> None:
    doc = parse_yaml('options:\n  "1": a\n  "2": b\n  "1": c\n', "menu.yaml")
    assert doc.data == {"options": {"1": "a", "2": "b"}}
    assert doc.problems == [Problem("menu.yaml", 4, "duplicate key '1' (first defined on line 2)")]


def test_merge_keys_are_refused() -> None:
    doc = parse_yaml("base: &b {x: 1}\nother:\n  <<: *b\n", "merge.yaml")
    assert [str(p) for p in doc.problems] == [
        "merge.yaml:3: YAML merge keys (<<) are not supported"
    ]


def test_a_key_that_is_a_list_is_refused() -> None:
    doc = parse_yaml("? [a, b]\n: 1\nc: 2\n", "complex.yaml")
    assert doc.data == {"c": "2"}
    assert [str(p) for p in doc.problems] == [
        "complex.yaml:1: a key must be plain text, not a list or map"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_an_empty_file_is_a_problem(text: str) -> None:
    doc = parse_yaml(text, "empty.yaml")
    assert doc.data is None
    assert [str(p) for p in doc.problems] == ["empty.yaml:1: the file is empty"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: [b\nc: d\n",
            "bad.yaml:2: YAML syntax error: expected ',' or ']', but got ':' "
            "(while parsing a flow sequence started on line 1)",
        ),
        (
            'a: "b\nc: d\n',
            "bad.yaml:3: YAML syntax error: found unexpected end of stream "
            "(while scanning a quoted scalar started on line 1)",
        ),
        ("a: b: c\n", "bad.yaml:1: YAML syntax error: mapping values are not allowed here"),
        (
            "a:\n\t- b\n",
            "bad.yaml:2: YAML syntax error: found character '\\t' that cannot start any token",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "bad.yaml:2: YAML syntax error: expected a single document in the stream (line 1), "
            "but found another document",
        ),
        ("a: *nowhere\n", "bad.yaml:1: YAML syntax error: found undefined alias 'nowhere'"),
    ],
)
def test_syntax_errors_name_the_line(text: str, expected: str) -> None:
    doc = parse_yaml(text, "bad.yaml")
    assert doc.data is None
    assert [str(p) for p in doc.problems] == [expected]


def test_flow_error_lists_problems_once_in_file_and_line_order() -> None:
    problems = [
        Problem("b.yaml", 1, "later file"),
        Problem("a.yaml", 10, "second"),
        Problem("a.yaml", 2, "first"),
        Problem("a.yaml", 2, "first"),
    ]
    error = FlowError(problems)
    assert error.problems == [problems[2], problems[1], problems[0]]
    assert str(error) == "a.yaml:2: first\na.yaml:10: second\nb.yaml:1: later file"
