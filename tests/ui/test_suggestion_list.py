"""The suggestion list: three rows per article at any width, matches styled, keys move and pick."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult

from agent_tui.domain.views_knowledge import SnippetSpan, Suggestion
from widgets.suggestion_list import ROWS, SuggestionList, fill_lines


def article(i: int, title: str, spans: list[tuple[str, bool]]) -> Suggestion:
    text = "".join(t for t, _ in spans)
    return Suggestion(article_id=i, title=title, snippet=text, score=1.0 / i,
                      confidence=0.5, locale="en", tags=[],
                      spans=[SnippetSpan(text=t, match=m) for t, m in spans])


ITEMS = [
    article(1, "Refund policy", [("Refunds reach your ", False), ("card", True),
                                 (" within 5 to 10 business days. " * 6, False)]),
    article(2, "退款多久到账？" * 8, [("退款", True),
                                   ("会在五到十个工作日内退回原支付方式。" * 4, False)]),
    article(3, "Short", [("One line.", False)]),
    article(4, "Fourth", [("Another.", False)]),
    article(5, "Fifth", [("And one more.", False)]),
]


class ListApp(App[None]):
    CSS = "SuggestionList { width: 40; height: 7; }"
    picked: ClassVar[list[int]] = []

    def compose(self) -> ComposeResult:
        yield SuggestionList()

    def on_suggestion_list_selected(self, message: SuggestionList.Selected) -> None:
        self.picked.append(message.index)


def lines(widget: SuggestionList) -> list[str]:
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def test_every_article_takes_three_rows_cut_to_the_width() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = app.query_one(SuggestionList)
        widget.set_items(ITEMS)
        await pilot.pause()
        assert widget.virtual_size.height == ROWS * len(ITEMS)
        width = widget.scrollable_content_region.width
        assert width == 38  # the scrollbar takes two columns: 15 rows in 7
        rows = [widget._make_rows(s, width) for s in ITEMS]
        for made in rows:
            assert len(made) == ROWS and all(r.cell_length == width for r in made)
        text = [[r.text for r in made] for made in rows]
        assert text[0][0].startswith("Refund policy  50%  en")
        assert text[0][2].rstrip().endswith("…")  # the rest of a long snippet
        assert text[1][0].rstrip().endswith("…")  # a title too wide, in CJK cells
        assert text[2][1].startswith("One line.") and not text[2][2].strip()
        match = [seg for seg in rows[0][1] if seg.text == "card"]
        assert match and match[0].style is not None and match[0].style.reverse
        assert lines(widget)[0].startswith("Refund policy")
        assert not text[1][1].startswith(" ") and text[1][1].startswith("退款会在")


def test_lines_are_filled_at_spaces_and_between_wide_characters() -> None:
    cjk = fill_lines(Text("2. 填写上述资料。首次申请需上传加盖公章的开票资料截图"), 20)
    assert cjk[0].plain.startswith("2. 填写")  # not "2." alone on its line
    assert all(line.cell_len <= 20 for line in cjk)
    latin = fill_lines(Text("Refunds reach your card within ten days"), 20)
    assert [line.plain.rstrip() for line in latin] == ["Refunds reach your", "card within ten days"]
    long = fill_lines(Text("Supercalifragilistic word"), 10)
    assert [line.plain.rstrip() for line in long] == ["Supercalif", "ragilistic", "word"]


async def test_keys_move_the_highlight_into_view_and_enter_picks() -> None:
    app = ListApp()
    app.picked.clear()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = app.query_one(SuggestionList)
        widget.set_items(ITEMS)
        widget.focus()
        await pilot.pause()
        assert widget.highlighted == 0 and widget.scroll_y == 0
        await pilot.press("down", "down", "down")
        assert widget.highlighted == 3
        assert widget.scroll_y > 0  # rows 9-11 brought into the 7 shown
        assert any(line.startswith("Fourth") for line in lines(widget))
        await pilot.press("down", "down", "down")
        assert widget.highlighted == len(ITEMS) - 1  # stops at the last
        await pilot.press("enter")
        assert app.picked == [len(ITEMS) - 1]
        await pilot.press("up")
        assert widget.highlighted == len(ITEMS) - 2
        widget.set_items(ITEMS[:1])  # a new list starts at its top, highlighted
        await pilot.pause()
        assert widget.highlighted == 0 and widget.scroll_y == 0
        widget.set_items([])
        await pilot.pause()
        assert widget.highlighted is None and widget.option_count == 0
        await pilot.press("enter", "down")
        assert app.picked == [len(ITEMS) - 1]
