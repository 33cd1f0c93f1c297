"""The baseline of ``make bench``: the least a Flask app can do to answer a menu turn.

One POST route, no database, no flows, no signature check: it returns the same main-menu
``<Gather>`` document the full app answers a repeated menu turn (``Digits=*``) with, built
with twilio's TwiML builder. ``benchmarks.webhook`` checks at start-up that the two
documents are identical and says so if they drift apart.

Served by gunicorn as ``benchmarks.baseline_app:app``.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request
from twilio.twiml.voice_response import VoiceResponse

VOICE = "Polly.Tatyana"
LANGUAGE = "ru-RU"
HINTS = (
    "техни, не работает, вход, войти, парол, доступ, заблокир, личный кабинет, услуг, "
    "документ, заявлен, статус, обращени, заявк, оплат, плат, деньг, возврат, жалоб, "
    "предложен, друг, чат, почт, оператор, специалист, человек"
)
MAIN_MENU = (
    "Чтобы сразу поговорить со специалистом, нажмите 0. Или выберите тему. "
    "Технические проблемы на портале — нажмите 1. "
    "Вход в личный кабинет и восстановление доступа — 2. "
    "Вопросы об услугах и документах — 3. Статус обращения — 4. "
    "Оплата и возврат денег — 5. Жалобы, предложения и другие способы связи — 6. "
    "Повторить — звёздочка. Можно назвать тему своими словами."
)

app = Flask(__name__)


@app.post("/voice/step")
def step() -> Response:
    """The caller pressed ``*``: the main menu again, pointing at the next turn."""
    if request.form.get("Digits") != "*":
        abort(400)
    turn = request.args.get("turn", type=int, default=0) + 1
    # Absolute URLs, as the full app writes them from IVR_PUBLIC_URL.
    base = request.host_url.rstrip("/")
    response = VoiceResponse()
    gather = response.gather(
        input="dtmf speech",
        action=f"{base}/voice/step?turn={turn}",
        method="POST",
        timeout=6,
        num_digits=1,
        language=LANGUAGE,
        hints=HINTS,
        speech_timeout="auto",
    )
    gather.say(MAIN_MENU, voice=VOICE, language=LANGUAGE)
    response.redirect(f"{base}/voice/step?turn={turn}&ev=timeout", method="POST")
    return Response(str(response), mimetype="text/xml")
