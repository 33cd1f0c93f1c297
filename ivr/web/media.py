"""Recorded prompts (``prompts/audio/<lang>/<id>.wav``) served for ``<Play>``."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, send_from_directory

from ivr.web.extension import services

blueprint = Blueprint("media", __name__, url_prefix="/media")

_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


@blueprint.get("/prompts/<lang>/<name>.wav")
def prompt_audio(lang: str, name: str) -> Response:
    """A prompt's audio file; ids and languages are plain names, never paths."""
    if not _SAFE.match(lang) or not _SAFE.match(name):
        abort(404)
    root = (services().settings.prompts_dir / "audio" / lang).resolve()
    return send_from_directory(root, f"{name}.wav", mimetype="audio/wav")
