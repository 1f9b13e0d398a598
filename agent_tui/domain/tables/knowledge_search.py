"""What agent feedback on articles remembers, so that similar tickets find them later."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class KnowledgeFeedbackTerm(SQLModel, table=True):
    """How often an article was used or marked helpful for a ticket with ``term``.

    One row per (query term, article); ``hits`` counts feedback actions. The
    search reads it by term (the primary key's first column) for the terms
    of the current query only, so it stays an indexed lookup at any size.
    """

    __tablename__ = "knowledge_feedback_term"

    term: str = Field(primary_key=True, max_length=64)
    article_id: int = Field(primary_key=True, foreign_key="knowledge_article.id",
                            ondelete="CASCADE")
    hits: int = 0
