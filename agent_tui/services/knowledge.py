"""Knowledge suggestions: ``search`` a query, ``suggest`` for a ticket (ARCHITECTURE §7).

A query goes through the same text preparation as the articles
(``domain.search_text``), then:

1. **Typo tolerance** — a Latin word of 4+ letters that no article holds is
   replaced by the stem, one edit away, that most articles hold ("refudn" →
   "refund"); one vocabulary lookup for all candidates.
2. **Common terms are demoted** — terms are taken rarest first while the
   rows they match stay under :data:`ROW_BUDGET`; a term over budget is
   matched only in titles and tags (few rows), or left out when even that
   is too many. BM25 costs about a microsecond per matching row, so a term
   in half of 100k articles would cost 50 ms and add almost nothing.
3. **Any two leading words, then any word, with BM25** (title > tags >
   body) over the published articles: articles holding two of the first
   :data:`PAIR_GROUPS` query words come from a cheap posting-list
   intersection; the budgeted OR query fills up the rest. The best
   :data:`CANDIDATES` are re-ranked by language preference and by
   feedback memory (bounded, see :mod:`agent_tui.services.knowledge_feedback`).
4. Each result gets a highlighted snippet and a confidence (see
   ``Suggestion``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from sqlmodel import Session

from agent_tui.domain.errors import NotFound
from agent_tui.domain.safe_text import safe_line, safe_text
from agent_tui.domain.search_text import (
    MAX_QUERY_TERMS,
    Group,
    cjk_share,
    document_terms,
    highlight_spans,
    query_groups,
    typo_candidates,
)
from agent_tui.domain.tables import KnowledgeArticle, Message, Ticket
from agent_tui.domain.views_knowledge import SnippetSpan, Suggestion
from agent_tui.services.knowledge_feedback import feedback_boosts
from agent_tui.store import search_index
from agent_tui.store.events import Actor

#: Articles read from the index before re-ranking.
CANDIDATES = 50
#: Most rows a query may rank (BM25 costs ~1 µs a matching row on the build machine).
ROW_BUDGET = 5_000
#: Leading query words (groups) whose pairs are matched first.
PAIR_GROUPS = 3
#: Terms of one group (a word and its synonyms) used in the pair query.
GROUP_TERMS = 3
#: A word in more than this share of articles is not a leading word.
COMMON_SHARE = 0.3
#: Score factor for an article in the other language than the query's.
OTHER_LOCALE = 0.8
#: A term found only in the body counts this much towards coverage.
BODY_COVERAGE = 0.4
SNIPPET_CHARS = 180
#: Only this much of a body is read for coverage and the snippet.
BODY_SCAN = 6_000

KA = KnowledgeArticle.__table__  # type: ignore[attr-defined]
MSG = Message.__table__  # type: ignore[attr-defined]
TICKET = Ticket.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    """A query's terms after typo correction, with their document frequencies."""

    groups: list[list[str]]  # known terms per query word: a word and its synonyms
    terms: list[str]  # every known term, in query order (feedback, highlighting)
    searched: list[str]  # terms matched in any column (within the row budget)
    head_only: list[str]  # common terms matched only in title and tags
    pairs: list[list[str]]  # the leading groups, for the "any two of them" query
    df: dict[str, int]
    total: int  # about how many articles are indexed


def _capped(groups: list[Group]) -> list[Group]:
    out: list[Group] = []
    seen: set[str] = set()
    for group in groups:
        kept = [(t, r) for t, r in group if t in seen or len(seen) < MAX_QUERY_TERMS]
        seen.update(t for t, _ in kept)
        if kept:
            out.append(kept)
    return out


def prepare_query(session: Session, text: str, *, extra: str | None = None) -> PreparedQuery:
    """Cut ``text`` (then ``extra``) into term groups, correct typos, prune common terms."""
    groups = query_groups(text)
    if extra:
        heads = {g[0][0] for g in groups}
        groups += [g for g in query_groups(extra) if g[0][0] not in heads]
    groups = _capped(groups)
    if not groups:
        return PreparedQuery([], [], [], [], [], {}, 0)
    df = search_index.doc_freqs(session, [t for g in groups for t, _ in g])
    fixes: dict[str, dict[str, str]] = {}
    for group in groups:
        term, raw = group[0]
        if len(group) == 1 and term not in df:
            cands = typo_candidates(raw)
            if cands:
                fixes[term] = cands
    if fixes:
        df.update(search_index.doc_freqs(
            session, sorted({c for cands in fixes.values() for c in cands})))
    known: list[list[str]] = []
    for group in groups:
        terms = [t for t, _ in group if t in df]
        word = group[0][0]
        if not terms and word in fixes:
            found = [c for c in fixes[word] if c in df]
            if found:  # the most common correction; ties by the word itself
                terms = [max(found, key=lambda c: (df[c], c))]
        if terms:
            known.append(terms)
    total = search_index.indexed_count(session) if known else 0
    # The leading words (subject first) that are not in most articles.
    pairs: list[list[str]] = []
    used: set[str] = set()
    for g in known:  # a term leads in one group only, or pairs would match it alone
        own = [t for t in g if t not in used][:GROUP_TERMS]
        if own and min(df[t] for t in own) <= max(total, 1) * COMMON_SHARE:
            pairs.append(own)
            used.update(own)
        if len(pairs) == PAIR_GROUPS:
            break
    lead = [t for g in pairs for t in g]
    flat = list(dict.fromkeys([*lead, *(t for g in known for t in g)]))
    full, head = _plan(session, lead, [t for t in flat if t not in lead], df)
    # Pairs only pay when the plain OR query could not take every term.
    cheap = len(full) == len(flat)
    return PreparedQuery(known, flat, [t for t in flat if t in full],
                         [t for t in flat if t in head],
                         pairs if len(pairs) > 1 and not cheap else [], df, total)


