"""The form Twilio posts with every webhook, parsed once per request.

Twilio posts ``application/x-www-form-urlencoded`` fields (about thirty of them). The
signature check needs every value of every field, the webhook the first value of each; both
read the one parse kept on the request.

The parse gives what the standard library's ``urllib.parse.parse_qsl`` gives, with one
shortcut: unless a name or value carries an encoded ``&`` or ``=`` (``%26``, ``%3D``), the
whole body is decoded with one ``unquote`` and then split, instead of one ``unquote`` per
field (a phone number's ``%2B`` is in four of Twilio's fields). Decoding first is safe then:
only a decoded ``&`` or ``=`` could move a field's boundary, and an undecodable byte becomes
U+FFFD either way, since no sequence of UTF-8 spans the plain ``&`` between two fields. With
werkzeug's form machinery skipped too, reading a menu turn's form costs about a third of what
``request.form`` did. Other content types (Twilio sends none) go through werkzeug as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_plus

from flask import request

URLENCODED = "application/x-www-form-urlencoded"
# Where the parse is kept for the rest of the request.
_ENVIRON_KEY = "ivr.posted_form"


@dataclass(frozen=True)
class PostedForm:
    """Every posted field in order, as Twilio signed it, and the first value of each."""

    pairs: tuple[tuple[str, str], ...]
    first: dict[str, str]

    @classmethod
    def of(cls, pairs: list[tuple[str, str]]) -> PostedForm:
        """The form of these (name, value) pairs; a repeated name's first value counts."""
        first: dict[str, str] = {}
        for name, value in pairs:
            first.setdefault(name, value)
        return cls(tuple(pairs), first)

    def lists(self) -> dict[str, list[str]]:
        """Every value of every field, by name."""
        values: dict[str, list[str]] = {}
        for name, value in self.pairs:
            values.setdefault(name, []).append(value)
        return values

    def get(self, name: str, default: str = "") -> str:
        """The first value of a field, or ``default``."""
        return self.first.get(name, default)


def parse_urlencoded(body: bytes) -> PostedForm:
    """A urlencoded body as a form, read exactly as ``parse_qsl(body.decode(),
    keep_blank_values=True)`` reads it, undecodable bytes too: ``+`` is a space, ``%XX`` a
    byte of UTF-8 (an invalid sequence becomes U+FFFD), a field without ``=`` has an empty
    value."""
    text = body.decode("utf-8", "replace")
    if "%26" in text or "%3D" in text or "%3d" in text:
        return PostedForm.of([(_decoded(name), _decoded(value)) for name, value in _fields(text)])
    return PostedForm.of(list(_fields(_decoded(text))))


def _fields(text: str) -> Iterator[tuple[str, str]]:
    """The (name, value) pairs of ``name=value&...``; an empty field is no field."""
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            yield name, value


def _decoded(text: str) -> str:
    return unquote_plus(text, errors="replace")


def posted_form() -> PostedForm:
    """The current request's form, parsed on first use."""
    environ = request.environ
    form: PostedForm | None = environ.get(_ENVIRON_KEY)
    if form is None:
        if request.mimetype == URLENCODED:
            form = parse_urlencoded(request.get_data())
        else:
            form = PostedForm.of(list(request.form.items(multi=True)))
        environ[_ENVIRON_KEY] = form
    return form
