"""The local call harness: places whole calls against the webhook server, playing Twilio's part.

``ivr call`` places one call, ``ivr test-calls`` runs scenario files. Everything works offline
and without a Twilio account: the harness signs every request with ``X-Twilio-Signature`` as
Twilio does, follows the TwiML the server returns verb by verb, answers ``<Gather>`` and
``<Record>`` with the caller's scripted inputs and serves recordings from a stand-in for
Twilio's recording host.

Modules: ``protocol`` (Twilio's names), ``twiml`` (reading TwiML), ``inputs`` (what the caller
does), ``transport`` (in-process or real HTTP), ``audio`` and ``recordings`` (speech and the
recording host), ``simulator`` (the call itself), ``local`` (the app in this process),
``scenarios`` and ``coverage`` (suites), ``processes`` (``ivr serve`` and other commands as
real processes), ``ledger`` (what callers were told, checked against the database), ``cli``
(the commands). The package imports nothing itself, so ``ivr``'s command line stays quick
to start.
"""
