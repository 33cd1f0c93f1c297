"""Twilio's posted form, as the webhooks read it (werkzeug's ``request.form``): the fields as
the standard library parses them, which is what Twilio signed, for the signature check and
the webhook alike."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl, urlencode

import pytest
from flask import Flask, request
from werkzeug.datastructures import MultiDict

from ivr.web import MAX_WEBHOOK_BYTES
from ivr.web.security import SignedForm
from tests.conftest import PUBLIC_URL, TwilioWebhooks, call_params
from tests.web.test_security import twilio_signature

BODIES = [
    b"",
    b"CallSid=CA1&Digits=1",
    b"From=%2B79161234567&To=%2B78005553535",
    b"SpeechResult=%D0%BE%D0%BF%D0%BB%D0%B0%D1%82%D0%B0+%D0%B8+%D0%B2%D0%BE%D0%B7%D0%B2%D1%80%D0%B0%D1%82",
    b"msg=Gather+End&FinishedOnKey=&Digits=%23",
    b"a=x%3Dy%26z&b==c",
    b"a=x%3dy&b%3d=1&c=%2526%253D",
    b"a=1&&b=2&",
    b"lone&a=1",
    b"=nameless&a=1",
    b"StirVerstat=A&StirVerstat=B&StirVerstat=A",
    b"a=%7E%21%2A%28%29%27&b=%E2%82%AC+%C2%AB%D0%B4%D0%B0%C2%BB",
    b"name%3Dwith%3Dequals=v&%2B=%2B",
    b"stray=%G1%&a=%",
]


def read_form(body: bytes) -> dict[str, list[str]]:
    """Every value of every field a webhook reads from a urlencoded body, by name (Twilio's
    signature sorts the names and each one's values: their order across names is not
    signed)."""
    with Flask(__name__).test_request_context(
        "/", method="POST", data=body, content_type="application/x-www-form-urlencoded"
    ):
        return request.form.to_dict(flat=False)


def by_name(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The same grouping of (name, value) pairs, in their order."""
    grouped: dict[str, list[str]] = {}
    for name, value in fields:
        grouped.setdefault(name, []).append(value)
    return grouped


@pytest.mark.parametrize("body", BODIES)
def test_a_body_parses_as_the_standard_library_parses_it(body: bytes) -> None:
    expected = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    assert read_form(body) == by_name(expected)


def test_random_forms_parse_back_to_what_was_encoded() -> None:
    alphabet = "abcXYZ019 +-_.~%&=?/#«»ёЁдаДА€\t\n\"'\\\U0001f4de"
    rng = random.Random(20261205)
    for _ in range(500):
        fields = [
            (
                "".join(rng.choices(alphabet, k=rng.randint(1, 8))),
                "".join(rng.choices(alphabet, k=rng.randint(0, 12))),
            )
            for _ in range(rng.randint(0, 6))
        ]
        body = urlencode(fields).encode()
        assert read_form(body) == by_name(fields), body


def test_the_first_value_of_a_repeated_field_is_the_fields_value() -> None:
    with Flask(__name__).test_request_context(
        "/", method="POST", data=b"A=1&B=2&A=3", content_type="application/x-www-form-urlencoded"
    ):
        form = request.form
        assert (form["A"], form.get("A"), form.get("C"), form.get("C", "?")) == (
            "1",
            "1",
            None,
            "?",
        )
        assert SignedForm(form).getall("A") == ["1", "3"]


def test_a_webhook_posted_as_multipart_is_read_too(app: Flask) -> None:
    fields = list(call_params().items())
    response = app.test_client().post(
        "/voice/incoming",
        data=MultiDict(fields),
        content_type="multipart/form-data",
        headers={"X-Twilio-Signature": twilio_signature(PUBLIC_URL + "/voice/incoming", fields)},
    )
    assert response.status_code == 200
    assert "Госуслуги" in response.get_data(as_text=True)


def test_a_body_that_is_not_utf8_is_refused(app: Flask) -> None:
    fields = list(call_params().items())
    body = urlencode(fields).encode() + b"&SpeechResult=%FF%FE"
    response = app.test_client().post(
        "/voice/incoming",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": twilio_signature(PUBLIC_URL + "/voice/incoming", fields)},
    )
    assert response.status_code == 403


def test_a_body_far_larger_than_a_webhook_is_refused_unread(twilio: TwilioWebhooks) -> None:
    params = call_params(Padding="x" * MAX_WEBHOOK_BYTES)
    response = twilio.post("/voice/incoming", params)
    assert response.status_code == 413
