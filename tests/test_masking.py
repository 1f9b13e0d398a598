"""Masking of personal data for agents (ARCHITECTURE §9)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from agent_tui.domain.masking import (
    _mask_matches,
    mask_address,
    mask_email,
    mask_free_text,
    mask_phone,
)


def test_structured_values() -> None:
    assert mask_email("jane.doe@example.com") == "j•••@example.com"
    assert mask_phone("+44 20 7946 0958") == "•••• 958"
    assert mask_address("phone", "+8613800138000") == "•••• 000"
    assert mask_address("social", "twitter:@janed") == "twitter:@j•••"
    assert mask_address("chat", "app:8f3a9c") == "a•••"
    assert mask_address("email", "li.wei@qq.com") == "l•••@qq.com"


def test_free_text_masks_contacts_and_cards_but_keeps_order_numbers() -> None:
    text = ("Order A-482913, card 4111 1111 1111 1111, mail me at jane.doe@example.com "
            "or call +1 415 555 0100 / 13800138000. Tracking 1Z999AA10123456784.")
    out = mask_free_text(text)
    assert "A-482913" in out and "1Z999AA10123456784" in out
    assert "jane.doe@example.com" not in out and "j•••@example.com" in out
    assert "4111 1111 1111 1111" not in out and "•••• 1111" in out
    assert "415 555 0100" not in out and "13800138000" not in out


def test_non_luhn_long_numbers_are_left_alone() -> None:
    assert mask_free_text("invoice 1234567890123") == "invoice 1234567890123"


# Text made of what the patterns look at: digits (ASCII, Arabic-Indic, fullwidth), the
# separators phones and cards use, "@", "+", letters and CJK.
_PIECES = st.sampled_from([*"0123456789٣３ -.()+@_abcXYZ张", "4111 1111 1111 1111",
                           "+44 20 7946 0958", "(555) 010-9999", "13800138000", "jane@x.io"])


@given(st.lists(_PIECES, max_size=40).map("".join))
@example("(555) 010-9999")  # the fewest digits a phone without "+" has: ten
@example("+1 (0) 2")  # a "+" and two digits can be a phone
@example("card 4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1 ok")
def test_the_quick_check_skips_only_text_with_nothing_to_mask(text: str) -> None:
    assert mask_free_text(text) == _mask_matches(text)
