"""Text preparation for the knowledge index, shared by documents and queries.

Both sides of a full-text match must cut text into the same terms, so this
one module does it for the SQLite index (through the ``kb_prep`` SQL
function its triggers call), for every query, and for the typo and
highlight logic:

* Latin words are NFKC-folded, lower-cased, apostrophes dropped ("can't" →
  "cant"), English stopwords removed and stemmed with the Snowball English
  stemmer (the algorithm PostgreSQL's ``english`` configuration uses, so
  both stores agree on "cancelling" → "cancel").
* CJK runs (Chinese, Japanese kana, Korean) become overlapping bigrams
  ("忘记密码" → "忘记 记密 密码"), so a 2-character word matches wherever it
  occurs; FTS5's trigram tokenizer would silently find nothing for it. A
  one-character run stays a unigram.
* Queries additionally drop customer noise — order numbers, greetings,
  Chinese filler such as 我想/怎么办 — and are capped at :data:`MAX_QUERY_TERMS`
  terms so a long ticket cannot make a slow query.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]

from agent_tui.domain import search_synonyms as synonyms

#: A long ticket cannot make a query with more terms than this.
MAX_QUERY_TERMS = 32

_CJK_CLASS = ("\u1100-\u11ff\u3040-\u30ff\u3100-\u312f\u31f0-\u31ff\u3400-\u4dbf"
              "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff")
CJK_RE = re.compile(f"[{_CJK_CLASS}]")
_TOKEN_RE = re.compile(f"[{_CJK_CLASS}]+|[^\\W_]+")
_APOSTROPHES = re.compile("['\u2019\u02bc]")

# Classic English function words plus what customers add around a request.
# Dropped on both sides; never worth a posting-list read.
STOPWORDS: frozenset[str] = frozenset("""
a about above after again against all am an and any are aren arent as at be because been
before being below between both but by can cannot cant could couldnt did didnt do does doesnt
doing dont down during each few for from further had hadnt has hasnt have havent having he
her here hers herself him himself his how i id if ill im in into is isnt it its itself ive
just let lets me more most mustnt my myself no nor not of off on once only or other ought
our ours ourselves out over own same shant she should shouldnt so some such than that thats
the their theirs them themselves then there theres these they theyre this those through to
too under until up very was wasnt we were werent what whats when where which while who whom
why will with wont would wouldnt you your youre yours yourself yourselves
hi hello hey dear thanks thank thx ty please pls plz kindly sir madam team regards asap
also really still yet ok okay yes want wanted wanna need needs needed like get got gotten
help assist assistance u ur im ya hiya good morning afternoon evening day
""".split())

# Chinese filler, removed from queries only (documents keep every bigram):
# longest first so that 怎么办 goes before 怎么.
_ZH_FILLER = sorted("""
请问 麻烦 帮我 帮忙 一下 怎么办 怎么样 怎么 如何 为什么 什么 可以 能不能 是不是 有没有
我想 我要 我的 你们 您好 你好 谢谢 一直 还是 但是 已经 现在 这个 那个 到底 客服 哪里
我 你 您 的 了 吗 呢 啊 吧 呀 哦 嘛 还 想 要 请 是 在 就 都 也 和 呐
""".split(), key=len, reverse=True)
_ZH_FILLER_RE = re.compile("|".join(map(re.escape, _ZH_FILLER)))

_stemmer = snowballstemmer.stemmer("english")


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), lower case, no apostrophes."""
    return _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text or "").lower())


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball English stem of one lower-case word (cached: vocabularies are small)."""
    return str(_stemmer.stemWord(word))


def bigrams(run: str) -> list[str]:
    """Overlapping bigrams of a CJK run; a single character stays itself."""
    if len(run) < 2:
        return [run] if run else []
    return [run[i:i + 2] for i in range(len(run) - 1)]


def is_cjk(text: str) -> bool:
    """True when ``text`` holds any CJK character (used to guess a ticket's language)."""
    return CJK_RE.search(text or "") is not None


def cjk_share(text: str) -> float:
    """Share of letters in ``text`` that are CJK: 0.0 for English, ~1.0 for Chinese."""
    letters = [c for c in text or "" if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if CJK_RE.match(c)) / len(letters)


@lru_cache(maxsize=200_000)
def _word_term(word: str) -> str | None:
    if word in STOPWORDS:
        return None
    return stem(word)


def document_terms(text: str) -> list[str]:
    """Every index term of a document's text, in order (duplicates kept: BM25 counts them)."""
    out: list[str] = []
    for token in _TOKEN_RE.findall(normalise(text)):
        if CJK_RE.match(token):
            out.extend(bigrams(token))
        else:
            term = _word_term(token)
            if term:
                out.append(term)
    return out


def prepare_document(text: str | None) -> str:
    """The text the index stores for a column: its terms joined by spaces."""
    return " ".join(document_terms(text or ""))


def _noise(word: str) -> bool:
    """Order numbers, phone numbers, ids: anything with three digits or more."""
    return sum(ch.isdigit() for ch in word) >= 3


Group = list[tuple[str, str]]


def _cjk_terms(phrase: str) -> list[str]:
    return [b for part in _ZH_FILLER_RE.split(phrase) for b in bigrams(part)]


def query_groups(text: str) -> list[Group]:
    """A query's term groups in order: each word (or bigram) with its synonyms.

    Every group is a list of ``(term, raw)``; ``raw`` is the normalised word
    before stemming (for typo expansion), the first pair is the word itself
    and the rest are synonyms from :mod:`agent_tui.domain.search_synonyms`.
    A group counts once towards coverage. Noise (order numbers, stopwords,
    Chinese filler) is dropped; nothing is capped yet.
    """
    norm = normalise(text)
    groups: list[Group] = []
    heads: set[str] = set()
    by_bigram: dict[str, Group] = {}
    for token in _TOKEN_RE.findall(norm):
        if CJK_RE.match(token):
            for b in _cjk_terms(token):
                if b not in heads:
                    heads.add(b)
                    group: Group = [(b, b)]
                    groups.append(group)
                    by_bigram[b] = group
            continue
        if _noise(token) or len(token) < 2:
            continue
        head = _word_term(token)
        pairs: Group = [(head, token)] if head and head not in heads else []
        for word in synonyms.EN.get(token, "").split():
            term = stem(word)
            if word not in STOPWORDS and all(term != t for t, _ in pairs):
                pairs.append((term, word))
        if head:
            heads.add(head)
        if pairs:
            groups.append(pairs)
    for key, value in synonyms.ZH.items():
        if key not in norm:
            continue
        extra = [(b, b) for word in value.split() for b in _cjk_terms(word)]
        target = by_bigram.get(key[:2])
        if target is None:
            target = []
            groups.append(target)
        for pair in extra:
            if pair not in target:
                target.append(pair)
    return [g for g in groups if g]


def query_words(text: str) -> list[tuple[str, str]]:
    """Every distinct ``(term, raw)`` of a query's groups, in order, not capped."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for group in query_groups(text):
        for term, raw in group:
            if term not in seen:
                seen.add(term)
                out.append((term, raw))
    return out


def query_terms(text: str, *, limit: int = MAX_QUERY_TERMS) -> list[str]:
    """The distinct index terms of a query, noise removed, at most ``limit``."""
    return [term for term, _raw in query_words(text)[:limit]]


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def edits1(word: str) -> set[str]:
    """Every ASCII word one edit (delete, swap, replace, insert) away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}


