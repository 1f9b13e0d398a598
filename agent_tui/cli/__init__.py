"""The ``agent-tui`` admin CLI (Typer). Commands are thin: they call services.

Each command group lives in its own module and adds itself with
``register(app)``.
"""

from __future__ import annotations

import typer

from agent_tui.cli import actions, backup, io, people, privacy, setup
from agent_tui.cli import inbound as inbound_cli
from agent_tui.cli import kb as kb_cli
from agent_tui.cli import monitor as monitor_cli
from agent_tui.cli import report as report_cli
from agent_tui.cli import route as route_cli
from agent_tui.cli import serve as serve_cli
from agent_tui.cli import sla as sla_cli
from agent_tui.cli import tokens as tokens_cli
from agent_tui.cli.common import CONTEXT

app = typer.Typer(
    name="agent-tui",
    help="Agent TUI: the terminal workstation for customer-service teams, and its admin CLI.",
    context_settings=CONTEXT,
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

for module in (setup, people, io, backup, privacy, kb_cli, route_cli, inbound_cli,
               sla_cli, report_cli, monitor_cli, serve_cli, tokens_cli, actions):
    module.register(app)


def main() -> None:
    """Console-script entry point."""
    import signal

    # `agent-tui export tickets | head` should stop quietly, like any Unix tool.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app()
