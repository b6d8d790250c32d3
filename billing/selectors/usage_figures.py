"""The usage pictures as the templates draw them: geometry (``billing.charts``), a legend whose
swatches differ by pattern as well as colour, an accessible title and summary, and the same
numbers as table rows. Values stay raw (seconds, Decimal dollars) for the template's filters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from billing.charts import (
    BarChart,
    LineChart,
    count_tick_label,
    cumulative_line,
    day_label,
    money_tick_label,
    stacked_bars,
)
from billing.money import format_usd
from billing.selectors.usage_charts import DayMinutes, DaySpend, MonthSpend, UsageOverview

_SIXTY = Decimal(60)
_MINUTE_STEP = Decimal(1)
_CENT_STEP = Decimal("0.01")


@dataclass(frozen=True)
class Series:
    name: str
    style: str  # the fill: "solid", "hatch", "dots" or "cross" (a pattern, not only a colour)
    colour: str  # CSS colour with at least 3:1 contrast against white


# Patterns and colours, in stacking order, per picture. Each pattern has its own shape so the
# series read apart in greyscale and for colour-blind readers.
MINUTE_SERIES = [
    Series("Included minutes", "solid", "#1f5fbf"),
    Series("Overage", "hatch", "#b45309"),
    Series("Per-minute rate", "dots", "#0f766e"),
    Series("Incoming DID rate", "cross", "#6d28d9"),
]
SPEND_SERIES = [
    Series("Calls and usage", "solid", "#1f5fbf"),
    Series("Monthly charges", "hatch", "#b45309"),
]


@dataclass(frozen=True)
class Figure:
    key: str  # unique on the page: the SVG's ids derive from it
    title: str
    summary: str  # one sentence with the figures that matter (the SVG's description)
    unit: str  # "seconds" or "usd": how the table's values are formatted
    series: list[Series]
    bars: BarChart | None = None
    line: LineChart | None = None
    columns: tuple[str, ...] = ()  # the table's value columns
    rows: tuple[tuple[str, tuple[object, ...]], ...] = ()  # (row label, values)
    note: str = ""
    row_header: str = "Day"

    @property
    def kind(self) -> str:
        return "line" if self.line is not None else "bars"

    @property
    def labelled_rows(self) -> list[tuple[str, list[tuple[str, object]]]]:
        """The table's rows with each value beside its column's name (a phone stacks the
        table into "column: value" lines)."""
        return [
            (label, list(zip(self.columns, values, strict=True))) for label, values in self.rows
        ]


def _minutes(seconds: int) -> Decimal:
    return Decimal(seconds) / _SIXTY


def _whole_minutes(seconds: int) -> str:
    return f"{-(-seconds // 60):,}"


def minutes_per_day_figure(*, key: str, days: list[DayMinutes], title: str) -> Figure:
    """Stacked bars: each day's billed minutes by how they were billed."""
    values = [
        [_minutes(d.included) for d in days],
        [_minutes(d.overage) for d in days],
        [_minutes(d.per_minute) for d in days],
        [_minutes(d.incoming_did) for d in days],
    ]
    chart = stacked_bars(
        labels=[day_label(d.day) for d in days],
        series=values,
        tick_label=count_tick_label,
        min_step=_MINUTE_STEP,
    )
    total = sum(d.total for d in days)
    busiest = max(days, key=lambda d: d.total, default=None)
    if not days or total == 0:
        summary = "No billed minutes on these days."
    else:
        assert busiest is not None
        summary = (
            f"{_whole_minutes(total)} billed minutes from {day_label(days[0].day)} to "
            f"{day_label(days[-1].day)}: {_whole_minutes(sum(d.included for d in days))} included, "
            f"{_whole_minutes(sum(d.overage for d in days))} overage, "
            f"{_whole_minutes(sum(d.per_minute for d in days))} at per-minute rates, "
            f"{_whole_minutes(sum(d.incoming_did for d in days))} incoming at DID rates. "
            f"Busiest day: {day_label(busiest.day)}."
        )
    return Figure(
        key=key,
        title=title,
        summary=summary,
        unit="seconds",
        series=MINUTE_SERIES,
        bars=chart,
        columns=("Included", "Overage", "Per-minute", "DID rate", "Total"),
        rows=tuple(
            (
                day_label(d.day),
                (d.included, d.overage, d.per_minute, d.incoming_did, d.total),
            )
            for d in days
            if d.total
        ),
        note="Days without billed minutes are left out of the table."
        if any(not d.total for d in days)
        else "",
    )


