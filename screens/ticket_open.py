"""What the ticket workspace shows on opening, fetched in one go, before it opens.

The ticket, its customer's 360 and the knowledge suggestions are three reads
made in parallel (the queue row names the customer, so the 360 need not wait
for the ticket). Screens that open tickets (:class:`OpensTickets`) fetch all
three first and then push the workspace built from them: its first layout is
its last, with no empty frame and no second layout as the data arrives (that
was most of the cost of opening a ticket).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.message import Message
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.worker import Worker

from agent_tui.backend import Backend, Customer360, Suggestion, TicketDetail
from screens.base import BackendScreen

#: Given a ticket id and a step (1 next, -1 previous), the neighbouring ticket's id and
#: customer id in the list the ticket was opened from, or None at its end.
Neighbour = Callable[[int, int], "tuple[int, int] | None"]

SUGGESTIONS = 6  # articles suggested for a ticket
WORKSPACE = "workspace"  # the name the app's ticket workspace is installed under


@dataclass(frozen=True)
class Opening:
    """A ticket with its 360 and suggestions; a part that failed holds its error."""

    ticket: TicketDetail
    customer: Customer360 | BaseException
    found: list[Suggestion] | BaseException


async def fetch_opening(backend: Backend, ticket_id: int,
                        customer_hint: int | None = None) -> Opening:
    """Read all three at once (``customer_hint``: the customer the queue row names).

    The ticket failing fails the whole (the others are cancelled); the 360 or
    the suggestions failing is kept in the result, so the ticket still shows.
    """
    ticket_task = asyncio.ensure_future(backend.get_ticket(ticket_id))
    found_task = asyncio.ensure_future(backend.suggest(ticket_id, k=SUGGESTIONS))
    customer_task = (asyncio.ensure_future(backend.get_360(customer_hint))
                     if customer_hint is not None else None)
    try:
        ticket = await ticket_task
    except BaseException:
        for task in (found_task, customer_task):
            if task is not None:
                task.cancel()
        raise
    if customer_task is None or customer_hint != ticket.customer_id:
        if customer_task is not None:
            customer_task.cancel()
        customer_task = asyncio.ensure_future(backend.get_360(ticket.customer_id))
    customer, found = await asyncio.gather(customer_task, found_task, return_exceptions=True)
    if isinstance(customer, asyncio.CancelledError) or isinstance(found, asyncio.CancelledError):
        raise asyncio.CancelledError
    return Opening(ticket, customer, found)


async def mount_off_screen(app: App[object], screen: Screen[Any]) -> None:
    """Compose, style, mount and lay out ``screen`` now, without showing it.

    Textual does this when a screen is first pushed (``App._get_screen``); a
    screen that is already running is then shown without being built, and one
    already laid out at the app's size is not laid out again (nor resized, the
    second layout a screen gets when first shown). This takes the same steps
    through Textual's private ``_load_screen_css``, ``_register`` and
    ``_refresh_layout`` (Textual is pinned to one version; tests/ui checks it).
    """
    if screen.is_running:
        return
    app._load_screen_css(screen)
    await AwaitMount(screen, app._register(app, screen))
    screen._refresh_layout(app.size)


class OpensTickets(BackendScreen):
    """A screen that opens tickets in the workspace once their opening is fetched.

    The fetch is an exclusive worker: opening another ticket before the first
    arrives cancels it, and a failure is the screen's usual error notification
    (the workspace does not open on a ticket that cannot be read).
    """

    class Ready(Message):
        """A ticket's opening is in; the workspace can be shown."""

        def __init__(self, opening: Opening, neighbour: Neighbour | None,
                     replace: bool) -> None:
            super().__init__()
            self.opening = opening
            self.neighbour = neighbour
            self.replace = replace

    class Prepared(Message):
        """An opening fetched at idle to build the app's workspace off screen with."""

        def __init__(self, opening: Opening) -> None:
            super().__init__()
            self.opening = opening

    def prepare_workspace(self, ticket_id: int, customer_id: int | None = None) -> None:
        """While the agent reads the queue: build the app's workspace, off screen.

        Composing, styling and mounting a workspace is more than half of what
        the first ticket opened would otherwise cost (~130 ms against ~65 ms for
        each one after, which refill it). The workspace is built on the ticket
        ``ticket_id`` (the one under the cursor, the likeliest to be opened), but
        that changes nothing the agent sees: opening any ticket fetches it anew
        and refills the workspace. It is not on screen, so it says nothing to
        the ticket's presence either. A failure here is silent: the first open
        then builds the workspace as it would have.
        """
        if not self.app.is_screen_installed(WORKSPACE):
            self.run_worker(self._fetch_prepared(ticket_id, customer_id), exclusive=True,
                            group="prepare", exit_on_error=False)

    async def _fetch_prepared(self, ticket_id: int, customer_id: int | None) -> None:
        self.post_message(self.Prepared(await fetch_opening(self.backend, ticket_id,
                                                            customer_id)))

    async def on_opens_tickets_prepared(self, message: OpensTickets.Prepared) -> None:
        from screens.ticket import TicketScreen

        message.stop()  # handled here: the app has nothing to do with it
        app = self.app
        if app.is_screen_installed(WORKSPACE):
            return  # a ticket was opened meanwhile: its workspace is the app's
        screen = TicketScreen(self.session, message.opening.ticket.id,
                              opening=message.opening)
        app.install_screen(screen, WORKSPACE)
        await mount_off_screen(app, screen)

    def worker_failed(self, worker: Worker[object], error: BaseException | None) -> bool:
        if worker.group == "prepare":
            return True  # only a head start lost: the first open builds the workspace
        return super().worker_failed(worker, error)

    def open_workspace(self, ticket_id: int, *, customer_id: int | None = None,
                       neighbour: Neighbour | None = None, replace: bool = False) -> None:
        """Fetch ticket ``ticket_id`` with its 360 and suggestions, then show it.

        ``replace``: the workspace takes this screen's place instead of going on top.
        """
        self.run_worker(self._fetch_workspace(ticket_id, customer_id, neighbour, replace),
                        exclusive=True, group="opening", exit_on_error=False)

    async def _fetch_workspace(self, ticket_id: int, customer_id: int | None,
                               neighbour: Neighbour | None, replace: bool) -> None:
        opening = await fetch_opening(self.backend, ticket_id, customer_id)
        self.post_message(self.Ready(opening, neighbour, replace))

    def on_opens_tickets_ready(self, message: OpensTickets.Ready) -> None:
        # The workspace opens tickets too (next/previous), so it imports this module.
        from screens.ticket import TicketScreen

        message.stop()
        app, opening = self.app, message.opening
        workspace = (app.get_screen(WORKSPACE) if app.is_screen_installed(WORKSPACE)
                     else None)
        if isinstance(workspace, TicketScreen) and (
                workspace is app.screen or workspace not in app.screen_stack):
            # The app's one workspace, refilled: in place, or then brought on screen.
            workspace.switch_to(opening, message.neighbour, show=True,
                                replace=message.replace)
            return
        screen = TicketScreen(self.session, opening.ticket.id,
                              neighbour=message.neighbour, opening=opening)
        if workspace is None:
            app.install_screen(screen, WORKSPACE)
        # else: the workspace is further down the stack (e.g. under the monitor):
        # this ticket gets a workspace of its own, dropped when it closes.
        if message.replace:
            app.switch_screen(screen)
        else:
            app.push_screen(screen)