def _plan(session: Session, lead: list[str], rest: list[str],
          df: dict[str, int]) -> tuple[set[str], set[str]]:
    """Which terms to match anywhere, which only in title/tags, within the row budget.

    The leading words first, in query order, then the rest rarest first: a
    term joins the full query while the rows it adds fit :data:`ROW_BUDGET`,
    else the title/tags-only query if its title/tags count fits, else it is
    left out (it is in too many articles to rank anything). The first term
    always joins one of them.
    """
    full: set[str] = set()
    head: set[str] = set()
    rows = 0
    order = [*lead, *sorted(rest, key=lambda t: (df[t], t))]
    heads: dict[str, int] | None = None
    for term in order:
        if rows + df[term] <= ROW_BUDGET:
            full.add(term)
            rows += df[term]
            continue
        if heads is None:
            heads = search_index.head_freqs(session, [t for t in order if t not in full])
        cost = heads.get(term, 0)
        if rows + cost <= ROW_BUDGET or not (full or head):
            head.add(term)
            rows += cost
    return full, head


def _candidates(session: Session, q: PreparedQuery, k: int) -> list[tuple[int, float]]:
    """The best :data:`CANDIDATES` articles: any two leading words first, then any word.

    Used when the plain OR query would rank too many rows (``q.pairs`` is
    then set): articles holding two of the leading words are found by
    intersecting posting lists, which is cheap however common the words
    are; only when they are fewer than ``2 k`` does the budgeted any-word
    query add more. A small knowledge base always takes the plain OR query.
    """
    hits: list[tuple[int, float]] = []
    if q.pairs:
        hits = search_index.match_pairs(session, q.pairs, limit=CANDIDATES)
    if len(hits) < 2 * k:
        seen = {aid for aid, _ in hits}
        more = search_index.match(session, q.searched, head_terms=q.head_only,
                                  limit=CANDIDATES)
        hits += [(aid, score) for aid, score in more if aid not in seen]
    return hits


def _idf(q: PreparedQuery, term: str) -> float:
    return math.log(1.0 + max(q.total, 1) / max(q.df.get(term, 1), 1))


def _coverage(q: PreparedQuery, head: set[str], body: frozenset[str]) -> float:
    """IDF-weighted share of the query's words found in title/tags (1) or body only (0.4).

    A word counts once, through its best synonym; its weight is the IDF of
    its rarest form.
    """
    total = got = 0.0
    for group in q.groups:
        weight = max(_idf(q, t) for t in group)
        total += weight
        got += weight * max(1.0 if t in head else BODY_COVERAGE if t in body else 0.0
                            for t in group)
    return min(1.0, got / total) if total > 0 else 0.0


def _read_body(body: str, terms: set[str]) -> tuple[frozenset[str], str]:
    """The body's terms (first :data:`BODY_SCAN` characters) and its best snippet line.

    One pass: the line with the most distinct query terms wins, the first
    such line on ties.
    """
    seen, lines = _scanned(body)
    best, best_hits = "", -1
    for line, line_terms in lines:
        hits = len(terms & line_terms)
        if hits > best_hits:
            best, best_hits = line, hits
    return seen, best


@lru_cache(maxsize=512)
def _scanned(body: str) -> tuple[frozenset[str], tuple[tuple[str, frozenset[str]], ...]]:
    """A stored body made safe and cut into its non-empty lines with their terms.

    The same few articles are suggested for ticket after ticket, and reading
    their terms was a third of each suggestion's CPU; keyed by the body's
    text itself, so an edited article is read anew.
    """
    lines = []
    seen: set[str] = set()
    for line in safe_text(body)[:BODY_SCAN].splitlines():
        line = line.strip()
        if line:
            line_terms = frozenset(document_terms(line))
            seen |= line_terms
            lines.append((line, line_terms))
    return frozenset(seen), tuple(lines)


