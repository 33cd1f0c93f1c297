"""Which redirects the recording downloader follows, and that a refused one connects nowhere."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from urllib3.util import parse_url

from ivr.telephony.recordings import RecordingError, RecordingFetcher, checked_redirect
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.support.recording_host import RecordingHost, serve

SID = "RE" + "ab" * 16
PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{SID}.wav"
API = "https://api.twilio.com" + PATH
# The API base the other tests use: a local plain-http stand-in.
LOCAL = "http://127.0.0.1:8080" + PATH

ACCEPTED = [
    # (Location, base, the URL fetched)
    (API, LOCAL, API),
    (
        "https://media.twiliocdn.com/x.wav?Expires=1&Signature=ab%2Fc",
        LOCAL,
        "https://media.twiliocdn.com/x.wav?Expires=1&Signature=ab%2Fc",
    ),
    # Hosts are case-insensitive: checked and fetched lowercased.
    ("HTTPS://API.Twilio.COM/x.wav", LOCAL, "https://api.twilio.com/x.wav"),
    # The default port spelled out is dropped.
    ("https://api.twilio.com:443/x.wav", LOCAL, "https://api.twilio.com/x.wav"),
    # A path is resolved against the API's origin, then checked like any other address.
    (PATH, API, API),
    # A fragment is never sent; dot segments are removed as urllib3 would remove them.
    ("https://api.twilio.com/x.wav#.evil.com", LOCAL, "https://api.twilio.com/x.wav"),
    ("https://api.twilio.com/a/../x.wav", LOCAL, "https://api.twilio.com/x.wav"),
    ("https://api.twilio.com", LOCAL, "https://api.twilio.com/"),
    # An IDN label already in its ASCII form is a name under twilio.com like any other.
    ("https://xn--e1afmkfd.twilio.com/x", LOCAL, "https://xn--e1afmkfd.twilio.com/x"),
]

REFUSED = [
    # (Location, base, the reason the message gives)
    # The stdlib reads api.twilio.com, urllib3 connects to 127.0.0.2:1234.
    ("https://127.0.0.2:1234\\@api.twilio.com/x.wav", LOCAL, "backslash"),
    ("https://evil.com\\.twilio.com/", LOCAL, "backslash"),
    ("https://api.twilio.com@evil.com/", LOCAL, "'@'"),
    ("https://user:secret@api.twilio.com/x.wav", LOCAL, "'@'"),
    ("https://api.twilio.com/x@evil.com", LOCAL, "'@'"),
    ("https://evil.com#.twilio.com", LOCAL, "not a Twilio host"),
    ("https://evil.com?.twilio.com", LOCAL, "not a Twilio host"),
    ("https://evil-twilio.com/x.wav", LOCAL, "not a Twilio host"),
    ("https://api.twilio.com.evil.com/x.wav", LOCAL, "not a Twilio host"),
    ("https://twilio.com/x.wav", LOCAL, "not a Twilio host"),
    ("https://127.0.0.1/x.wav", LOCAL, "not a Twilio host"),
    ("http://api.twilio.com/x.wav", LOCAL, "not https"),
    ("ftp://api.twilio.com/x.wav", LOCAL, "not https"),
    ("javascript:alert(1)", LOCAL, "not https"),
    ("https://api.twilio.com:8443/x.wav", LOCAL, "port is not 443"),
    ("https://api.twilio.com:/x.wav", LOCAL, "port is not 443"),
    ("https://api.twilio.com:0443/x.wav", LOCAL, "port is not 443"),
    # A path against the local http stand-in resolves to http://127.0.0.1:8080/…: refused.
    (PATH, LOCAL, "not https"),
    ("//evil.com/x.wav", API, "relative redirect"),
    ("x.wav", API, "relative redirect"),
    ("?x", API, "relative redirect"),
    ("https://%61pi.twilio.com/x.wav", LOCAL, "percent-encoded"),
    ("https://evil.com%2f.twilio.com/", LOCAL, "percent-encoded"),
    ("https://пример.twilio.com/x.wav", LOCAL, "non-ASCII"),
    ("https://[::1]/x.wav", LOCAL, "IP address"),
    ("https://[::1]:443/x.wav", LOCAL, "IP address"),
    ("https://api.twilio.com./x.wav", LOCAL, "ends with a dot"),
    ("https://api..twilio.com/x.wav", LOCAL, "plain DNS name"),
    ("https://api_1.twilio.com/x.wav", LOCAL, "plain DNS name"),
    ("https:///api.twilio.com/x.wav", LOCAL, "no host"),
    ("https:/api.twilio.com/x.wav", LOCAL, "no host"),
    ("https://api.twilio.com/a b.wav", LOCAL, "whitespace"),
    (" https://api.twilio.com/x.wav", LOCAL, "whitespace"),
    ("https://api.twilio.com\t.evil.com/", LOCAL, "whitespace"),
    ("https://api.twilio.com/x\r\nSet-Cookie: a=b", LOCAL, "control character"),
    ("https://api.twilio.com/x\x00.wav", LOCAL, "control character"),
    # Two Location headers, as requests joins them.
    ("https://api.twilio.com/x.wav, https://evil.com/", LOCAL, "whitespace"),
    ("", LOCAL, "no Location"),
]


@pytest.mark.parametrize(("location", "base", "fetched"), ACCEPTED)
def test_a_redirect_to_a_twilio_host_is_followed_to_the_url_that_was_checked(
    location: str, base: str, fetched: str
) -> None:
    target = checked_redirect(location, base)
    assert target == fetched
    # The parser requests connects with and the one its adapter picks the pool with agree.
    parsed, split = parse_url(target), urlsplit(target)
    assert (parsed.scheme, parsed.auth, parsed.port) == ("https", None, None)
    assert parsed.host == split.hostname == urlsplit(fetched).hostname
    assert split.username is None and split.port is None


@pytest.mark.parametrize(("location", "base", "reason"), REFUSED)
def test_a_redirect_anywhere_else_is_refused_and_the_message_says_why(
    location: str, base: str, reason: str
) -> None:
    with pytest.raises(RecordingError) as refused:
        checked_redirect(location, base)
    message = str(refused.value)
    assert message.startswith("refused a redirect to ")
    assert reason in message


def test_the_message_quotes_only_the_start_of_a_long_location() -> None:
    location = "https://evil.com/" + "A" * 10_000 + "\r\nX-Injected: 1"
    with pytest.raises(RecordingError) as refused:
        checked_redirect(location, LOCAL)
    message = str(refused.value)
    assert len(message) < 250
    assert "\n" not in message and "X-Injected" not in message
    assert message.endswith("whitespace or a control character")


def test_a_bypass_redirect_is_refused_by_fetch_and_the_other_host_sees_no_connection() -> None:
    with (
        serve(RecordingHost(ACCOUNT_SID, AUTH_TOKEN, {SID: b"RIFF"})) as host,
        serve(RecordingHost("ACevil", "x")) as evil,
    ):
        # urlsplit reads this as api.twilio.com; urllib3 would connect to the evil host.
        evil_port = urlsplit(evil.base_url).port
        host.redirect_to = f"https://127.0.0.1:{evil_port}\\@api.twilio.com/x.wav"
        fetcher = RecordingFetcher(ACCOUNT_SID, AUTH_TOKEN, host.base_url, timeout=2.0)
        with pytest.raises(RecordingError):
            fetcher.fetch(SID)
        assert [seen.path for seen in host.seen] == [PATH]
        assert evil.connections == 0
