"""The ``ivr`` command (click): one module per command group, settings from ``common``.

Every module here imports ``ivr.cli.common`` and the code it drives, never another command
module; this one only gathers them into the group.
"""

from __future__ import annotations

import click

from ivr.cli import admin, flows, graph, harness, server, speech, users, worker


@click.group()
@click.version_option(package_name="ivr")
def main() -> None:
    """Voice IVR call-flow server for Twilio: flows in YAML, offline speech recognition."""


for _command in (
    flows.validate,
    flows.reload,
    server.serve,
    server.db,
    admin.calls,
    admin.voicemails,
    admin.callbacks,
    admin.requests,
    harness.call_command,
    harness.test_calls_command,
    speech.model_group,
    speech.asr_group,
    worker.worker,
    graph.graph_command,
    users.users,
):
    main.add_command(_command)


if __name__ == "__main__":
    main()
