"""``agent-tui serve``: the team server (FastAPI under uvicorn) over one store."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from agent_tui.cli.common import EXIT_USAGE, DbOption, db_url, fail, store_for
from agent_tui.services.doctor import display_url


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 for every "
                                           "interface (put TLS in front of it).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8765,
    workers: Annotated[int, typer.Option(
        help="Server processes; use PostgreSQL for more than one.", min=1, max=64)] = 1,
    rate: Annotated[float, typer.Option(
        help="Requests per second per token and worker (0 = no limit).", min=0)] = 50.0,
    burst: Annotated[int, typer.Option(help="Requests a token may send at once.", min=1)] = 200,
    sse_per_user: Annotated[int, typer.Option(
        "--sse-per-user", help="Open event streams per agent and worker.", min=1)] = 4,
) -> None:
    """Serve the store to a team: REST + SSE under /api/v1, bearer API tokens."""
    import signal

    import uvicorn

    from agent_tui.server.app import SERVE_ENV

    # main() lets SIGPIPE kill the CLI (so `… | head` stops quietly); a server must
    # survive a client that hangs up mid-response (a dead peer is an EPIPE, not a death).
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    url = db_url(db)
    with store_for(db) as store:  # refuses a missing or old store with one line
        if workers > 1 and store.is_sqlite:
            fail("several workers need PostgreSQL (SQLite takes one writer); "
                 "use --workers 1 or a postgresql:// store", EXIT_USAGE)
    os.environ.update({SERVE_ENV["db"]: url, SERVE_ENV["rate"]: str(rate),
                       SERVE_ENV["burst"]: str(burst), SERVE_ENV["sse"]: str(sse_per_user)})
    typer.echo(f"Agent TUI server on http://{host}:{port}/api/v1 over {display_url(url)} "
               f"({workers} worker{'s' if workers > 1 else ''}); Ctrl-C stops it", err=True)
    uvicorn.run("agent_tui.server.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="warning", timeout_graceful_shutdown=5,
                proxy_headers=False, server_header=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
