"""Knowledge-base full-text index, kept in step with articles by triggers.

SQLite: an FTS5 table ``kb_fts`` (title, tags, body as prepared by the
``kb_prep`` SQL function the engine registers on every connection: Snowball
stems, no stopwords, CJK bigrams) plus its vocabulary views
``kb_fts_vocab`` (documents per term) and ``kb_fts_vocab_col`` (per column).
PostgreSQL: ``kb_search(article_id, doc tsvector)`` with a GIN index, built
by a trigger with weights A (title), B (tags), C (body), and a SQL
``kb_prep`` that turns CJK runs into bigrams. Only published articles are
indexed. Existing articles are indexed here too. Also the feedback memory
table ``knowledge_feedback_term``.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Same ranges as agent_tui.domain.search_text._CJK_CLASS.
CJK = ("\\u1100-\\u11ff\\u3040-\\u30ff\\u3100-\\u312f\\u31f0-\\u31ff\\u3400-\\u4dbf"
       "\\u4e00-\\u9fff\\uac00-\\ud7af\\uf900-\\ufaff")

SQLITE_TRIGGERS = [
    """CREATE TRIGGER kb_fts_ai AFTER INSERT ON knowledge_article
       WHEN new.status = 'published' BEGIN
         INSERT INTO kb_fts (rowid, title, tags, body)
         VALUES (new.id, kb_prep(new.title), kb_prep(new.tags), kb_prep(new.body));
       END""",
    """CREATE TRIGGER kb_fts_ad AFTER DELETE ON knowledge_article BEGIN
         DELETE FROM kb_fts WHERE rowid = old.id;
       END""",
    """CREATE TRIGGER kb_fts_au AFTER UPDATE OF title, tags, body, status
       ON knowledge_article BEGIN
         DELETE FROM kb_fts WHERE rowid = old.id;
         INSERT INTO kb_fts (rowid, title, tags, body)
         SELECT new.id, kb_prep(new.title), kb_prep(new.tags), kb_prep(new.body)
         WHERE new.status = 'published';
       END""",
]

PG_DDL = [
    """CREATE FUNCTION kb_bigrams(run text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
         SELECT CASE WHEN char_length(run) < 2 THEN run ELSE
           (SELECT string_agg(substr(run, i, 2), ' ' ORDER BY i)
            FROM generate_series(1, char_length(run) - 1) AS i) END
       $$""",
    f"""CREATE FUNCTION kb_prep(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
         SELECT coalesce((
           SELECT string_agg(CASE WHEN x.m[1] IS NOT NULL THEN kb_bigrams(x.m[1])
                                  ELSE x.m[2] END, ' ' ORDER BY x.n)
           FROM regexp_matches(lower(normalize(coalesce(t, ''), NFKC)),
                               '([{CJK}]+)|([^{CJK}]+)', 'g') WITH ORDINALITY AS x(m, n)
         ), '')
       $$""",
    """CREATE TABLE kb_search (
         article_id integer PRIMARY KEY REFERENCES knowledge_article (id) ON DELETE CASCADE,
         doc tsvector NOT NULL)""",
    "CREATE INDEX ix_kb_search_doc ON kb_search USING gin (doc)",
    """CREATE FUNCTION kb_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP <> 'INSERT' THEN
           DELETE FROM kb_search WHERE article_id = OLD.id;
         END IF;
         IF TG_OP <> 'DELETE' AND NEW.status = 'published' THEN
           INSERT INTO kb_search (article_id, doc) VALUES (NEW.id,
             setweight(to_tsvector('english', kb_prep(NEW.title)), 'A') ||
             setweight(to_tsvector('english', kb_prep(NEW.tags)), 'B') ||
             setweight(to_tsvector('english', kb_prep(NEW.body)), 'C'));
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER kb_search_sync AFTER INSERT OR DELETE OR UPDATE OF title, tags, body, status
       ON knowledge_article FOR EACH ROW EXECUTE FUNCTION kb_search_sync()""",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "knowledge_feedback_term",
        sa.Column("term", sa.String(64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["knowledge_article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("term", "article_id"),
    )
    op.create_index("ix_kb_feedback_article", "knowledge_feedback_term", ["article_id"])
    if dialect == "sqlite":
        op.execute("CREATE VIRTUAL TABLE kb_fts USING fts5("
                   "title, tags, body, tokenize = 'unicode61 remove_diacritics 2')")
        op.execute("CREATE VIRTUAL TABLE kb_fts_vocab USING fts5vocab(kb_fts, 'row')")
        op.execute("CREATE VIRTUAL TABLE kb_fts_vocab_col USING fts5vocab(kb_fts, 'col')")
        for ddl in SQLITE_TRIGGERS:
            op.execute(ddl)
        op.execute("INSERT INTO kb_fts (rowid, title, tags, body) "
                   "SELECT id, kb_prep(title), kb_prep(tags), kb_prep(body) "
                   "FROM knowledge_article WHERE status = 'published'")
    else:
        for ddl in PG_DDL:
            op.execute(ddl)
        op.execute("""INSERT INTO kb_search (article_id, doc)
            SELECT id, setweight(to_tsvector('english', kb_prep(title)), 'A') ||
                       setweight(to_tsvector('english', kb_prep(tags)), 'B') ||
                       setweight(to_tsvector('english', kb_prep(body)), 'C')
            FROM knowledge_article WHERE status = 'published'""")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("kb_fts_ai", "kb_fts_ad", "kb_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS kb_fts_vocab_col")
        op.execute("DROP TABLE IF EXISTS kb_fts_vocab")
        op.execute("DROP TABLE IF EXISTS kb_fts")
    else:
        op.execute("DROP TRIGGER IF EXISTS kb_search_sync ON knowledge_article")
        op.execute("DROP FUNCTION IF EXISTS kb_search_sync()")
        op.execute("DROP TABLE IF EXISTS kb_search")
        op.execute("DROP FUNCTION IF EXISTS kb_prep(text)")
        op.execute("DROP FUNCTION IF EXISTS kb_bigrams(text)")
    op.drop_index("ix_kb_feedback_article", table_name="knowledge_feedback_term")
    op.drop_table("knowledge_feedback_term")
