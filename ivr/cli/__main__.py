"""``python -m ivr.cli``: the ``ivr`` command."""

from ivr.cli import main

main()