def typo_candidates(raw: str) -> dict[str, str]:
    """Stems of the words one edit from ``raw``: ``{stem: word}``.

    Only ASCII words of 5+ letters, and only candidates with the same first
    letter: shorter words have too many neighbours to guess right, and
    customers rarely mistype the first letter ("refudn", "pasword").
    """
    if len(raw) < 5 or not raw.isascii() or not raw.isalpha():
        return {}
    out: dict[str, str] = {}
    for cand in sorted(edits1(raw)):
        if cand[:1] != raw[:1] or cand in STOPWORDS:
            continue
        out.setdefault(stem(cand), cand)
    return out


def highlight_spans(text: str, terms: set[str]) -> list[tuple[str, bool]]:
    """Cut ``text`` into ``(piece, is_match)`` spans: words or CJK characters of a matched term.

    The pieces concatenate back to ``text`` exactly, so a UI can render the
    original text and style the matches without any markup.
    """
    marks = [False] * len(text)
    for m in _TOKEN_RE.finditer(text):
        token = normalise(m.group())
        if CJK_RE.match(m.group()):
            for i in range(len(m.group()) - 1):
                if m.group()[i:i + 2] in terms:
                    marks[m.start() + i] = marks[m.start() + i + 1] = True
            if len(m.group()) == 1 and m.group() in terms:
                marks[m.start()] = True
        elif token not in STOPWORDS and stem(token) in terms:
            for i in range(m.start(), m.end()):
                marks[i] = True
    spans: list[tuple[str, bool]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or marks[i] != marks[start]:
            spans.append((text[start:i], marks[start]))
            start = i
    return spans
