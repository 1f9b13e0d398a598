"""Knowledge base articles."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from agent_tui.domain.tables.base import ts_column, utcnow


class KnowledgeArticleBase(SQLModel):
    title: str = Field(max_length=300)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    tags: str = Field(default="", max_length=1000)  # space-separated
    locale: str = Field(default="en", max_length=16)
    status: str = Field(default="published", max_length=16)  # draft | published | archived


class KnowledgeArticle(KnowledgeArticleBase, table=True):
    __tablename__ = "knowledge_article"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=200, unique=True)
    version: int = 1
    used_count: int = 0
    helpful_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
