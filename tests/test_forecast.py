"""The breach forecast model (agent_tui.domain.forecast): pure arithmetic, no store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent_tui.domain.forecast import MAX_IDS, DueTicket, TeamLoad, forecast, forecast_team

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def due(*minutes: float, first_id: int = 1) -> list[DueTicket]:
    return [DueTicket(first_id + i, NOW + timedelta(minutes=m)) for i, m in enumerate(minutes)]


def by_horizon(results: list) -> dict[int, tuple[int, int, int]]:
    return {r.horizon_min: (r.due, r.from_backlog, r.from_arrivals) for r in results}


def test_nothing_due_and_nothing_arriving_forecasts_no_breach() -> None:
    result = forecast_team(TeamLoad(due=[], handled_per_hour=30), NOW)
    assert by_horizon(result) == {15: (0, 0, 0), 30: (0, 0, 0), 60: (0, 0, 0)}
    assert all(r.expected == 0 and r.ticket_ids == [] for r in result)


def test_a_team_that_handles_nothing_breaches_every_clock_in_the_horizon() -> None:
    tickets = due(-5, 10, 20, 40, 90)  # one already past due, one beyond the hour
    result = forecast_team(TeamLoad(due=tickets, handled_per_hour=0), NOW)
    assert by_horizon(result) == {15: (1, 1, 0), 30: (2, 2, 0), 60: (3, 3, 0)}
    assert result[2].ticket_ids == [2, 3, 4]  # soonest due first; #1 has breached already


def test_the_team_reaches_tickets_in_due_order_at_its_handling_rate() -> None:
    # One ticket a minute: reached at 1, 2, 3 minutes from now.
    tickets = due(1.5, 1.6, 1.7, 30, first_id=10)
    result = forecast_team(TeamLoad(due=tickets, handled_per_hour=60), NOW)
    assert by_horizon(result)[15] == (3, 2, 0)
    assert result[0].ticket_ids == [11, 12]
    # Twice as fast: every ticket reached in time.
    fast = forecast_team(TeamLoad(due=tickets, handled_per_hour=120), NOW)
    assert [r.expected for r in fast] == [0, 0, 0]


def test_order_of_input_does_not_matter() -> None:
    tickets = due(1.5, 1.6, 1.7)
    shuffled = [tickets[2], tickets[0], tickets[1]]
    a = forecast_team(TeamLoad(due=tickets, handled_per_hour=60), NOW)
    b = forecast_team(TeamLoad(due=shuffled, handled_per_hour=60), NOW)
    assert a == b


def test_arrivals_whose_clock_ends_inside_the_horizon_count() -> None:
    load = TeamLoad(due=[], handled_per_hour=0, arrivals_per_hour=60,
                    arrival_target=timedelta(minutes=10))
    # One a minute, ten minutes each: 5 run out by 15 min, 20 by 30, 50 by 60.
    assert by_horizon(forecast_team(load, NOW)) == {15: (0, 0, 5), 30: (0, 0, 20),
                                                    60: (0, 0, 50)}
    served = TeamLoad(due=[], handled_per_hour=600, arrivals_per_hour=60,
                      arrival_target=timedelta(minutes=10))
    assert [r.expected for r in forecast_team(served, NOW)] == [0, 0, 0]
    unknown_target = TeamLoad(due=[], handled_per_hour=0, arrivals_per_hour=60)
    assert [r.expected for r in forecast_team(unknown_target, NOW)] == [0, 0, 0]


def test_an_arrival_cannot_be_worked_before_it_arrives() -> None:
    # Half a minute per ticket, and each arrival has only 0.4 minutes on its clock.
    load = TeamLoad(due=[], handled_per_hour=120, arrivals_per_hour=60,
                    arrival_target=timedelta(minutes=0.4))
    result = forecast_team(load, NOW, horizons=(15,))
    assert (result[0].from_arrivals, result[0].from_backlog) == (14, 0)


def test_arrivals_due_first_take_the_capacity_of_later_tickets() -> None:
    tickets = due(14.9, first_id=7)
    alone = forecast_team(TeamLoad(due=tickets, handled_per_hour=6), NOW, horizons=(15,))
    assert alone[0].from_backlog == 0  # reached after 10 minutes
    crowded = TeamLoad(due=tickets, handled_per_hour=6, arrivals_per_hour=60,
                       arrival_target=timedelta(minutes=1))
    result = forecast_team(crowded, NOW, horizons=(15,))
    assert result[0].from_backlog == 1 and result[0].ticket_ids == [7]
    assert result[0].from_arrivals > 0


def test_teams_add_up_and_ids_merge_in_due_order() -> None:
    team_a = TeamLoad(due=due(10, 25, first_id=1), handled_per_hour=0)
    team_b = TeamLoad(due=due(5, 50, first_id=100), handled_per_hour=0)
    team_c = TeamLoad(due=due(12, first_id=200), handled_per_hour=600)
    result = forecast([team_a, team_b, team_c], NOW)
    assert by_horizon(result) == {15: (3, 2, 0), 30: (4, 3, 0), 60: (5, 4, 0)}
    assert result[2].ticket_ids == [100, 1, 2, 101]


def test_ids_are_capped_but_counts_are_not() -> None:
    many = due(*[1 + i * 0.01 for i in range(MAX_IDS + 15)])
    result = forecast_team(TeamLoad(due=many, handled_per_hour=0), NOW, horizons=(15,))
    assert result[0].from_backlog == MAX_IDS + 15
    assert len(result[0].ticket_ids) == MAX_IDS
