"""Agent feedback on articles, and how it lifts them for similar tickets later.

``used`` (inserted into a reply) and ``helpful`` each add one to the
article's counter and write exactly one event. With a ticket, the ticket's
leading query terms (subject first, then category, product, message) are
remembered against the article in ``knowledge_feedback_term``. A later query
that shares those terms multiplies the article's score by up to
:data:`MAX_BOOST`: bounded, and only for articles the query already found,
so popularity can reorder close results but never pull in an unrelated one.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.errors import Invalid, NotFound
from agent_tui.domain.search_text import query_terms
from agent_tui.domain.tables import KnowledgeArticle, KnowledgeFeedbackTerm, Ticket
from agent_tui.domain.views_knowledge import FeedbackKind
from agent_tui.store.events import Actor, append_event

#: Highest score factor feedback can give an article.
MAX_BOOST = 1.4
#: Terms of a ticket remembered per feedback action.
REMEMBERED_TERMS = 12
#: Hits of one term beyond this count no more (one loud term cannot dominate).
HITS_CAP = 3
#: Query terms that must all match remembered ones for the full boost.
FULL_BOOST_TERMS = 4

KA = KnowledgeArticle.__table__  # type: ignore[attr-defined]
FT = KnowledgeFeedbackTerm.__table__  # type: ignore[attr-defined]


def feedback_boosts(session: Session, terms: list[str], article_ids: list[int]) -> dict[int, float]:
    """Score factors (1 .. MAX_BOOST) for those of ``article_ids`` with matching feedback.

    One primary-key range read per query term: ``(term, article_id)``.
    """
    if not terms or not article_ids:
        return {}
    hits = sa.func.sum(sa.func.min(FT.c.hits, HITS_CAP)) if session.get_bind().dialect.name \
        == "sqlite" else sa.func.sum(sa.func.least(FT.c.hits, HITS_CAP))
    rows = session.execute(
        sa.select(FT.c.article_id, hits)
        .where(FT.c.term.in_(terms), FT.c.article_id.in_(article_ids))
        .group_by(FT.c.article_id))
    full = HITS_CAP * min(len(terms), FULL_BOOST_TERMS)
    return {int(aid): 1.0 + (MAX_BOOST - 1.0) * min(1.0, float(total) / full)
            for aid, total in rows if total}


def _remember(session: Session, article_id: int, terms: list[str]) -> None:
    dialect = session.get_bind().dialect.name
    for term in terms:
        params = {"t": term, "a": article_id}
        if dialect == "sqlite":
            sql = ("INSERT INTO knowledge_feedback_term (term, article_id, hits) "
                   "VALUES (:t, :a, 1) ON CONFLICT (term, article_id) "
                   "DO UPDATE SET hits = hits + 1")
        else:
            sql = ("INSERT INTO knowledge_feedback_term (term, article_id, hits) "
                   "VALUES (:t, :a, 1) ON CONFLICT (term, article_id) "
                   "DO UPDATE SET hits = knowledge_feedback_term.hits + 1")
        session.execute(sa.text(sql), params)


def record_feedback(session: Session, actor: Actor, article_id: int, kind: FeedbackKind | str,
                    *, ticket_id: int | None = None) -> int:
    """Count one ``used``/``helpful`` on an article; return its new count.

    Any signed-in agent may give feedback. Exactly one event
    (``kb.used``/``kb.helpful``) per call.
    """
    try:
        kind = FeedbackKind(kind)
    except ValueError as exc:
        raise Invalid("kind", "must be 'used' or 'helpful'") from exc
    column = KA.c.used_count if kind is FeedbackKind.USED else KA.c.helpful_count
    new = session.execute(sa.update(KA).where(KA.c.id == article_id)
                          .values({column.name: column + 1}).returning(column)).scalar()
    if new is None:
        raise NotFound("article", article_id)
    terms: list[str] = []
    if ticket_id is not None:
        # Imported here: knowledge imports this module for the boosts.
        from agent_tui.services.knowledge import ticket_query
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound("ticket", ticket_id)
        query, context = ticket_query(session, ticket_id)
        head = query_terms(f"{ticket.subject} {context}")
        rest = [t for t in query_terms(query) if t not in head]
        terms = (head + rest)[:REMEMBERED_TERMS]
        _remember(session, article_id, terms)
    append_event(session, actor, kind=f"kb.{kind.value}", entity="kb", entity_id=article_id,
                 after={column.name: int(new)},
                 extra={"ticket_id": ticket_id, "terms": terms})
    return int(new)
