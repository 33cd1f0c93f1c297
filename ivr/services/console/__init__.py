"""What the supervisor console does, apart from the web: accounts and sign-in, the audit log,
and the desks (voicemails, callbacks, requests, calls, the live figures, flow previews)."""
