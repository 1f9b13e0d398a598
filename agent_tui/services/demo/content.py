"""The demo company's content: topics, knowledge base and names (``data/*.json``).

Everything is cleaned once, here: templates go through ``safe_text`` and
names through ``safe_line``, so the text the generator assembles from them
(a template with names, numbers and dates filled in) is already safe and
the hot loop does not run the regex per message. Unknown ``{…}`` in a
template are escaped so that filling it can never raise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from agent_tui.domain.enums import Priority
from agent_tui.domain.safe_text import safe_line, safe_text

DATA = Path(__file__).with_name("data")
PLACEHOLDERS = ("name", "order", "product", "amount", "agent", "date")
TEAMS = ("billing", "logistics", "accounts", "tech", "sales")
_FIELD = re.compile(r"\{(\w*)\}")


class ContentError(ValueError):
    """The content files are missing or malformed."""


def _template(text: str) -> str:
    """A ``str.format_map`` template: known placeholders kept, other braces escaped."""
    text = safe_text(text)
    parts: list[str] = []
    pos = 0
    for m in _FIELD.finditer(text):
        parts.append(text[pos:m.start()].replace("{", "{{").replace("}", "}}"))
        parts.append(m.group(0) if m.group(1) in PLACEHOLDERS else
                     m.group(0).replace("{", "{{").replace("}", "}}"))
        pos = m.end()
    parts.append(text[pos:].replace("{", "{{").replace("}", "}}"))
    return "".join(parts)


@dataclass(frozen=True)
class Topic:
    """One kind of customer problem with its texts, in one language."""

    key: str
    locale: str
    category: str
    product: str | None
    team: str
    skills: tuple[str, ...]
    priority_weights: tuple[int, int, int, int]  # low, normal, high, urgent
    subjects: tuple[str, ...]
    openers: tuple[str, ...]
    followups: tuple[str, ...]
    agent_replies: tuple[str, ...]
    notes: tuple[str, ...]
    bot_replies: tuple[str, ...]
    kb: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    external_id: str
    title: str
    body: str
    tags: tuple[str, ...]
    locale: str


@dataclass(frozen=True)
class Names:
    en_first: tuple[str, ...]
    en_last: tuple[str, ...]
    zh_surname: tuple[str, ...]
    zh_given: tuple[str, ...]
    companies: tuple[str, ...]
    cities_en: tuple[str, ...]
    cities_zh: tuple[str, ...]
    email_domains: tuple[str, ...]


@dataclass(frozen=True)
class Content:
    topics: tuple[Topic, ...]
    articles: tuple[Article, ...]
    names: Names
    products: tuple[str, ...]  # the catalogue: every product a topic names

    def topics_for(self, locale: str) -> tuple[Topic, ...]:
        return tuple(t for t in self.topics if t.locale == locale)


def _read(name: str) -> Any:
    path = DATA / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContentError(f"demo content file missing: {path}") from None
    except ValueError as exc:
        raise ContentError(f"demo content file {path} is not valid JSON: {exc}") from None


def _texts(raw: dict[str, Any], key: str, *, required: bool = True) -> tuple[str, ...]:
    values = tuple(_template(str(v)) for v in raw.get(key) or () if str(v).strip())
    if required and not values:
        raise ContentError(f"topic {raw.get('key')!r} has no {key}")
    return values


def _topic(raw: dict[str, Any]) -> Topic:
    team = str(raw.get("team", ""))
    if team not in TEAMS:
        raise ContentError(f"topic {raw.get('key')!r}: unknown team {team!r}")
    weights = raw.get("priority_weights") or {}
    prio = tuple(max(0, int(weights.get(p.label, 0))) for p in Priority)
    if not any(prio):
        prio = (0, 1, 0, 0)
    product = raw.get("product")
    return Topic(
        key=str(raw["key"]), locale="zh" if raw.get("locale") == "zh" else "en",
        category=safe_line(str(raw.get("category") or "general")),
        product=safe_line(product) if product else None, team=team,
        skills=tuple(safe_line(s) for s in raw.get("skills") or ()),
        priority_weights=(prio[0], prio[1], prio[2], prio[3]),
        subjects=tuple(safe_line(s) for s in _texts(raw, "subjects")),
        openers=_texts(raw, "openers"), followups=_texts(raw, "followups"),
        agent_replies=_texts(raw, "agent_replies"), notes=_texts(raw, "notes"),
        bot_replies=_texts(raw, "bot_replies"), kb=tuple(str(k) for k in raw.get("kb") or ()),
    )


@cache
def load_content() -> Content:
    """Read and clean the content files (once per process)."""
    topics = tuple(_topic(t) for t in _read("topics.json"))
    articles = tuple(
        Article(external_id=str(a["external_id"]), title=safe_line(a["title"]),
                body=safe_text(a["body"]), tags=tuple(safe_line(t) for t in a.get("tags") or ()),
                locale=str(a.get("locale") or locale))
        for locale, name in (("en", "kb_en.json"), ("zh", "kb_zh.json"))
        for a in _read(name)
    )
    raw_names = _read("names.json")
    names = Names(**{k: tuple(safe_line(v) for v in raw_names.get(k) or ())
                     for k in Names.__dataclass_fields__})
    for locale in ("en", "zh"):
        if not any(t.locale == locale for t in topics):
            raise ContentError(f"no {locale} topics in topics.json")
    if not (names.en_first and names.en_last and names.zh_surname and names.zh_given
            and names.cities_en and names.cities_zh and names.email_domains):
        raise ContentError("names.json lacks first names, surnames, cities or e-mail domains")
    products = tuple(sorted({t.product for t in topics if t.product}))
    return Content(topics=topics, articles=articles, names=names,
                   products=products or ("Aurora Hub",))
