"""HTML bodies as readable plain text: what help-desk exports put in bodies and articles.

Zendesk and Freshdesk export article bodies (and some ticket descriptions) as
HTML. Stored as it came, an agent would read ``<p>`` and ``&nbsp;`` in the
thread and the suggestions, and insert them into a reply. :func:`html_to_text`
keeps what a reader needs: paragraphs, line breaks, list items, table cells,
link targets and image descriptions; scripts, styles and comments go.

Only text that :func:`looks_like_html` is converted, so a customer writing
``a < b`` or ``<3`` keeps their words. The result is plain text: it still goes
through ``safe_text`` like any customer-written string (ARCHITECTURE §9).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_TAG_NAMES = (r"p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|span|strong|em|b|i|u|s|a|img|table|"
              r"thead|tbody|tr|td|th|blockquote|pre|code|html|head|body|font|section|"
              r"article|header|footer|nav|figure|figcaption|style|script|center|small|sup|sub")
_HTML_TAG = re.compile(rf"</?(?:{_TAG_NAMES})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,7}|#x[0-9a-fA-F]{1,6});")

_BLOCK = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table",
                    "blockquote", "pre", "section", "article", "header", "footer", "nav",
                    "figure", "center", "hr"})
_LINE = frozenset({"tr", "dt", "dd", "figcaption"})
_HIDDEN = frozenset({"script", "style", "head", "title", "noscript", "template"})
_SPACE = re.compile(r"[ \t\r\n\f\u00a0]+")


def looks_like_html(text: str) -> bool:
    """Whether ``text`` is HTML markup rather than prose that happens to hold a ``<``."""
    return "<" in text and _HTML_TAG.search(text) is not None


def html_to_text(markup: str) -> str:
    """Readable plain text of an HTML fragment or page."""
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return parser.text()


def plain_body(text: str) -> str:
    """``text`` itself, or its readable text if it is HTML (see :func:`looks_like_html`)."""
    return html_to_text(text) if looks_like_html(text) else text


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._hidden = 0  # inside <script>, <style>...
        self._pre = 0
        self._lists: list[int | None] = []  # per open list: next number (ol) or None (ul)
        self._links: list[str | None] = []  # href of each open <a>
        self._link_text: list[int] = []  # where each open <a>'s text starts in _out

    # -- building --------------------------------------------------------
    def _newlines(self, count: int) -> None:
        """End the current line; ``count`` 2 leaves a blank line (a paragraph)."""
        tail = "".join(self._out[-3:])
        have = len(tail) - len(tail.rstrip("\n")) if tail.strip(" ") else count
        if self._out and have < count:
            self._out.append("\n" * (count - have))

    def text(self) -> str:
        lines = [line.rstrip() for line in "".join(self._out).split("\n")]
        joined = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip("\n")

    # -- parser callbacks ------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
            return
        if self._hidden:
            return
        if tag == "br":
            self._out.append("\n")
        elif tag in _BLOCK:
            self._newlines(1 if tag in ("ul", "ol") and self._lists else 2)  # a nested list
            if tag == "pre":
                self._pre += 1
            elif tag in ("ul", "ol"):
                self._lists.append(1 if tag == "ol" else None)
            elif tag == "hr":
                self._out.append("———")
                self._newlines(2)
        elif tag in _LINE:
            self._newlines(1)
        elif tag == "li":
            self._newlines(1)
            depth = max(len(self._lists) - 1, 0)
            number = self._lists[-1] if self._lists else None
            if number is None:
                self._out.append("  " * depth + "- ")
            else:
                self._out.append("  " * depth + f"{number}. ")
                self._lists[-1] = number + 1
        elif tag in ("td", "th"):
            if self._out and not self._out[-1].endswith("\n"):
                self._out.append(" | ")
        elif tag == "a":
            self._links.append(dict(attrs).get("href"))
            self._link_text.append(len(self._out))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self._out.append(f"[image: {_SPACE.sub(' ', alt)}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
            return
        if self._hidden:
            return
        if tag in _BLOCK:
            if tag == "pre":
                self._pre = max(self._pre - 1, 0)
            elif tag in ("ul", "ol") and self._lists:
                self._lists.pop()
            self._newlines(1 if tag in ("ul", "ol") and self._lists else 2)
        elif tag in _LINE or tag == "li":
            self._newlines(1)
        elif tag == "a" and self._links:
            href, start = self._links.pop(), self._link_text.pop()
            shown = "".join(self._out[start:]).strip()
            if href and re.match(r"(?i)(https?:|mailto:)", href) and href.removeprefix(
                    "mailto:") not in shown:
                self._out.append(f" ({href})")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre:
            self._out.append(data)
            return
        text = _SPACE.sub(" ", data)
        if not text.strip():
            if self._out and not self._out[-1].endswith((" ", "\n")):
                self._out.append(" ")
            return
        if self._out and self._out[-1].endswith("\n"):
            text = text.lstrip(" ")
        self._out.append(text)
