"""Names and values of Twilio's voice protocol that the harness uses (no heavy imports)."""

from __future__ import annotations

from ivr.config import DEVELOPMENT_ACCOUNT_SID, DEVELOPMENT_AUTH_TOKEN

DEFAULT_FROM = "+79161234567"
# Signed with when no account is configured, as a development server (make run) checks.
DEFAULT_ACCOUNT_SID = DEVELOPMENT_ACCOUNT_SID
DEFAULT_AUTH_TOKEN = DEVELOPMENT_AUTH_TOKEN
API_VERSION = "2010-04-01"
INCOMING_PATH = "/voice/incoming"
STATUS_PATH = "/voice/status"
# The development clock header of ``ivr.web.voice`` (ignored by production servers).
CLOCK_HEADER = "X-IVR-Clock"
SIGNATURE_HEADER = "X-Twilio-Signature"
# ``Direction`` of a call someone dialled in, and of one placed through the REST API.
INBOUND = "inbound"
OUTBOUND = "outbound-api"

# Twilio's values for the <Enqueue> and <Dial> action callbacks.
QUEUE_RESULTS = (
    "bridged",
    "bridging-in-progress",
    "hangup",
    "leave",
    "redirected",
    "queue-full",
    "error",
    "system-error",
)
DIAL_RESULTS = ("completed", "answered", "busy", "no-answer", "failed", "canceled")
