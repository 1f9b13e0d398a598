"""CLI for the knowledge base: ``kb add|edit|list|show|search``.

Article text may come from an import, so it is printed as plain ``Text``,
never as markup; search matches are styled from the snippet's spans.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from agent_tui.cli.common import (
    CONTEXT,
    EXIT_USAGE,
    DbOption,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    handle_errors,
    store_for,
)
from agent_tui.domain.views_knowledge import (
    ArticleCreate,
    ArticleStatus,
    ArticleUpdate,
    ArticleView,
    Suggestion,
)
from agent_tui.services import knowledge, knowledge_articles

kb_app = typer.Typer(name="kb", help="Knowledge base: articles and their search.",
                     context_settings=CONTEXT, no_args_is_help=True)

TitleOpt = Annotated[str | None, typer.Option("--title", help="The article's title.")]
BodyOpt = Annotated[str | None, typer.Option(
    "--body", help="The article's text; '-' reads it from standard input.")]
TagsOpt = Annotated[str | None, typer.Option("--tags", help="Comma-separated: refund,billing.")]
LocaleOpt = Annotated[str | None, typer.Option("--locale", help="Language: en, zh, ….")]
StatusOpt = Annotated[str | None, typer.Option(
    "--status", help="draft, published or archived (only published articles are searched).")]


def _status(value: str | None) -> ArticleStatus | None:
    if value is None:
        return None
    try:
        return ArticleStatus(value.strip().lower())
    except ValueError:
        fail(f"--status: {value!r} is not one of draft, published, archived", EXIT_USAGE)


def _body(value: str | None) -> str | None:
    return sys.stdin.read() if value == "-" else value


def _tags(value: str | None) -> list[str] | None:
    return None if value is None else [t for t in value.split(",") if t.strip()]


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _show(view: ArticleView) -> None:
    console.print(Text(f"#{view.id} {view.title}", style="bold"))
    meta = (f"locale {view.locale} · {view.status} · version {view.version} · "
            f"used {view.used_count} · helpful {view.helpful_count}")
    if view.tags:
        meta += " · tags " + ", ".join(view.tags)
    console.print(Text(meta, style="dim"))
    console.print(Text(view.body))


@kb_app.command("add")
@handle_errors
def kb_add(title: TitleOpt = None, body: BodyOpt = None, tags: TagsOpt = None,
           locale: LocaleOpt = "en", status: StatusOpt = "published",
           external_id: Annotated[str | None, typer.Option(
               "--external-id", help="A stable id from another system (for re-imports).")] = None,
           db: DbOption = None, as_json: JsonOption = False) -> None:
    """Add an article (it is searchable at once when published)."""
    text = _body(body)
    if not title or text is None:
        fail("kb add needs --title and --body", EXIT_USAGE)
    data = ArticleCreate(title=title, body=text, tags=_tags(tags) or [], locale=locale or "en",
                         status=_status(status) or ArticleStatus.PUBLISHED,
                         external_id=external_id)
    with store_for(db) as store:
        view = store.run_write(lambda s: knowledge_articles.add_article(s, cli_actor(), data))
    if as_json:
        emit_json(view)
        return
    _say(f"Added article #{view.id} {view.title} ({view.locale}, {view.status}).")


@kb_app.command("edit")
@handle_errors
def kb_edit(article_id: Annotated[int, typer.Argument(help="The article's id.")],
            title: TitleOpt = None, body: BodyOpt = None, tags: TagsOpt = None,
            locale: LocaleOpt = None, status: StatusOpt = None,
            db: DbOption = None, as_json: JsonOption = False) -> None:
    """Change an article's title, text, tags, locale or status."""
    changes = ArticleUpdate(title=title, body=_body(body), tags=_tags(tags), locale=locale,
                            status=_status(status))
    with store_for(db) as store:
        view = store.run_write(lambda s: knowledge_articles.edit_article(
            s, cli_actor(), article_id, changes))
    if as_json:
        emit_json(view)
        return
    _say(f"Article #{view.id} is at version {view.version}.")


@kb_app.command("list")
@handle_errors
def kb_list(status: StatusOpt = None, locale: LocaleOpt = None,
            limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 200,
            db: DbOption = None, as_json: JsonOption = False) -> None:
    """List articles by id (no bodies)."""
    wanted = _status(status)
    with store_for(db) as store, store.read() as s:
        rows = knowledge_articles.list_articles(
            s, status=wanted.value if wanted else None, locale=locale, limit=limit)
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Knowledge base", title_justify="left", box=box.SIMPLE_HEAD)
    for name, justify in (("id", "right"), ("title", "left"), ("locale", "left"),
                          ("status", "left"), ("used", "right"), ("helpful", "right"),
                          ("tags", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        table.add_row(Text(str(r.id)), Text(r.title), Text(r.locale), Text(r.status),
                      Text(str(r.used_count)), Text(str(r.helpful_count)),
                      Text(", ".join(r.tags)))
    console.print(table)


@kb_app.command("show")
@handle_errors
def kb_show(article_id: Annotated[int, typer.Argument(help="The article's id.")],
            db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show one article with its text."""
    with store_for(db) as store, store.read() as s:
        view = knowledge_articles.get_article(s, article_id)
    if as_json:
        emit_json(view)
    else:
        _show(view)


def _snippet_text(hit: Suggestion) -> Text:
    text = Text()
    for span in hit.spans:
        text.append(span.text.replace("\n", " "), style="bold yellow" if span.match else "")
    return text


@kb_app.command("search")
@handle_errors
def kb_search(query: Annotated[str, typer.Argument(help="What the customer asked.")],
              k: Annotated[int, typer.Option("--k", help="How many articles.")] = 5,
              locale: LocaleOpt = None,
              db: DbOption = None, as_json: JsonOption = False) -> None:
    """Search published articles the way suggestions do (typos, stems, Chinese)."""
    with store_for(db) as store, store.read() as s:
        hits = knowledge.search(s, query, k=k, locale=locale)
    if as_json:
        emit_json(hits)
        return
    if not hits:
        _say("No article matches.")
        return
    table = Table(box=box.SIMPLE_HEAD, show_lines=False)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("conf", justify="right", no_wrap=True)
    table.add_column("article", ratio=1)
    for hit in hits:
        cell = Text(hit.title, style="bold")
        cell.append("\n")
        cell.append_text(_snippet_text(hit))
        table.add_row(Text(str(hit.article_id)), Text(f"{hit.score:.2f}"),
                      Text(f"{hit.confidence:.2f}"), cell)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``kb`` command group to ``app``."""
    app.add_typer(kb_app)
