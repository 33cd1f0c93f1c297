"""``X-Twilio-Signature``: every value of every posted field is checked, as Twilio signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import Flask
from werkzeug.datastructures import MultiDict

from ivr.web.security import SignedForm, signature_matches
from tests.conftest import AUTH_TOKEN, PUBLIC_URL, call_params


def twilio_signature(url: str, fields: list[tuple[str, str]]) -> str:
    """Twilio's algorithm written out on its own: the URL, then every field's name and value
    (names sorted, each name's distinct values sorted), HMAC-SHA1 with the auth token."""
    data = url + "".join(name + value for name, value in sorted(set(fields)))
    digest = hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def fields_with_a_repeated_one() -> list[tuple[str, str]]:
    return [
        *call_params().items(),
        ("StirVerstat", "TN-Validation-Passed-A"),
        ("StirVerstat", "TN-Validation-Passed-B"),
    ]


def test_a_field_sent_twice_is_checked_with_both_values(app: Flask) -> None:
    fields = fields_with_a_repeated_one()
    response = app.test_client().post(
        "/voice/incoming",
        data=MultiDict(fields),
        headers={"X-Twilio-Signature": twilio_signature(PUBLIC_URL + "/voice/incoming", fields)},
    )
    assert response.status_code == 200
    assert "Госуслуги" in response.get_data(as_text=True)


def test_a_signature_over_only_the_first_of_two_values_is_refused(app: Flask) -> None:
    fields = fields_with_a_repeated_one()
    signed_over = fields[:-1]
    response = app.test_client().post(
        "/voice/incoming",
        data=MultiDict(fields),
        headers={
            "X-Twilio-Signature": twilio_signature(PUBLIC_URL + "/voice/incoming", signed_over)
        },
    )
    assert response.status_code == 403


def test_the_form_view_signs_as_the_validator_does_with_a_plain_dict() -> None:
    url = PUBLIC_URL + "/voice/step?turn=3"
    params = call_params(Digits="1", SpeechResult="оплата & возврат")
    expected = twilio_signature(url, list(params.items()))
    assert signature_matches(AUTH_TOKEN, url, params, expected)
    form = MultiDict(list(params.items()))
    assert signature_matches(AUTH_TOKEN, url, SignedForm(form), expected)
    assert not signature_matches(AUTH_TOKEN, url, SignedForm(form), expected[:-2])
