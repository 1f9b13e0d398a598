"""Knowledge suggestions for the open ticket: ranked, previewable, insertable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from agent_tui.backend import ArticleView, Suggestion
from widgets.suggestion_list import SuggestionList

KB = Binding.Group("Knowledge")


class SuggestionPanel(Vertical):
    """Articles ranked for this ticket; ``/`` searches the whole knowledge base.

    The panel only shows and asks: the screen fetches (``Search``,
    ``Preview``), inserts into the reply (``Insert``) and records feedback
    (``Helpful``), so no I/O happens here.
    """

    DEFAULT_CSS: ClassVar[str] = """
    SuggestionPanel {
        border-left: solid $primary;
        border-top: solid $primary;
        padding: 0 1;
    }
    SuggestionPanel:focus-within { border-left: thick $accent; }
    SuggestionPanel > #kb-title { color: $text-muted; }
    SuggestionPanel > #kb-search { display: none; }
    SuggestionPanel > #kb-search.-shown { display: block; }
    SuggestionPanel > SuggestionList { height: 1fr; }
    SuggestionPanel > #kb-preview {
        display: none;
        height: 1fr;
        border-top: dashed $primary;
    }
    SuggestionPanel > #kb-preview.-shown { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "down", "Down", id="kb.down", group=KB, show=False),
        Binding("k", "up", "Up", id="kb.up", group=KB, show=False),
        Binding("p", "preview", "Preview", id="kb.preview", group=KB),
        Binding("i", "insert", "Insert in reply", id="kb.insert", group=KB),
        Binding("h", "helpful", "Helpful", id="kb.helpful", group=KB),
        Binding("slash", "search", "Search KB", id="kb.search", group=KB, key_display="/"),
        Binding("escape", "leave", "Back to thread", id="kb.leave", group=KB),
    ]

    class Search(Message):
        """Search the knowledge base (``query``) or, when empty, suggest for the ticket."""

        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

    class Preview(Message):
        def __init__(self, article_id: int) -> None:
            super().__init__()
            self.article_id = article_id

    class Insert(Message):
        def __init__(self, article_id: int) -> None:
            super().__init__()
            self.article_id = article_id

    class Helpful(Message):
        def __init__(self, article_id: int) -> None:
            super().__init__()
            self.article_id = article_id

    class Left(Message):
        """The agent went back to the thread."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.suggestions: list[Suggestion] = []
        self.query_text = ""  # "" means "for this ticket"

    def compose(self) -> ComposeResult:
        yield Static(Text("Knowledge — loading…"), id="kb-title")
        yield Input(placeholder="Search the knowledge base; enter searches, empty = for "
                                "this ticket", id="kb-search")
        yield SuggestionList(id="kb-list")
        with VerticalScroll(id="kb-preview"):
            yield Static(id="kb-preview-text")

    @property
    def options(self) -> SuggestionList:
        return self.query_one("#kb-list", SuggestionList)

    @property
    def selected(self) -> Suggestion | None:
        index = self.options.highlighted
        if index is None or not 0 <= index < len(self.suggestions):
            return None
        return self.suggestions[index]

    def show(self, suggestions: Sequence[Suggestion], *, query: str = "") -> None:
        """Replace the list; the highlight goes to the best article."""
        self.suggestions = list(suggestions)
        self.query_text = query
        where = f"for “{query}”" if query else "for this ticket"
        title = Text(f"Knowledge {where} — ")
        title.append(f"{len(self.suggestions)} article{'s' if len(suggestions) != 1 else ''}")
        title.append("   k focus · p preview · i insert · h helpful · / search", style="dim")
        self.query_one("#kb-title", Static).update(title)
        self.options.set_items(self.suggestions)
        self.hide_preview()

    def show_error(self, text: str) -> None:
        self.query_one("#kb-title", Static).update(Text(f"Knowledge — {text}"))

    def show_preview(self, article: ArticleView) -> None:
        body = Text()
        body.append(article.title, style="bold")
        body.append(f"\n{', '.join(article.tags)}\n\n" if article.tags else "\n\n", style="dim")
        body.append(article.body)
        self.query_one("#kb-preview-text", Static).update(body)
        self.query_one("#kb-preview").add_class("-shown")

    def hide_preview(self) -> None:
        self.query_one("#kb-preview").remove_class("-shown")

    def enter(self) -> None:
        """Focus the list (the screen's ``k``)."""
        self.options.focus()

    # -- actions -------------------------------------------------------------
    def action_down(self) -> None:
        self.options.action_cursor_down()

    def action_up(self) -> None:
        self.options.action_cursor_up()

    def action_preview(self) -> None:
        """Show the whole highlighted article below the list."""
        if (chosen := self.selected) is not None:
            self.post_message(self.Preview(chosen.article_id))

    def on_suggestion_list_selected(self, event: SuggestionList.Selected) -> None:
        event.stop()
        self.action_preview()

    def action_insert(self) -> None:
        """Put the highlighted article into the reply (recorded as used)."""
        if (chosen := self.selected) is not None:
            self.post_message(self.Insert(chosen.article_id))

    def action_helpful(self) -> None:
        """Say the highlighted article answers this ticket."""
        if (chosen := self.selected) is not None:
            self.post_message(self.Helpful(chosen.article_id))

    def action_search(self) -> None:
        box = self.query_one("#kb-search", Input)
        box.value = self.query_text
        box.add_class("-shown")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.remove_class("-shown")
        self.options.focus()
        self.post_message(self.Search(event.value.strip()))

    def action_leave(self) -> None:
        box = self.query_one("#kb-search", Input)
        if box.has_class("-shown"):
            box.remove_class("-shown")
            self.options.focus()
            return
        if self.query_one("#kb-preview").has_class("-shown"):
            self.hide_preview()
            return
        self.post_message(self.Left())
