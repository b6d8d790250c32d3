"""Chart geometry for the usage pictures: scales, ticks, bar rectangles and line paths.

Pure values in, SVG coordinates out: no models, no templates. The templates in
``templates/billing/charts/`` draw what these functions compute, so the pictures are server
rendered and readable without JavaScript. Values stay ``Decimal`` (minutes, dollars); only the
coordinates are floats, rounded to a tenth of a unit.

The drawing area is a fixed ``viewBox`` that the page scales to its width. It is narrow on
purpose (400 units); the stylesheet draws labels at 13 units (about 15 px on a laptop, where a
cap keeps the picture from growing past 1.5x) and at 16 units on a phone, where the picture is
drawn at about 0.8x (so about 13 px); the margins leave room for either.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

# The viewBox and the plot inside it (room on the left for the y labels, below for the days).
WIDTH = 400
HEIGHT = 210
LEFT = 54
RIGHT = 10
TOP = 14
BOTTOM = 32
# At most this many labelled days under a daily chart: more would overlap on a phone.
MAX_X_LABELS = 5
# Gridlines above zero: three or four read well at this height.
MAX_Y_TICKS = 4
# A bar fills this share of its day's slot; the rest is the gap that tells bars apart.
BAR_FILL = Decimal("0.72")

_NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


def _r(value: float) -> float:
    return round(float(value), 1)


@dataclass(frozen=True)
class Tick:
    value: Decimal
    label: str
    y: float


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str


@dataclass(frozen=True)
class Segment:
    """One series' part of one bar."""

    series: int
    value: Decimal
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Bar:
    label: str
    total: Decimal
    x: float  # the slot's centre
    segments: list[Segment]


@dataclass(frozen=True)
class Plot:
    """The box the data is drawn in, inside the viewBox."""

    left: float = LEFT
    top: float = TOP
    right: float = WIDTH - RIGHT
    bottom: float = HEIGHT - BOTTOM

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class BarChart:
    plot: Plot
    ticks: list[Tick]
    bars: list[Bar]
    x_labels: list[XLabel]
    width: int = WIDTH
    height: int = HEIGHT


@dataclass(frozen=True)
class LineChart:
    plot: Plot
    ticks: list[Tick]
    path: str  # SVG path data of the line ("" when there is no point)
    points: list[tuple[float, float]]
    limit_y: float | None  # the horizontal line of the allowance
    last_x: float | None  # where the line ends (today)
    x_labels: list[XLabel]
    width: int = WIDTH
    height: int = HEIGHT
    over_path: str = field(default="")  # the part of the line above the allowance


def nice_ticks(
    maximum: Decimal, *, max_ticks: int = MAX_Y_TICKS, min_step: Decimal
) -> list[Decimal]:
    """Tick values from 0 to a round top at or above ``maximum``: steps of 1, 2, 2.5 or 5 times
    a power of ten, at most ``max_ticks`` steps, never finer than ``min_step``.

    ``nice_ticks(Decimal(500), min_step=1)`` → 0, 200, 400, 600; an empty chart (maximum 0)
    still gets one step so the axis has a scale.
    """
    if maximum <= 0:
        return [Decimal(0), min_step]
    rough = maximum / max_ticks
    exponent = math.floor(math.log10(rough))
    power = Decimal(10) ** exponent
    step = next(s * power for s in _NICE_STEPS if s * power >= rough)
    step = max(step, min_step)
    count = int((maximum / step).to_integral_value(rounding=ROUND_CEILING))
    return [step * i for i in range(count + 1)]


def money_tick_label(value: Decimal) -> str:
    """``$0``, ``$2.50``, ``$1,200``: whole dollars without cents, otherwise cents."""
    if value == value.to_integral_value():
        return f"${value:,.0f}"
    return f"${value:,.2f}"


def count_tick_label(value: Decimal) -> str:
    """Minutes on an axis: ``1,200``, or ``2.5`` for fine steps."""
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    return f"{value.normalize():,f}"


def day_label(day: dt.date) -> str:
    """``Dec 6`` (English month abbreviations, whatever the server's locale)."""
    return f"{day:%b} {day.day}"


def _y_scale(plot: Plot, top: Decimal) -> Callable[[Decimal], float]:
    def y(value: Decimal) -> float:
        return _r(plot.bottom - float(value / top) * plot.height)

    return y


def _ticks(plot: Plot, values: list[Decimal], label: Callable[[Decimal], str]) -> list[Tick]:
    y = _y_scale(plot, values[-1])
    return [Tick(value=v, label=label(v), y=y(v)) for v in values]