def included_minutes_figure(*, key: str, overview: UsageOverview) -> Figure:
    """A running total of this month's minutes to the plan's destinations (included, then
    overage) against the allowance, over the whole billing month."""
    summary = overview.minutes
    allowance = Decimal(summary.included_minutes)
    used = [_minutes(d.included + d.overage) for d in overview.days]
    line = cumulative_line(
        days=overview.period_days,
        values=used,
        limit=allowance if allowance else None,
        tick_label=count_tick_label,
        min_step=_MINUTE_STEP,
    )
    included_seconds = sum(d.included for d in overview.days)
    reset = day_label(summary.reset_date)
    text = (
        f"{_whole_minutes(included_seconds)} of {summary.included_minutes:,} included minutes used "
        f"by {day_label(overview.today)}; they reset on {reset}."
    )
    if overview.overage_seconds:
        extra = _whole_minutes(overview.overage_seconds)
        text += f" {extra} minutes beyond them were billed as overage."
    running = 0
    rows = []
    for d in overview.days:
        running += d.included + d.overage
        if d.included or d.overage:
            rows.append((day_label(d.day), (d.included, d.overage, running)))
    return Figure(
        key=key,
        title=f"Included minutes used this billing month (resets {reset})",
        summary=text,
        unit="seconds",
        series=[Series("Minutes used, running total", "solid", "#1f5fbf")],
        line=line,
        columns=("Included", "Overage", "Running total"),
        rows=tuple(rows),
        note="Only days with calls to your plan's destinations are listed.",
    )


def spend_per_day_figure(*, key: str, days: list[DaySpend]) -> Figure:
    chart = stacked_bars(
        labels=[day_label(d.day) for d in days],
        series=[[d.usage for d in days], [d.recurring for d in days]],
        tick_label=money_tick_label,
        min_step=_CENT_STEP,
    )
    usage = sum((d.usage for d in days), Decimal(0))
    recurring = sum((d.recurring for d in days), Decimal(0))
    summary = (
        f"Spent {format_usd(usage + recurring)} this billing month so far: "
        f"{format_usd(usage)} on calls and usage, {format_usd(recurring)} in monthly charges."
    )
    return Figure(
        key=key,
        title="Spend per day this billing month",
        summary=summary,
        unit="usd",
        series=SPEND_SERIES,
        bars=chart,
        columns=(*(s.name for s in SPEND_SERIES), "Total"),
        rows=tuple(
            (day_label(d.day), (d.usage, d.recurring, d.total))
            for d in days
            if d.usage or d.recurring
        ),
        note="Only days with charges are listed.",
    )


def _month_label(month: MonthSpend, billing_day_one: bool) -> str:
    start = month.period.start_date
    return f"{start:%b}" if billing_day_one else day_label(start)


def months_figure(*, key: str, months: list[MonthSpend]) -> Figure:
    billing_day_one = all(m.period.start_date.day == 1 for m in months)
    labels = [_month_label(m, billing_day_one) for m in months]
    chart = stacked_bars(
        labels=labels,
        series=[[m.usage for m in months], [m.recurring for m in months]],
        tick_label=money_tick_label,
        min_step=_CENT_STEP,
        max_x_labels=len(months),
    )
    parts = [f"{label}: {format_usd(m.total)}" for label, m in zip(labels, months, strict=True)]
    return Figure(
        key=key,
        title=f"Spend in the last {len(months)} billing months",
        summary="Total per billing month (the current one so far): " + "; ".join(parts) + ".",
        unit="usd",
        series=SPEND_SERIES,
        bars=chart,
        columns=(*(s.name for s in SPEND_SERIES), "Total"),
        rows=tuple(
            (
                f"{label}{' (so far)' if m.current else ''}",
                (m.usage, m.recurring, m.total),
            )
            for label, m in zip(_row_labels(months, billing_day_one), months, strict=True)
        ),
        row_header="Billing month",
    )


def _row_labels(months: list[MonthSpend], billing_day_one: bool) -> list[str]:
    """``Jul 2026`` for calendar months, else ``Jul 15 – Aug 14``: short enough for a phone."""
    if billing_day_one:
        return [f"{m.period.start_date:%b %Y}" for m in months]
    return [f"{day_label(m.period.start_date)} – {day_label(m.period.last_day)}" for m in months]


def overview_figures(*, overview: UsageOverview, prefix: str) -> dict[str, Figure]:
    """The three pictures of the dashboard and the Service Plan page."""
    figures = {
        "spend": spend_per_day_figure(key=f"{prefix}-spend", days=overview.spend_days),
        "months": months_figure(key=f"{prefix}-months", months=overview.months),
    }
    if overview.minutes.plan is not None and overview.minutes.included_seconds:
        figures["minutes"] = included_minutes_figure(key=f"{prefix}-minutes", overview=overview)
    return figures


def chart_days_text(first: dt.date, last: dt.date) -> str:
    return f"{day_label(first)} – {day_label(last)}"
