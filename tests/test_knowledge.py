"""Knowledge search and suggestions on SQLite and PostgreSQL (the ``store`` fixture).

The demo's 81 articles are the fixtures: real help-centre text in English
and Chinese, searched with customer wording that is not copied from them.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agent_tui.domain.enums import Channel, Role, Source
from agent_tui.domain.errors import Forbidden, Invalid, NotFound
from agent_tui.domain.search_text import MAX_QUERY_TERMS, query_terms
from agent_tui.domain.views import TicketCreate
from agent_tui.domain.views_knowledge import (
    ArticleCreate,
    ArticleStatus,
    ArticleUpdate,
    FeedbackKind,
)
from agent_tui.services import knowledge, knowledge_articles, knowledge_feedback, tickets
from agent_tui.services.importing import import_file
from agent_tui.store import Store, search_index
from agent_tui.store.events import Actor
from agent_tui.store.migrate import upgrade
from tests.conftest import ADMIN, World

DEMO_DATA = Path(__file__).parents[1] / "agent_tui" / "services" / "demo" / "data"
AGENT = Actor(login="alice", role=Role.AGENT, source=Source.TUI)


def demo_articles() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in ("kb_en.json", "kb_zh.json"):
        out += json.loads((DEMO_DATA / name).read_text(encoding="utf-8"))
    return out


def load_demo_kb(store: Store) -> dict[str, int]:
    """Add the demo articles through the service; external id → article id."""
    ids: dict[str, int] = {}
    with store.write() as s:
        for a in demo_articles():
            view = knowledge_articles.add_article(s, ADMIN, ArticleCreate(
                title=a["title"], body=a["body"], tags=a["tags"], locale=a["locale"],
                external_id=a["external_id"]))
            ids[a["external_id"]] = view.id
    return ids


@pytest.fixture
def kb(store: Store) -> tuple[Store, dict[str, int]]:
    return store, load_demo_kb(store)


def top(store: Store, query: str, k: int = 3) -> list[int]:
    with store.read() as s:
        return [h.article_id for h in knowledge.search(s, query, k=k)]


EN_CASES = [
    ("i want to cancel my order #12345", "kb-en-cancel-order"),
    ("cancelling my aurora plus subscription", "kb-en-plus-manage"),
    ("how long until i get my refudn", "kb-en-refund-policy"),
    ("forgot my pwd, need to reset it", "kb-en-password-reset"),
    ("where is my package?? order 88812", "kb-en-track-order"),
    ("the box came smashed and the cam is broken", "kb-en-damaged-delivery"),
    ("you charged me twice!!", "kb-en-duplicate-charge"),
]
ZH_CASES = [
    ("我想退款", {"kb-zh-request-refund", "kb-zh-refund-time"}),
    ("密码忘了怎么办", {"kb-zh-password-reset"}),
    ("订单还没到，物流也不更新", {"kb-zh-delivery-delay"}),
    ("怎么开发票", {"kb-zh-invoice", "kb-zh-vat-special-invoice"}),
    ("摄像头离线了", {"kb-zh-camera-offline"}),
]


@pytest.mark.parametrize(("query", "expected"), EN_CASES)
def test_english_customer_wording_finds_the_article(
        kb: tuple[Store, dict[str, int]], query: str, expected: str) -> None:
    store, ids = kb
    assert ids[expected] in top(store, query, k=3), query


@pytest.mark.parametrize(("query", "expected"), ZH_CASES)
def test_chinese_customer_wording_finds_the_article(
        kb: tuple[Store, dict[str, int]], query: str, expected: set[str]) -> None:
    store, ids = kb
    assert top(store, query, k=1)[0] in {ids[e] for e in expected}, query


def test_two_character_chinese_words_match(kb: tuple[Store, dict[str, int]]) -> None:
    store, ids = kb
    for word, ext in (("退款", "kb-zh-refund-time"), ("密码", "kb-zh-password-reset"),
                      ("发票", "kb-zh-invoice"), ("闪退", "kb-zh-app-crash")):
        assert ids[ext] in top(store, word, k=5), word


def test_mixed_english_and_chinese(kb: tuple[Store, dict[str, int]]) -> None:
    store, ids = kb
    assert top(store, "Aurora Plus 怎么取消自动续费", k=1) == [ids["kb-zh-plus-manage"]]


def test_stemming_and_order_numbers(store: Store) -> None:
    with store.write() as s:
        a = knowledge_articles.add_article(s, ADMIN, ArticleCreate(
            title="Cancel a booking", body="You can cancel within a day."))
        knowledge_articles.add_article(s, ADMIN, ArticleCreate(
            title="Opening hours", body="We are open every day."))
    assert top(store, "cancelling") == [a.id]
    assert top(store, "cancellation of booking 99881234") == [a.id]
    assert "99881234" not in query_terms("cancellation of booking 99881234")


def test_stems_come_from_the_c_snowball_stemmer() -> None:
    # A typo-corrected query stems hundreds of one-edit neighbours of each
    # unknown word: pure-Python Snowball took 30-90 ms of a ticket's opening
    # for that. snowballstemmer hands over to PyStemmer (same algorithm, C)
    # when it is installed; it is a dependency, and this checks it is used.
    from agent_tui.domain import search_text

    assert type(search_text._stemmer).__module__ == "Stemmer"
    words = ["cancelling", "cancellation", "refunds", "passwords", "arriving"]
    assert [search_text.stem(w) for w in words] == [
        "cancel", "cancel", "refund", "password", "arriv"]


def test_stopword_only_query_returns_nothing_without_searching(
        kb: tuple[Store, dict[str, int]]) -> None:
    store, _ = kb
    with store.read() as s:
        assert knowledge.prepare_query(s, "Hi! Is it that I have to? Thanks").searched == []
        assert knowledge.search(s, "Hi! Is it that I have to? Thanks") == []
        assert knowledge.search(s, "   ") == []


def test_long_ticket_is_capped(kb: tuple[Store, dict[str, int]]) -> None:
    store, _ = kb
    text = " ".join(f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(200))
    assert len(query_terms(text)) == MAX_QUERY_TERMS
    with store.read() as s:
        assert len(knowledge.prepare_query(s, text + " refund").terms) <= MAX_QUERY_TERMS


def test_snippet_highlights_and_confidence(kb: tuple[Store, dict[str, int]]) -> None:
    store, ids = kb
    with store.read() as s:
        hits = knowledge.search(s, "how do i reset my password", k=3)
        weak = knowledge.search(s, "video", k=3)
        body = knowledge_articles.get_article(s, hits[0].article_id).body
    best = hits[0]
    assert best.article_id == ids["kb-en-password-reset"]
    assert "[[" in best.snippet and any(sp.match for sp in best.spans)
    assert "".join(sp.text for sp in best.spans).strip("…") in body
    assert 0.0 <= hits[-1].confidence <= best.confidence <= 1.0
    assert best.confidence > 0.6
    assert all(h.score >= n.score for h, n in itertools.pairwise(hits))
    assert weak and weak[0].confidence < best.confidence


# ----------------------------------------------------------------- keeping in step


def test_index_follows_add_edit_and_status(store: Store) -> None:
    with store.write() as s:
        a = knowledge_articles.add_article(s, ADMIN, ArticleCreate(
            title="Pairing the thermostat", body="Hold the button for ten seconds."))
    assert top(store, "thermostat") == [a.id]
    with store.write() as s:
        knowledge_articles.edit_article(s, ADMIN, a.id, ArticleUpdate(title="Pairing the kettle"))
    assert top(store, "thermostat") == []
    assert top(store, "kettle") == [a.id]
    with store.write() as s:
        knowledge_articles.edit_article(s, ADMIN, a.id, ArticleUpdate(status=ArticleStatus.DRAFT))
    assert top(store, "kettle") == []
    with store.write() as s:
        knowledge_articles.edit_article(
            s, ADMIN, a.id, ArticleUpdate(status=ArticleStatus.PUBLISHED, body="Hold it 退款."))
    assert top(store, "退款") == [a.id]


def test_snippets_follow_an_edited_body(store: Store) -> None:
    # Bodies read once are kept (by their text) for the next tickets: an edit is read anew.
    with store.write() as s:
        a = knowledge_articles.add_article(s, ADMIN, ArticleCreate(
            title="Thermostat", body="Intro.\nHold the thermostat button for ten seconds."))
    for _ in range(2):
        with store.read() as s:
            (hit,) = knowledge.search(s, "thermostat button", k=1)
        assert "ten seconds" in hit.snippet
    with store.write() as s:
        knowledge_articles.edit_article(s, ADMIN, a.id, ArticleUpdate(
            body="Intro.\nPress the thermostat button twice."))
    with store.read() as s:
        (hit,) = knowledge.search(s, "thermostat button", k=1)
    assert "twice" in hit.snippet and "ten seconds" not in hit.snippet


def test_a_rolled_back_add_leaves_no_index_row(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as s:
        knowledge_articles.add_article(s, ADMIN, ArticleCreate(title="Ghost", body="boo"))
        raise RuntimeError("abort")
    assert top(store, "ghost") == []


def test_import_path_keeps_the_index_in_step(world: World, tmp_path: Path) -> None:
    store = world.store
    path = tmp_path / "kb.jsonl"
    path.write_text(json.dumps({"external_id": "X-1", "title": "Descaling the kettle",
                                "body": "Use citric acid.", "tags": ["kettle"]}) + "\n",
                    encoding="utf-8")
    import_file(store, ADMIN, kind="kb", path=path)
    (aid,) = top(store, "kettle")
    path.write_text(json.dumps({"external_id": "X-1", "title": "Descaling the espresso machine",
                                "body": "Use citric acid."}) + "\n", encoding="utf-8")
    import_file(store, ADMIN, kind="kb", path=path)
    assert top(store, "kettle") == [aid]  # still in its tags
    assert top(store, "espresso") == [aid]


def test_demo_path_indexes_every_published_article(store: Store) -> None:
    from agent_tui.services.demo import build_demo

    build_demo(store, tickets=20, seed=3, now=datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    with store.read() as s:
        ids = [r[0] for r in s.execute(sa.text(
            "SELECT id FROM knowledge_article WHERE status = 'published'"))]
        assert len(ids) == len(demo_articles())
        assert search_index.indexed_ids(s, ids) == set(ids)
        assert knowledge.search(s, "退款", k=1)
        assert knowledge.search(s, "refund", k=1)


def test_migration_indexes_existing_articles(store_url: str) -> None:
    from agent_tui.store import open_store

    store = open_store(store_url)
    try:
        upgrade(store, "0002")
        with store.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO knowledge_article (title, body, tags, locale, status, version, "
                "used_count, helpful_count, created_at, updated_at) VALUES "
                "('Old article', '旧的退款说明', '', 'zh', 'published', 1, 0, 0, "
                ":t, :t)"), {"t": datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)})
        upgrade(store)
        assert top(store, "退款")
    finally:
        store.dispose()


# ----------------------------------------------------------------- tickets, feedback


def _ticket(store: Store, subject: str, body: str, **kw: Any) -> int:
    with store.write() as s:
        return tickets.create(s, ADMIN, TicketCreate(
            subject=subject, body=body, customer_email="jo@example.com", team="billing",
            channel=Channel.EMAIL, **kw)).id


def test_suggest_uses_subject_message_and_prefers_the_ticket_language(world: World) -> None:
    store = world.store
    ids = load_demo_kb(store)
    en = _ticket(store, "help", "My parcel never arrived and tracking shows nothing", )
    zh = _ticket(store, "退款", "我想申请退款")
    with store.read() as s:
        en_hits = knowledge.suggest(s, AGENT, en, k=3)
        zh_hits = knowledge.suggest(s, AGENT, zh, k=3)
        with pytest.raises(NotFound):
            knowledge.suggest(s, AGENT, 999_999)
    assert ids["kb-en-track-order"] in [h.article_id for h in en_hits]
    assert zh_hits[0].locale == "zh"


def test_feedback_counts_one_event_each_and_lifts_for_similar_tickets(world: World) -> None:
    store = world.store
    with store.write() as s:
        a = knowledge_articles.add_article(s, ADMIN, ArticleCreate(
            title="Refund timing", body="Refunds arrive within five days."))
        b = knowledge_articles.add_article(s, ADMIN, ArticleCreate(
            title="Refund rules", body="Refunds arrive within five days."))
    first = _ticket(store, "Refund for my blender", "Where is my refund for the blender?")
    with store.read() as s:
        before = [h.article_id for h in knowledge.suggest(s, AGENT, first, k=2)]
    loser = before[-1]
    with store.write() as s:
        seq0 = s.execute(sa.text("SELECT max(seq) FROM event")).scalar()
        assert knowledge_feedback.record_feedback(s, AGENT, loser, FeedbackKind.USED,
                                                  ticket_id=first) == 1
        assert knowledge_feedback.record_feedback(s, AGENT, loser, "helpful",
                                                  ticket_id=first) == 1
        kinds = [r[0] for r in s.execute(sa.text(
            "SELECT kind FROM event WHERE seq > :q ORDER BY seq"), {"q": seq0})]
        assert kinds == ["kb.used", "kb.helpful"]
        with pytest.raises(Invalid):
            knowledge_feedback.record_feedback(s, AGENT, loser, "liked")
        with pytest.raises(NotFound):
            knowledge_feedback.record_feedback(s, AGENT, 999_999, "used")
    similar = _ticket(store, "Blender refund", "refund for a blender please")
    unrelated = _ticket(store, "Refund", "refund")
    with store.read() as s:
        assert knowledge.suggest(s, AGENT, similar, k=2)[0].article_id == loser
        view = knowledge_articles.get_article(s, loser)
        assert (view.used_count, view.helpful_count) == (1, 1)
        boosts = knowledge_feedback.feedback_boosts(s, ["refund", "blender"], [a.id, b.id])
        assert 1.0 < boosts[loser] <= knowledge_feedback.MAX_BOOST
        assert knowledge.suggest(s, AGENT, unrelated, k=2)  # still answers


def test_only_admins_write_articles(store: Store) -> None:
    with store.write() as s, pytest.raises(Forbidden):
        knowledge_articles.add_article(s, AGENT, ArticleCreate(title="x", body="y"))


def test_unsafe_article_text_does_not_leak_control_codes(store: Store) -> None:
    hostile = "Refund [/] [bold]now\x1b]52;c;aGk=\x07 \u202eevil\u202c \x1b[31mred"
    with store.write() as s:
        a = knowledge_articles.add_article(s, ADMIN, ArticleCreate(
            title=hostile, body=f"{hostile}\nrefund line"))
        # A raw write (an import from elsewhere) bypasses the service's cleaning.
        s.execute(sa.text("UPDATE knowledge_article SET body = :b WHERE id = :i"),
                  {"b": hostile + " refund", "i": a.id})
    with store.read() as s:
        (hit,) = knowledge.search(s, "refund", k=1)
        shown = knowledge_articles.get_article(s, a.id)
    for text in (hit.title, hit.snippet, *(sp.text for sp in hit.spans), shown.body,
                 shown.title):
        assert not any(c in text for c in "\x1b\x07\u202e\u202c"), text


def test_migration_downgrades_and_upgrades(kb: tuple[Store, dict[str, int]]) -> None:
    from alembic import command

    from agent_tui.store.migrate import _config

    store, ids = kb
    cfg = _config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    with store.engine.connect() as conn:
        names = {r[0] for r in conn.execute(sa.text(
            "SELECT name FROM sqlite_master" if store.is_sqlite else
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
    assert not names & {"kb_fts", "kb_search", "knowledge_feedback_term"}
    with store.write() as s:  # articles still write without the index
        knowledge_articles.add_article(s, ADMIN, ArticleCreate(title="Later", body="退款后"))
    upgrade(store)
    assert top(store, "refund policy", k=1) == [ids["kb-en-refund-policy"]]
    assert top(store, "退款后", k=5)


def test_backup_and_restore_keep_the_index(kb: tuple[Store, dict[str, int]], tmp_path: Path,
                                           request: pytest.FixtureRequest) -> None:
    from agent_tui.services.backup import backup, restore
    from agent_tui.store import open_store
    from tests.conftest import new_pg_database

    store, ids = kb
    out = tmp_path / ("kb.db" if store.is_sqlite else "kb.dump")
    backup(store, out)
    other = (f"sqlite:///{tmp_path / 'restored' / 'store.db'}" if store.is_sqlite
             else new_pg_database(request.getfixturevalue("pg_server")))
    restore(other, out, force=False)
    restored = open_store(other)
    try:
        assert top(restored, "密码忘了怎么办", k=1) == [ids["kb-zh-password-reset"]]
        with restored.write() as s:  # and its triggers still keep it in step
            a = knowledge_articles.add_article(s, ADMIN, ArticleCreate(
                title="Restored kettle", body="descale"))
        assert top(restored, "kettle") == [a.id]
    finally:
        restored.dispose()