def _label_every(count: int, max_labels: int) -> int:
    return max(1, -(-count // max_labels))


def stacked_bars(
    *,
    labels: Sequence[str],
    series: Sequence[Sequence[Decimal]],
    tick_label: Callable[[Decimal], str],
    min_step: Decimal,
    max_x_labels: int = MAX_X_LABELS,
    plot: Plot | None = None,
) -> BarChart:
    """One bar per label, each the stack of the series' values (bottom-up in series order).

    ``series[k][i]`` is series k's value in slot i; negative values (a credit) draw nothing.
    Every ``n``-th slot is labelled so that at most ``max_x_labels`` labels fit under the plot.
    """
    plot = plot or Plot()
    count = len(labels)
    if any(len(values) != count for values in series):
        raise ValueError("every series needs one value per label")
    totals = [
        sum((max(values[i], Decimal(0)) for values in series), Decimal(0)) for i in range(count)
    ]
    tick_values = nice_ticks(max(totals, default=Decimal(0)), min_step=min_step)
    top = tick_values[-1]
    y = _y_scale(plot, top)
    slot = plot.width / count if count else plot.width
    bar_width = _r(max(1.0, slot * float(BAR_FILL)))
    bars = []
    for i, label in enumerate(labels):
        centre = plot.left + slot * (i + 0.5)
        base = Decimal(0)
        segments = []
        for k, values in enumerate(series):
            value = max(values[i], Decimal(0))
            if value > 0:
                y_top, y_base = y(base + value), y(base)
                segments.append(
                    Segment(
                        series=k,
                        value=value,
                        x=_r(centre - bar_width / 2),
                        y=y_top,
                        width=bar_width,
                        height=_r(max(0.5, y_base - y_top)),
                    )
                )
                base += value
        bars.append(Bar(label=label, total=totals[i], x=_r(centre), segments=segments))
    every = _label_every(count, max_x_labels)
    x_labels = [XLabel(x=bar.x, text=bar.label) for i, bar in enumerate(bars) if i % every == 0]
    return BarChart(
        plot=plot, ticks=_ticks(plot, tick_values, tick_label), bars=bars, x_labels=x_labels
    )


def cumulative_line(
    *,
    days: Sequence[dt.date],
    values: Sequence[Decimal],
    limit: Decimal | None,
    tick_label: Callable[[Decimal], str],
    min_step: Decimal,
    max_x_labels: int = MAX_X_LABELS,
    plot: Plot | None = None,
) -> LineChart:
    """A running total over ``days`` (the whole billing month on the axis) of ``values`` (the
    days so far; fewer than ``days`` while the month is under way), with ``limit`` drawn as a
    horizontal line. The line starts at zero at the month's first midnight and reaches each
    day's running total at that day's end, so a day's climb is the day's use."""
    plot = plot or Plot()
    if len(values) > len(days):
        raise ValueError("more values than days")
    running = []
    total = Decimal(0)
    for value in values:
        total += value
        running.append(total)
    top_value = max([*running, limit or Decimal(0)], default=Decimal(0))
    tick_values = nice_ticks(top_value, min_step=min_step)
    y = _y_scale(plot, tick_values[-1])
    slot = plot.width / len(days) if days else plot.width
    points = [(_r(plot.left), y(Decimal(0)))] if running else []
    points += [(_r(plot.left + slot * (i + 1)), y(v)) for i, v in enumerate(running)]
    path = "M" + " L".join(f"{px},{py}" for px, py in points) if points else ""
    limit_y = y(limit) if limit is not None and limit > 0 else None
    over_path = ""
    if limit_y is not None and running and running[-1] > (limit or 0):
        over_path = _above(points, limit_y)
    every = _label_every(len(days), max_x_labels)
    x_labels = [
        XLabel(x=_r(plot.left + slot * (i + 0.5)), text=day_label(day))
        for i, day in enumerate(days)
        if i % every == 0
    ]
    return LineChart(
        plot=plot,
        ticks=_ticks(plot, tick_values, tick_label),
        path=path,
        points=points,
        limit_y=limit_y,
        last_x=points[-1][0] if points else None,
        x_labels=x_labels,
        over_path=over_path,
    )


def _above(points: list[tuple[float, float]], limit_y: float) -> str:
    """The part of a rising line above ``limit_y`` (SVG y grows downwards), starting where it
    crosses the limit: drawn thicker so the overage reads without colour."""
    for i in range(1, len(points)):
        (x0, y0), (x1, y1) = points[i - 1], points[i]
        if y1 < limit_y <= y0:
            cross_x = x0 if y0 == y1 else x0 + (x1 - x0) * (y0 - limit_y) / (y0 - y1)
            rest = " L".join(f"{px},{py}" for px, py in points[i:])
            return f"M{_r(cross_x)},{limit_y} L{rest}"
    return ""
