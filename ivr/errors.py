"""The one base class of every error this package raises on purpose."""

from __future__ import annotations


class IvrError(Exception):
    """Base of all errors raised by the IVR server, its engine and its tools."""
