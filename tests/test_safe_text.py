"""safe_text: the one gate for untrusted text (ARCHITECTURE §9)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_tui.domain.safe_text import safe_line, safe_text

BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _unsafe(ch: str) -> bool:
    o = ord(ch)
    return (o < 32 and ch not in "\n\t") or 0x7F <= o <= 0x9F or ch in BIDI


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_output_holds_no_control_or_bidi_override(value: str) -> None:
    out = safe_text(value)
    assert not any(_unsafe(ch) for ch in out)
    # Nothing safe is lost: removing the unsafe characters from the input
    # (after line-ending normalisation) gives exactly the output.
    normalised = value.replace("\r\n", "\n").replace("\r", "\n")
    assert out == "".join(ch for ch in normalised if not _unsafe(ch))


ORDINARY = st.text(
    alphabet=st.one_of(
        st.characters(categories=["L", "N", "P", "S", "Zs"]).filter(lambda c: not _unsafe(c)),
        st.sampled_from(list("[]/@=\n\t你好退款发票😀👍🏽")),
    ),
    max_size=200,
)


@given(ORDINARY)
def test_ordinary_text_survives_unchanged(value: str) -> None:
    assert safe_text(value) == value


def test_known_attacks() -> None:
    assert safe_text("a\x1b[31mred\x1b[0m") == "a[31mred[0m"
    assert safe_text("x\x1b]52;c;aGVsbG8=\x07y") == "x]52;c;aGVsbG8=y"
    assert safe_text("link \x1b]8;;http://evil\x1b\\here\x1b]8;;\x1b\\") == (
        "link ]8;;http://evil\\here]8;;\\")
    assert safe_text("\x9b31m C1 CSI") == "31m C1 CSI"
    assert safe_text("abc\u202edcba\u202c") == "abcdcba"
    assert safe_text("[/] [@click=app.quit]x[/] [link=http://x]y[/link]") == (
        "[/] [@click=app.quit]x[/] [link=http://x]y[/link]")
    assert safe_text("line1\r\nline2\rline3") == "line1\nline2\nline3"
    assert safe_text(None) == ""
    assert safe_line("a\nb\tc") == "a b c"
    assert unicodedata.normalize("NFC", safe_text("Café 退款 👍🏽")) == "Café 退款 👍🏽"


#: Text for safe_line's fast path: printable ASCII, controls, bidi overrides,
#: CR/LF/tabs, non-ASCII letters and digits, padding.
_TRICKY = ["Refund please", "", "Tabs\tand\nlines", "cr\r\nlf", "esc\x1b[31m", "del\x7f",
           "bidi \u202egnp.exe", "Zoë", "客服 工单", "mail jane.doe@example.com now",
           "٠١٢٣٤٥", "ＡＢ １２３", "  padded  ", "vip,refund", "nbsp\xa0here"]


@pytest.mark.parametrize("text", _TRICKY)
def test_the_fast_path_cleans_as_the_full_path_does(text: str) -> None:
    cleaned = safe_text(text)
    full = " ".join(cleaned.split()) if "\n" in cleaned or "\t" in cleaned else cleaned
    assert safe_line(text) == full
