"""Knowledge-base articles: add, edit (admins), list and read (everyone).

Each write is one event; the full-text index follows by trigger in the same
transaction (see :mod:`agent_tui.store.search_index`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.enums import Role
from agent_tui.domain.errors import Conflict, Invalid, NotFound
from agent_tui.domain.rules import normalise_tags
from agent_tui.domain.safe_text import safe_line, safe_text
from agent_tui.domain.tables import KnowledgeArticle, utcnow
from agent_tui.domain.views_knowledge import (
    ArticleCreate,
    ArticleRow,
    ArticleStatus,
    ArticleUpdate,
    ArticleView,
)
from agent_tui.services.perms import require
from agent_tui.store.events import Actor, append_event, changes, last_actor

MAX_TITLE = 300
MAX_ARTICLE_BODY = 200_000


def _view(a: KnowledgeArticle) -> ArticleView:
    assert a.id is not None
    return ArticleView(id=a.id, title=safe_line(a.title), body=safe_text(a.body),
                       tags=[safe_line(t) for t in a.tags.split()], locale=a.locale,
                       status=a.status, external_id=a.external_id, version=a.version,
                       used_count=a.used_count, helpful_count=a.helpful_count,
                       created_at=a.created_at, updated_at=a.updated_at)


def _title(value: str) -> str:
    title = safe_line(value).strip()
    if not title:
        raise Invalid("title", "must not be empty")
    if len(title) > MAX_TITLE:
        raise Invalid("title", f"longer than {MAX_TITLE} characters")
    return title


def _body(value: str) -> str:
    body = safe_text(value).strip("\n")
    if not body.strip():
        raise Invalid("body", "must not be empty")
    if len(body) > MAX_ARTICLE_BODY:
        raise Invalid("body", f"longer than {MAX_ARTICLE_BODY} characters")
    return body


def _locale(value: str) -> str:
    locale = safe_line(value).strip().lower()
    if not locale or len(locale) > 16 or not all(c.isalnum() or c == "-" for c in locale):
        raise Invalid("locale", "must be a language tag such as en or zh")
    return locale


def _state(a: KnowledgeArticle) -> dict[str, Any]:
    return {"title": a.title, "tags": a.tags, "locale": a.locale, "status": a.status,
            "body": f"({len(a.body)} characters)", "version": a.version}


def get_article(session: Session, article_id: int) -> ArticleView:
    article = session.get(KnowledgeArticle, article_id)
    if article is None:
        raise NotFound("article", article_id)
    return _view(article)


def list_articles(session: Session, *, status: str | None = None, locale: str | None = None,
                  limit: int = 200, after_id: int = 0) -> list[ArticleRow]:
    """Articles by id (keyset on the primary key), without bodies."""
    ka = KnowledgeArticle.__table__  # type: ignore[attr-defined]
    stmt = sa.select(ka.c.id, ka.c.title, ka.c.tags, ka.c.locale, ka.c.status, ka.c.used_count,
                     ka.c.helpful_count, ka.c.updated_at).where(ka.c.id > after_id)
    if status:
        stmt = stmt.where(ka.c.status == status)
    if locale:
        stmt = stmt.where(ka.c.locale == locale)
    rows = session.execute(stmt.order_by(ka.c.id).limit(max(1, min(limit, 10_000))))
    return [ArticleRow(id=r.id, title=safe_line(r.title),
                       tags=[safe_line(t) for t in r.tags.split()], locale=r.locale,
                       status=r.status, used_count=r.used_count, helpful_count=r.helpful_count,
                       updated_at=r.updated_at) for r in rows]


def add_article(session: Session, actor: Actor, data: ArticleCreate) -> ArticleView:
    require(actor, Role.ADMIN, "adding a knowledge article")
    external_id = safe_line(data.external_id or "").strip() or None
    if external_id is not None and session.execute(
            sa.select(KnowledgeArticle.id).where(  # type: ignore[call-overload]
                KnowledgeArticle.external_id == external_id)).first() is not None:
        raise Invalid("external_id", f"an article with external id {external_id!r} exists")
    now = utcnow()
    article = KnowledgeArticle(
        title=_title(data.title), body=_body(data.body),
        tags=" ".join(normalise_tags(data.tags)), locale=_locale(data.locale),
        status=ArticleStatus(data.status).value,
        external_id=external_id,
        version=1, created_at=now, updated_at=now)
    session.add(article)
    session.flush()
    assert article.id is not None
    append_event(session, actor, kind="kb.created", entity="kb", entity_id=article.id,
                 after=_state(article))
    return _view(article)


def edit_article(session: Session, actor: Actor, article_id: int, changes_in: ArticleUpdate, *,
                 expected_version: int | None = None) -> ArticleView:
    """Change an article's fields; a stale ``expected_version`` raises ``Conflict``."""
    require(actor, Role.ADMIN, "editing a knowledge article")
    article = session.execute(sa.select(KnowledgeArticle).where(
        KnowledgeArticle.id == article_id).with_for_update()).scalar_one_or_none()  # type: ignore[arg-type]
    if article is None:
        raise NotFound("article", article_id)
    if expected_version is not None and article.version != expected_version:
        raise Conflict(article.version, last_actor(session, "kb", article_id),
                       entity="kb", key=article_id)
    old = _state(article)
    old_body = article.body
    if changes_in.title is not None:
        article.title = _title(changes_in.title)
    if changes_in.body is not None:
        article.body = _body(changes_in.body)
    if changes_in.tags is not None:
        article.tags = " ".join(normalise_tags(changes_in.tags))
    if changes_in.locale is not None:
        article.locale = _locale(changes_in.locale)
    if changes_in.status is not None:
        article.status = ArticleStatus(changes_in.status).value
    new = _state(article)
    if new == old and article.body == old_body:
        return _view(article)
    article.version += 1
    article.updated_at = utcnow()
    session.flush()
    before, after = changes(old, {**new, "version": article.version})
    if article.body != old_body and "body" not in after:
        before["body"], after["body"] = old["body"], new["body"] + " (edited)"
    append_event(session, actor, kind="kb.updated", entity="kb", entity_id=article_id,
                 before=before, after=after)
    return _view(article)
