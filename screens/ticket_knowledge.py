"""The ticket screen's knowledge side: suggestions, search, preview, insert, feedback."""

from __future__ import annotations

from textual import work
from textual.message import Message

from agent_tui.backend import ArticleView, FeedbackKind, Suggestion
from screens.ticket_fields import TicketFields
from screens.ticket_open import SUGGESTIONS
from widgets.composer import Composer
from widgets.suggestions import SuggestionPanel


class TicketKnowledge(TicketFields):
    """Base of the ticket screen: keeps the suggestion panel fed and acts on it."""

    # -- workers -----------------------------------------------------------
    @work(exclusive=True, exit_on_error=False, group="kb")
    async def _suggest(self, query: str = "") -> None:
        if query:
            found = await self.backend.search_kb(query, k=SUGGESTIONS)
        else:
            found = await self.backend.suggest(self.ticket_id, k=SUGGESTIONS)
        self.post_message(self.SuggestionsLoaded(found, query))

    @work(exclusive=True, exit_on_error=False, group="kb-article")
    async def _fetch_article(self, article_id: int, insert: bool) -> None:
        article = await self.backend.get_article(article_id)
        if insert:
            await self.backend.article_feedback(article_id, FeedbackKind.USED,
                                                ticket_id=self.ticket_id)
        self.post_message(self.ArticleLoaded(article, insert))

    @work(exclusive=False, exit_on_error=False, group="kb-feedback")
    async def _helpful(self, article_id: int, title: str) -> None:
        await self.backend.article_feedback(article_id, FeedbackKind.HELPFUL,
                                            ticket_id=self.ticket_id)
        self.notify(f"Marked helpful: {title}", markup=False)

    # -- messages ------------------------------------------------------------
    class SuggestionsLoaded(Message):
        """Articles for the ticket (``query`` empty) or for a typed search."""

        def __init__(self, found: list[Suggestion], query: str) -> None:
            super().__init__()
            self.found = found
            self.query = query

    class ArticleLoaded(Message):
        """A whole article, to preview or (``insert``) to put into the reply."""

        def __init__(self, article: ArticleView, insert: bool) -> None:
            super().__init__()
            self.article = article
            self.insert = insert

    def on_ticket_knowledge_suggestions_loaded(
            self, message: TicketKnowledge.SuggestionsLoaded) -> None:
        self.query_one(SuggestionPanel).show(message.found, query=message.query)

    def on_ticket_knowledge_article_loaded(self, message: TicketKnowledge.ArticleLoaded) -> None:
        if not message.insert:
            self.query_one(SuggestionPanel).show_preview(message.article)
            return
        composer = self.query_one(Composer)
        composer.open("reply")
        composer.add_text(message.article.body)
        self.notify(f"Inserted “{message.article.title}” into the reply", markup=False)

    # -- handlers --------------------------------------------------------------
    def on_suggestion_panel_search(self, message: SuggestionPanel.Search) -> None:
        self._suggest(message.query)

    def on_suggestion_panel_preview(self, message: SuggestionPanel.Preview) -> None:
        self._fetch_article(message.article_id, False)

    def on_suggestion_panel_insert(self, message: SuggestionPanel.Insert) -> None:
        self._fetch_article(message.article_id, True)

    def on_suggestion_panel_helpful(self, message: SuggestionPanel.Helpful) -> None:
        panel = self.query_one(SuggestionPanel)
        chosen = next((s for s in panel.suggestions if s.article_id == message.article_id),
                      None)
        self._helpful(message.article_id, chosen.title if chosen else f"#{message.article_id}")

    def on_suggestion_panel_left(self) -> None:
        self.focus_thread()

    def focus_thread(self) -> None:
        raise NotImplementedError

    def action_focus_knowledge(self) -> None:
        """Move to the knowledge suggestions (j/k, p preview, i insert, / search)."""
        self.query_one(SuggestionPanel).enter()
