"""The queue's filter line: tokens, free text, and errors that say what was not understood."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent_tui.backend import Channel, Priority, Status, TicketFilters
from screens.filter_syntax import describe_filter, parse_filter


def test_tokens_and_free_text() -> None:
    parsed = parse_filter('status:open,pending prio:HIGH chan:chat team:billing tag:VIP '
                          'assignee:me customer:#42 refund "not received"')
    assert parsed.errors == []
    assert parsed.filters == TicketFilters(
        status=[Status.OPEN, Status.PENDING], priority=[Priority.HIGH], channel=[Channel.CHAT],
        team="billing", tag="vip", assignee="me", customer_id=42,
        text="refund not received")


def test_aliases_and_synonyms() -> None:
    parsed = parse_filter("is:on-hold p:crit via:mail to:nobody")
    assert parsed.errors == []
    assert parsed.filters == TicketFilters(status=[Status.ON_HOLD], priority=[Priority.URGENT],
                                           channel=[Channel.EMAIL], assignee="none")


def test_a_bad_token_is_reported_not_turned_into_text() -> None:
    parsed = parse_filter("status:opne prio: customer:bob invoice")
    assert len(parsed.errors) == 3
    assert "unknown status 'opne'" in parsed.errors[0]
    assert parsed.filters == TicketFilters(text="invoice")


def test_words_with_colons_that_are_not_keys_stay_text() -> None:
    assert parse_filter("error:404 at 10:30").filters == TicketFilters(text="error:404 at 10:30")


def test_unbalanced_quotes_and_cjk_do_not_crash() -> None:
    assert parse_filter('"退款 没有到账').filters == TicketFilters(text='"退款 没有到账')
    assert parse_filter("   ").filters is None


@given(st.text(max_size=80))
def test_any_line_parses_and_round_trips_through_its_description(line: str) -> None:
    parsed = parse_filter(line)
    again = parse_filter(describe_filter(parsed.filters))
    for field in ("status", "priority", "channel", "team", "assignee", "tag", "customer_id"):
        if parsed.filters is not None and getattr(parsed.filters, field):
            assert again.filters is not None
            assert getattr(again.filters, field) == getattr(parsed.filters, field)
