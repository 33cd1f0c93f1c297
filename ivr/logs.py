"""Logging set-up: one stream handler whose filter masks personal data in every record."""

from __future__ import annotations

import logging

from ivr.domain.privacy import MaskingFilter

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr through the masking filter; calling it again only changes the level."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in root.handlers:
        if any(isinstance(f, MaskingFilter) for f in handler.filters):
            return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(MaskingFilter())
    root.addHandler(handler)
    # Handlers that others installed (gunicorn's, pytest's) get the filter too.
    for other in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in other.filters):
            other.addFilter(MaskingFilter())
