"""``X-Twilio-Signature`` checks with twilio's ``RequestValidator``.

The URL signed by Twilio is the public one it requested. Behind a TLS-terminating proxy the
app sees another scheme or host, so the check uses ``IVR_PUBLIC_URL`` plus the request's path
and query, never ``request.url``.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Response, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.web.extension import services

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def public_url_of_request(public_url: str) -> str:
    """The URL Twilio requested: the configured public base, this path and query."""
    query = request.query_string.decode("latin-1")
    return public_url.rstrip("/") + request.path + (f"?{query}" if query else "")


class SignedForm:
    """A posted form as ``RequestValidator`` reads it best: every value of every field.

    The validator asks each field for ``getall(name)``; werkzeug's form answers ``getlist``
    and a plain dict neither, so the validator would catch one or two ``AttributeError`` per
    field on every webhook. This view answers ``getall`` with a plain dict lookup and keeps a
    repeated field's every value, all of which Twilio signed.
    """

    __slots__ = ("_values", "getall")

    def __init__(self, form: MultiDict[str, str]) -> None:
        self._values: dict[str, list[str]] = form.to_dict(flat=False)
        # All values of a field, as the validator asks for them, without a Python call each.
        self.getall: Callable[[str], list[str]] = self._values.__getitem__

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def signature_matches(
    token: str, url: str, params: SignedForm | dict[str, str], signature: str
) -> bool:
    """Twilio's check, computing one HMAC in the usual case.

    ``RequestValidator.validate`` always signs the URL twice (with and without the port, as
    Twilio is inconsistent there); the URL as configured matches almost always, so try it
    first, in constant time, and fall back to the full check only on a mismatch.
    """
    validator = RequestValidator(token)
    if hmac.compare_digest(validator.compute_signature(url, params), signature):
        return True
    return bool(validator.validate(url, params, signature))


def twilio_signed(view: F) -> F:
    """Refuse (403, nothing runs) a request without a valid Twilio signature."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = services().settings
        if settings.skip_signature_check and not settings.is_production:
            return view(*args, **kwargs)
        signature = request.headers.get("X-Twilio-Signature", "")
        url = public_url_of_request(settings.public_url)
        if (
            not signature
            or not settings.twilio_auth_token
            or not signature_matches(
                settings.twilio_auth_token, url, SignedForm(request.form), signature
            )
        ):
            log.warning("refused %s: missing or wrong X-Twilio-Signature", request.path)
            return Response(
                "Forbidden: invalid Twilio signature\n", status=403, mimetype="text/plain"
            )
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
