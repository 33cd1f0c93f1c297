"""What a development server (``make run``) and the call harness share when no Twilio account
is configured: an auth token and an account SID known to both, never used in production."""

from __future__ import annotations

DEVELOPMENT_AUTH_TOKEN = "dev-auth-token"
DEVELOPMENT_ACCOUNT_SID = "AC" + "0" * 32
