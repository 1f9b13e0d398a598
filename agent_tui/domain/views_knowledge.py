"""Read models and inputs of the knowledge part of the Backend contract.

Article text is written by staff but may come from an import, so every
string here has passed ``safe_text`` before it is put in a model.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class FeedbackKind(StrEnum):
    """What an agent said about a suggested article."""

    USED = "used"  # inserted into a reply
    HELPFUL = "helpful"  # marked as the right answer


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class SnippetSpan(BaseModel):
    """A piece of a snippet; ``match`` pieces hold a query term. No markup anywhere."""

    model_config = ConfigDict(frozen=True)

    text: str
    match: bool = False


class Suggestion(BaseModel):
    """One ranked article for a query or a ticket.

    ``snippet`` is plain text with each matched term wrapped in ``[[`` and
    ``]]`` (a literal ``[[``/``]]`` in the article is written ``[ [``/``] ]``
    first, so the markers are unambiguous); ``spans`` is the same snippet cut
    into pieces for a UI that styles matches itself — never Rich markup.

    ``score`` orders results (higher is better; BM25 on SQLite, ``ts_rank``
    on PostgreSQL, so compare scores only within one result list).

    ``confidence`` (0..1) says how well the query is answered, so that the
    bot can answer alone above a threshold: ``coverage × (0.5 + 0.5 ×
    margin)``, where *coverage* is the IDF-weighted share of the query's
    terms found in the article (a term in the title or tags counts 1, in the
    body only 0.4) and *margin* is how far the score leads the best other
    result, ``(score - runner_up) / score`` (0 for every result but the top).
    """

    model_config = ConfigDict(frozen=True)

    article_id: int
    title: str
    snippet: str
    spans: list[SnippetSpan] = []
    score: float
    confidence: float = Field(ge=0.0, le=1.0)
    locale: str
    tags: list[str] = []


class ArticleView(BaseModel):
    """A whole article, as ``kb show`` and the suggestion panel's preview see it."""

    model_config = ConfigDict(frozen=True)

    id: int
    title: str
    body: str
    tags: list[str] = []
    locale: str
    status: str
    external_id: str | None = None
    version: int
    used_count: int = 0
    helpful_count: int = 0
    created_at: datetime
    updated_at: datetime


class ArticleRow(BaseModel):
    """One line of ``kb list``: no body."""

    model_config = ConfigDict(frozen=True)

    id: int
    title: str
    tags: list[str] = []
    locale: str
    status: str
    used_count: int = 0
    helpful_count: int = 0
    updated_at: datetime


class ArticleCreate(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    body: str
    tags: list[str] = []
    locale: str = "en"
    status: ArticleStatus = ArticleStatus.PUBLISHED
    external_id: str | None = None


class ArticleUpdate(BaseModel):
    """Fields to change; ``None`` leaves a field as it is."""

    model_config = ConfigDict(frozen=True)

    title: str | None = None
    body: str | None = None
    tags: list[str] | None = None
    locale: str | None = None
    status: ArticleStatus | None = None
