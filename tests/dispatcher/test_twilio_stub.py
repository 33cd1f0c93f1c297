"""The Twilio REST stub itself, driven by the real twilio client (calls and SMS)."""

from __future__ import annotations

from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioRestException

from ivr.telephony.twilio_api import Messenger, make_client
from tests.conftest import ACCOUNT_SID, make_settings
from tests.support.twilio_stub import TwilioStub


def test_the_real_client_creates_a_call_and_reads_the_resource(
    stub: TwilioStub, tmp_path: Path
) -> None:
    client = make_client(make_settings("sqlite://", tmp_path, twilio_api_base=stub.base_url))
    call = client.calls.create(
        to="+79161234567",
        from_="+78005553535",
        url="https://ivr.example.test/voice/incoming?flow=callback&callback=7",
        status_callback_event=["initiated", "completed"],
    )
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert (call.status, call.to, call.account_sid) == ("queued", "+79161234567", ACCOUNT_SID)
    [request] = stub.calls
    assert request.sid == call.sid
    assert request.form["StatusCallbackEvent"] == ["initiated", "completed"]
    assert request.query_of("Url", "callback") == "7"


def test_failures_and_bad_requests_raise_in_the_client(stub: TwilioStub, tmp_path: Path) -> None:
    client = make_client(make_settings("sqlite://", tmp_path, twilio_api_base=stub.base_url))
    stub.fail_next(503, message="Service unavailable")
    with pytest.raises(TwilioRestException) as failed:
        client.calls.create(to="+79161234567", from_="+78005553535", url="https://x.test/")
    assert failed.value.status == 503
    with pytest.raises(TwilioRestException) as missing:
        client.calls.create(to="+79161234567", from_="+78005553535")
    assert missing.value.status == 400
    assert [r.status for r in stub.requests] == [503, 400]
    assert stub.calls == []


def test_sms_goes_through_the_stub(stub: TwilioStub, tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite://", tmp_path, twilio_api_base=stub.base_url, sms_from="+78005553535"
    )
    assert Messenger(settings).send("+79161234567", "Номер обращения 1000001")
    [message] = stub.messages
    assert message.field("Body") == "Номер обращения 1000001"
    assert (message.field("To"), message.field("From")) == ("+79161234567", "+78005553535")

    stub.fail_next(500)
    assert not Messenger(settings).send("+79161234567", "again")
    assert len(stub.messages) == 1
