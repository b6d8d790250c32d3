"""The pure chart geometry: round scales, stacked bars, the running-total line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.charts import (
    Plot,
    count_tick_label,
    cumulative_line,
    day_label,
    money_tick_label,
    nice_ticks,
    stacked_bars,
)

D = Decimal
PLOT = Plot(left=40, top=10, right=240, bottom=110)  # 200 wide, 100 high


@pytest.mark.parametrize(
    ("maximum", "min_step", "expected"),
    [
        (D(500), D(1), [0, 200, 400, 600]),
        (D(97), D(1), [0, 25, 50, 75, 100]),
        (D(3), D(1), [0, 1, 2, 3]),
        (D("0.3"), D(1), [0, 1]),  # minutes never step below one
        (D("0.37"), D("0.01"), [D("0"), D("0.1"), D("0.2"), D("0.3"), D("0.4")]),
        (D("19.99"), D("0.01"), [0, 5, 10, 15, 20]),
        (D(0), D(1), [0, 1]),  # an empty chart still has a scale
    ],
)
def test_it_picks_round_ticks_from_zero_to_at_least_the_maximum(
    maximum: Decimal, min_step: Decimal, expected: list[Decimal]
) -> None:
    ticks = nice_ticks(maximum, min_step=min_step)
    assert ticks == [D(v) for v in expected]
    assert ticks[-1] >= maximum
    assert len(ticks) - 1 <= 4 or min_step == ticks[1]


def test_it_labels_money_and_minutes_ticks_briefly() -> None:
    assert money_tick_label(D(0)) == "$0"
    assert money_tick_label(D(1200)) == "$1,200"
    assert money_tick_label(D("2.5")) == "$2.50"
    assert count_tick_label(D(1500)) == "1,500"
    assert count_tick_label(D("2.5")) == "2.5"
    assert day_label(dt.date(2026, 12, 6)) == "Dec 6"


def test_it_stacks_each_days_series_bottom_up_in_proportion() -> None:
    chart = stacked_bars(
        labels=["a", "b"],
        series=[[D(10), D(0)], [D(30), D(20)]],
        tick_label=count_tick_label,
        min_step=D(1),
        plot=PLOT,
    )
    assert [t.value for t in chart.ticks] == [0, 10, 20, 30, 40]
    first, second = chart.bars
    assert first.total == 40 and second.total == 20
    # 40 fills the plot (top 40): series 0 at the bottom (10 → 25 units), series 1 above it.
    bottom, top = first.segments
    assert (bottom.series, bottom.y, bottom.height) == (0, 85.0, 25.0)
    assert (top.series, top.y, top.height) == (1, 10.0, 75.0)
    # A zero value draws nothing; each bar is centred in its half of the plot.
    assert [s.series for s in second.segments] == [1]
    assert (first.x, second.x) == (90.0, 190.0)
    assert bottom.width == 72.0 and bottom.x == 54.0


def test_it_labels_at_most_five_days_under_a_month_of_bars() -> None:
    labels = [f"d{i}" for i in range(31)]
    chart = stacked_bars(
        labels=labels, series=[[D(1)] * 31], tick_label=count_tick_label, min_step=D(1)
    )
    assert len(chart.bars) == 31
    assert [x.text for x in chart.x_labels] == ["d0", "d7", "d14", "d21", "d28"]


def test_it_refuses_a_series_of_the_wrong_length() -> None:
    with pytest.raises(ValueError):
        stacked_bars(labels=["a"], series=[[D(1), D(2)]], tick_label=str, min_step=D(1))


def test_it_draws_negative_values_as_nothing() -> None:
    chart = stacked_bars(labels=["a"], series=[[D(-5)]], tick_label=str, min_step=D(1))
    assert chart.bars[0].segments == [] and chart.bars[0].total == 0


def test_the_line_climbs_by_each_days_use_from_zero_over_the_whole_month() -> None:
    days = [dt.date(2026, 12, 1) + dt.timedelta(days=i) for i in range(4)]
    line = cumulative_line(
        days=days,
        values=[D(100), D(0), D(100)],  # three days so far of four
        limit=D(400),
        tick_label=count_tick_label,
        min_step=D(1),
        plot=PLOT,
    )
    assert [t.value for t in line.ticks] == [0, 100, 200, 300, 400]
    # x: day ends at 50-unit steps; y: 400 fills the 100-unit plot.
    assert line.points == [(40.0, 110.0), (90.0, 85.0), (140.0, 85.0), (190.0, 60.0)]
    assert line.path == "M40.0,110.0 L90.0,85.0 L140.0,85.0 L190.0,60.0"
    assert line.limit_y == 10.0
    assert line.over_path == ""
    assert line.last_x == 190.0
    assert [x.text for x in line.x_labels] == ["Dec 1", "Dec 2", "Dec 3", "Dec 4"]


def test_the_part_above_the_allowance_starts_where_the_line_crosses_it() -> None:
    days = [dt.date(2026, 12, 1) + dt.timedelta(days=i) for i in range(2)]
    line = cumulative_line(
        days=days,
        values=[D(50), D(100)],  # crosses 100 halfway through the second day
        limit=D(100),
        tick_label=count_tick_label,
        min_step=D(1),
        plot=PLOT,
    )
    assert [t.value for t in line.ticks] == [0, 50, 100, 150]
    limit_y = line.limit_y
    assert limit_y is not None
    start, _, rest = line.over_path.partition(" L")
    cross_x, cross_y = (float(v) for v in start.removeprefix("M").split(","))
    assert cross_x == pytest.approx(190, abs=0.2)  # halfway through the second day
    assert cross_y == limit_y
    assert rest == f"{line.points[-1][0]},{line.points[-1][1]}"


def test_a_month_without_use_has_no_line_but_keeps_its_axis() -> None:
    line = cumulative_line(
        days=[dt.date(2026, 12, 1)], values=[], limit=D(500), tick_label=str, min_step=D(1)
    )
    assert line.path == "" and line.points == [] and line.last_x is None
    assert line.ticks[-1].value == 600 and line.limit_y is not None
