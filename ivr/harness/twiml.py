"""Reading TwiML as Twilio does: strict XML, a ``<Response>`` root, verbs in document order."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

# Content types Twilio parses as TwiML.
TWIML_TYPES = ("text/xml", "application/xml", "text/html")


class TwimlError(Exception):
    """A document Twilio would refuse (its error 12100, "Document parse failure")."""


@dataclass(frozen=True)
class Verb:
    """One TwiML element: its name, attributes, own text and nested elements."""

    name: str
    attrs: dict[str, str]
    text: str = ""
    children: tuple[Verb, ...] = ()

    def attr(self, name: str, default: str = "") -> str:
        """An attribute's value, or ``default`` when the element does not set it."""
        return self.attrs.get(name, default)

    def spoken(self) -> str:
        """The text of the element and its children (e.g. SSML inside ``<Say>``), tidied."""
        parts = [self.text, *(child.spoken() for child in self.children)]
        return " ".join(" ".join(part.split()) for part in parts if part.strip())

    def to_json(self) -> dict[str, Any]:
        """Plain data for the JSON transcript: ``verb``, ``attrs``, ``text``, ``children``."""
        data: dict[str, Any] = {"verb": self.name, "attrs": dict(sorted(self.attrs.items()))}
        if self.text:
            data["text"] = self.text
        if self.children:
            data["children"] = [child.to_json() for child in self.children]
        return data


def _verb(element: ET.Element) -> Verb:
    own = " ".join((element.text or "").split())
    children = []
    for child in element:
        children.append(_verb(child))
        # Text after a nested element (SSML) belongs to the parent's speech.
        tail = " ".join((child.tail or "").split())
        if tail:
            children.append(Verb("#text", {}, tail))
    return Verb(element.tag, dict(element.attrib), own, tuple(children))


def parse_twiml(body: str) -> list[Verb]:
    """The verbs of a TwiML document; ``TwimlError`` for what Twilio would not accept."""
    if not body.strip():
        raise TwimlError("the response is empty")
    if body[0].isspace():
        raise TwimlError("whitespace before the XML declaration or <Response>")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise TwimlError(f"not well-formed XML: {exc}") from exc
    if root.tag != "Response":
        raise TwimlError(f"the root element is <{root.tag}>, not <Response>")
    return [_verb(element) for element in root]


def is_twiml_type(content_type: str) -> bool:
    """True for a content type Twilio reads as TwiML."""
    return content_type.split(";")[0].strip().lower() in TWIML_TYPES