def _snippet(line: str, terms: set[str]) -> list[tuple[str, bool]]:
    """``line`` as highlight spans, trimmed to :data:`SNIPPET_CHARS` around its first match."""
    spans = highlight_spans(line[:SNIPPET_CHARS * 4], terms)
    start = 0
    first = next((i for i, (_t, m) in enumerate(spans) if m), None)
    if first is not None:
        offset = sum(len(t) for t, _ in spans[:first])
        if offset > SNIPPET_CHARS // 3:
            start = offset - SNIPPET_CHARS // 4
    out: list[tuple[str, bool]] = []
    pos, used = 0, 0
    for text, is_match in spans:
        end = pos + len(text)
        if end > start and used < SNIPPET_CHARS:
            piece = text[max(0, start - pos):][:SNIPPET_CHARS - used]
            used += len(piece)
            out.append((piece, is_match))
        pos = end
    if start > 0 and out:
        out.insert(0, ("…", False))
    if len(line) - start > used and out:
        out.append(("…", False))
    return out


def marked(spans: list[tuple[str, bool]]) -> str:
    """A snippet as plain text with ``[[match]]`` markers (see ``Suggestion``)."""
    def clean(text: str) -> str:
        return text.replace("[[", "[ [").replace("]]", "] ]")
    return "".join(f"[[{clean(t)}]]" if m else clean(t) for t, m in spans)


def search(session: Session, query: str, *, k: int = 5, locale: str | None = None,
           boost_context: str | None = None) -> list[Suggestion]:
    """The ``k`` best published articles for ``query``.

    ``locale`` is a preference, not a filter: other-language articles score
    :data:`OTHER_LOCALE` times less. When it is ``None`` the query's own
    script decides (CJK → ``zh``). ``boost_context`` (a ticket's category and
    product, say) adds lower-priority terms after the query's own.
    """
    k = max(1, min(k, CANDIDATES))
    q = prepare_query(session, safe_text(query), extra=safe_text(boost_context or ""))
    hits = _candidates(session, q, k)
    if not hits:
        return []
    if locale is None:
        locale = "zh" if cjk_share(query) > 0.3 else "en"
    ids = [aid for aid, _ in hits]
    rows = {r.id: r for r in session.execute(
        sa.select(KA.c.id, KA.c.title, KA.c.tags, KA.c.locale).where(KA.c.id.in_(ids)))}
    boosts = feedback_boosts(session, q.terms, ids)
    ranked: list[tuple[float, int]] = []
    for aid, score in hits:
        row = rows.get(aid)
        if row is None:
            continue
        factor = 1.0 if row.locale.split("-")[0] == locale.split("-")[0] else OTHER_LOCALE
        ranked.append((score * factor * boosts.get(aid, 1.0), aid))
    ranked.sort(key=lambda x: (-x[0], x[1]))
    top = ranked[:k]
    bodies = dict(session.execute(
        sa.select(KA.c.id, KA.c.body).where(KA.c.id.in_([aid for _, aid in top]))).all())
    wanted = set(q.terms)
    out: list[Suggestion] = []
    for i, (score, aid) in enumerate(top):
        row = rows[aid]
        head = set(document_terms(f"{row.title} {row.tags}"))
        body_terms, line = _read_body(bodies.get(aid, ""), wanted)
        cover = _coverage(q, head, body_terms)
        runner_up = ranked[1][0] if i == 0 and len(ranked) > 1 else (score if i else 0.0)
        margin = max(0.0, (score - runner_up) / score) if score > 0 else 0.0
        spans = _snippet(line, wanted)
        out.append(Suggestion(
            article_id=aid, title=safe_line(row.title), snippet=marked(spans),
            spans=[SnippetSpan(text=t, match=m) for t, m in spans], score=round(score, 4),
            confidence=round(min(1.0, cover * (0.6 + 0.4 * min(1.0, 2 * margin))), 4),
            locale=row.locale,
            tags=[safe_line(t) for t in row.tags.split()]))
    return out


def ticket_query(session: Session, ticket_id: int) -> tuple[str, str]:
    """``(query, context)`` for a ticket: subject + latest customer message; category + product."""
    # Three columns, not the ticket object: this runs on every ticket opened.
    ticket = session.execute(
        sa.select(TICKET.c.subject, TICKET.c.category, TICKET.c.product)
        .where(TICKET.c.id == ticket_id)).one_or_none()
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    latest = session.execute(
        sa.select(MSG.c.body).where(MSG.c.ticket_id == ticket_id,
                                    MSG.c.author_kind == "customer")
        .order_by(MSG.c.id.desc()).limit(1)).scalar_one_or_none()
    query = f"{ticket.subject}\n{(latest or '')[:4000]}"
    context = " ".join(x for x in (ticket.category, ticket.product) if x)
    return query, context


def suggest(session: Session, actor: Actor, ticket_id: int, *, k: int = 5) -> list[Suggestion]:
    """The ``k`` best articles for a ticket, its own language first (CJK → ``zh``)."""
    query, context = ticket_query(session, ticket_id)
    locale = "zh" if cjk_share(query) > 0.3 else "en"
    return search(session, query, k=k, locale=locale, boost_context=context)
