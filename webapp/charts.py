"""Charts for the staff dashboard: stacked columns (a figure per week) and stacked bars (a figure per queue), drawn as
SVG on the server by hand.

Why no charting library: the charts are simple (rectangles, lines and text), so a few hundred lines here are less to
maintain than a JavaScript library and its build; they work without JavaScript; and the markup is ours, so it can be
made accessible (an SVG with role="img", a title and a description, a legend in real text) and use the GOV.UK
colours. The chart is a picture of numbers that are always also in a GOV.UK table on the same page: the table is
what a screen reader user, or anyone who wants the exact figures, reads.

Everything the template (templates/staff/dashboard/_chart.html) draws is worked out here, already in the SVG's
coordinates (its viewBox), rounded to 2 decimal places: the template does no arithmetic. Text widths are estimated
(``text_width``), since the server cannot measure the font: generously, so labels do not collide in any of the
fonts the page may use.

Ticks on the value axis are at whole, "nice" values (1, 2, 2.5 or 5 times a power of ten, never less than 1): every
value these charts show is a whole number of something (cases, percentage points, pence), so a tick between two
whole numbers would be labelled with a rounded figure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from webapp.money import format_price

Format = Callable[[float], str]
Kind = Literal["columns", "bars"]
Anchor = Literal["start", "middle", "end"]

WIDTH = 640  # the viewBox's width; the SVG is scaled to its column by CSS (static/scss/_charts.scss)
FONT_SIZE = 16  # in viewBox units: 16px where the chart is drawn 640px wide
CHAR_WIDTH = 0.6  # an estimate of a character's width, in ems: a little wider than Arial's average
LABEL_GAP = 8  # between a label and what it labels, and the least space between two labels

COLUMNS_HEIGHT = 320
COLUMN_SHARE = 0.7  # of each column's slot that the column fills

BAR_THICKNESS = 24
BAR_GAP = 16
LABEL_SHARE = 0.4  # at most this much of the width for the queue names left of the bars; longer names are cut short

MAX_INTERVALS = 5  # so 4 to 6 ticks, 0 included (fewer only when the axis runs to 3 or less)
NICE = (1, 2, 2.5, 5)

_CHART_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_COLOUR = re.compile(r"#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{6}|[A-Za-z]+")


def _whole(value: float) -> int:
    """Rounded to the nearest whole number, halves up (not to even, as round() does)."""
    return int(Decimal(repr(float(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def whole_number(value: float) -> str:
    """``1,234``: rounded to a whole number, with thousands separated."""
    return f"{_whole(value):,}"


def percent(value: float) -> str:
    """``85%`` for 85.0 (the value is 0 to 100), rounded to a whole percentage."""
    return f"{_whole(value)}%"


def pounds(value: float) -> str:
    """A value in pence as the GOV.UK style writes money: ``£1,234.56`` for 123456, ``£500`` for 50000 (no ".00").
    Exact to the penny in the tooltips; the axis's ticks are round amounts, so they show whole pounds."""
    return format_price(_whole(value))


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """An estimate, on the generous side, of how wide ``text`` is drawn, in the same units as ``font_size``."""
    return len(text) * CHAR_WIDTH * font_size


@dataclass(frozen=True)
class Series:
    """One stacked part of every column or bar: a channel, an age band. ``values`` has one number (0 or more) per
    label; ``colour`` is a CSS colour, ``#1d70b8`` or a name."""

    name: str
    values: Sequence[float]
    colour: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        if not _COLOUR.fullmatch(self.colour):
            raise ValueError(f"series {self.name!r}: {self.colour!r} is not a #rgb, #rrggbb or named colour")
        for value in self.values:
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"series {self.name!r}: {value!r} is not a number of 0 or more")


@dataclass(frozen=True)
class Rect:
    """One segment of a column or bar; ``tooltip`` is its <title>, e.g. "2 Nov, Online: 1,234"."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    tooltip: str


@dataclass(frozen=True)
class Tick:
    """A tick on the value axis: ``position`` is its y (columns) or x (bars) in the viewBox."""

    position: float
    label: str
    value: float


@dataclass(frozen=True)
class Label:
    """Text at (x, y), y being its baseline; ``anchor`` is its SVG text-anchor."""

    x: float
    y: float
    text: str
    anchor: Anchor


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Chart:
    """Everything the chart macro draws. ``gridlines`` are at the ticks (not at 0, where ``axis`` is);
    ``tick_labels`` label the value axis and ``category_labels`` the columns or bars (some columns' labels are left
    out when there are too many to fit)."""

    kind: Kind
    chart_id: str
    title: str
    description: str
    width: float
    height: float
    font_size: float
    rects: list[Rect]
    ticks: list[Tick]
    gridlines: list[Line]
    axis: Line
    tick_labels: list[Label]
    category_labels: list[Label]
    legend: list[tuple[str, str]]


def _r(value: float) -> float:
    """A coordinate to 2 decimal places, as an int when it is whole, so the SVG is short ("12", not "12.0")."""
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def nice_step(top: float) -> float:
    """The smallest nice step (1, 2, 2.5 or 5 times a power of ten, at least 1) that reaches ``top`` in
    MAX_INTERVALS steps or fewer."""
    exponent = max(0, math.floor(math.log10(top)) - 1) if top > 0 else 0
    while True:
        for multiple in NICE:
            step = multiple * 10**exponent
            if step >= 1 and math.ceil(top / step - 1e-9) <= MAX_INTERVALS:
                return step
        exponent += 1


def value_axis(largest: float, max_value: float | None = None) -> tuple[float, list[float]]:
    """The value axis's top and its ticks' values, from 0. The top is ``max_value`` when given, else the first tick
    at or above ``largest``; with nothing to show (``largest`` 0) the axis runs from 0 to 1."""
    if max_value is not None:
        if not math.isfinite(max_value) or max_value <= 0:
            raise ValueError(f"max_value {max_value!r} must be more than 0")
        if largest > max_value * (1 + 1e-9):
            raise ValueError(f"max_value {max_value!r} is below the largest total, {largest!r}")
    step = nice_step(max_value if max_value is not None else largest)
    top = max_value if max_value is not None else step * max(1, math.ceil(largest / step - 1e-9))
    count = math.floor(top / step + 1e-9)
    return top, [_r(step * index) for index in range(count + 1)]


def label_every(widths: Sequence[float], spacing: float) -> int:
    """Label every nth of evenly spaced things ``spacing`` apart so that no two labels are closer than LABEL_GAP."""
    widest = max(widths, default=0)
    return max(1, math.ceil((widest + LABEL_GAP) / spacing - 1e-9))


def _fit(text: str, room: float) -> str:
    """``text`` cut short with an ellipsis if it would be wider than ``room``."""
    if text_width(text) <= room:
        return text
    kept = text
    while kept and text_width(kept.rstrip() + "…") > room:
        kept = kept[:-1]
    return kept.rstrip() + "…"


def _check(labels: Sequence[str], series: Sequence[Series], chart_id: str) -> None:
    if not _CHART_ID.fullmatch(chart_id):
        raise ValueError(f"chart_id {chart_id!r} must be a letter then letters, digits, - or _")
    if not labels:
        raise ValueError("a chart needs at least one label")
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(f"series {one.name!r} has {len(one.values)} values for {len(labels)} labels")


@dataclass(frozen=True)
class _Segment:
    index: int  # which label
    start: float  # the stack's total below (or left of) this segment
    end: float
    series: Series
    value: float


def _segments(labels: Sequence[str], series: Sequence[Series]) -> Iterator[_Segment]:
    """Each stack's non-zero parts, from the bottom (or left), in the order of ``series``."""
    for index in range(len(labels)):
        total = 0.0
        for one in series:
            value = one.values[index]
            if value:
                yield _Segment(index, total, total + value, one, value)
                total += value


def _largest_total(labels: Sequence[str], series: Sequence[Series]) -> float:
    return max(sum(one.values[index] for one in series) for index in range(len(labels)))  # 0 with no series


@dataclass(frozen=True)
class _Scale:
    """The value axis: values from 0 to ``top``, drawn over ``length`` viewBox units."""

    top: float
    length: float

    def __call__(self, value: float) -> float:
        return self.length * value / self.top


def columns(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    value_format: Format = whole_number,
    max_value: float | None = None,
    chart_id: str,
) -> Chart:
    """Stacked columns, one for each label (a week, "2 Nov"), each series stacked from the bottom in order.
    ValueError for a negative value, a series without one value per label, or no labels. With no series (or only
    zeros) it is an empty axis from 0 to 1."""
    _check(labels, series, chart_id)
    top, tick_values = value_axis(_largest_total(labels, series), max_value)
    tick_texts = [value_format(value) for value in tick_values]
    shown = [_fit(label, WIDTH * LABEL_SHARE / 2) for label in labels]
    widest = max(text_width(label) for label in shown)
    # Room left and right for the outer columns' labels, centred under them, so no label is past the SVG's edges.
    left = max(max(text_width(text) for text in tick_texts) + LABEL_GAP + 2, widest / 2 + 1)
    plot_top, right = FONT_SIZE / 2 + 4, WIDTH - max(LABEL_GAP * 2, widest / 2 + 1)
    bottom = COLUMNS_HEIGHT - FONT_SIZE - 2 * LABEL_GAP
    scale = _Scale(top, bottom - plot_top)
    slot = (right - left) / len(labels)
    ticks = [Tick(_r(bottom - scale(value)), text, value) for value, text in zip(tick_values, tick_texts, strict=True)]

    def rect(segment: _Segment) -> Rect:
        lower, upper = _r(bottom - scale(segment.start)), _r(bottom - scale(segment.end))
        x = left + slot * segment.index + slot * (1 - COLUMN_SHARE) / 2
        tooltip = f"{labels[segment.index]}, {segment.series.name}: {value_format(segment.value)}"
        return Rect(_r(x), upper, _r(slot * COLUMN_SHARE), _r(lower - upper), segment.series.colour, tooltip)

    baseline = _r(bottom + FONT_SIZE + LABEL_GAP / 2)
    every = label_every([text_width(label) for label in shown], slot)
    category_labels = [
        Label(_r(left + slot * (index + 0.5)), baseline, shown[index], "middle")
        for index in range(0, len(labels), every)
    ]
    return Chart(
        kind="columns",
        chart_id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=COLUMNS_HEIGHT,
        font_size=FONT_SIZE,
        rects=[rect(segment) for segment in _segments(labels, series)],
        ticks=ticks,
        gridlines=[Line(_r(left), tick.position, _r(right), tick.position) for tick in ticks if tick.value],
        axis=Line(_r(left), _r(bottom), _r(right), _r(bottom)),
        tick_labels=[
            Label(_r(left - LABEL_GAP), _r(tick.position + FONT_SIZE * 0.35), tick.label, "end") for tick in ticks
        ],
        category_labels=category_labels,
        legend=[(one.name, one.colour) for one in series],
    )


def bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    value_format: Format = whole_number,
    max_value: float | None = None,
    chart_id: str,
) -> Chart:
    """Stacked bars, one row for each label (a queue, "Highways"), each series stacked from the left in order.
    Labels wider than LABEL_SHARE of the chart are cut short with an ellipsis (the tooltips have them in full).
    ValueError for a negative value, a series without one value per label, or no labels. With no series (or only
    zeros) it is an empty axis from 0 to 1."""
    _check(labels, series, chart_id)
    top, tick_values = value_axis(_largest_total(labels, series), max_value)
    tick_texts = [value_format(value) for value in tick_values]
    room = WIDTH * LABEL_SHARE
    shown = [_fit(label, room) for label in labels]
    left = max(text_width(label) for label in shown) + LABEL_GAP + 4
    right = WIDTH - max(LABEL_GAP, text_width(tick_texts[-1]) / 2 + 2)
    plot_top, pitch = 4, BAR_THICKNESS + BAR_GAP
    bottom = plot_top + pitch * len(labels)
    scale = _Scale(top, right - left)
    ticks = [Tick(_r(left + scale(value)), text, value) for value, text in zip(tick_values, tick_texts, strict=True)]

    def rect(segment: _Segment) -> Rect:
        start, end = _r(left + scale(segment.start)), _r(left + scale(segment.end))
        y = plot_top + pitch * segment.index + BAR_GAP / 2
        tooltip = f"{labels[segment.index]}, {segment.series.name}: {value_format(segment.value)}"
        return Rect(start, _r(y), _r(end - start), BAR_THICKNESS, segment.series.colour, tooltip)

    every = label_every([text_width(text) for text in tick_texts], scale(tick_values[1]) if len(ticks) > 1 else WIDTH)
    baseline = _r(bottom + FONT_SIZE + LABEL_GAP / 2)
    return Chart(
        kind="bars",
        chart_id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=_r(baseline + LABEL_GAP),
        font_size=FONT_SIZE,
        rects=[rect(segment) for segment in _segments(labels, series)],
        ticks=ticks,
        gridlines=[Line(tick.position, _r(plot_top), tick.position, _r(bottom)) for tick in ticks if tick.value],
        axis=Line(_r(left), _r(plot_top), _r(left), _r(bottom)),
        tick_labels=[Label(tick.position, baseline, tick.label, "middle") for tick in ticks[::every]],
        category_labels=[
            Label(_r(left - LABEL_GAP), _r(plot_top + pitch * (index + 0.5) + FONT_SIZE * 0.35), text, "end")
            for index, text in enumerate(shown)
        ],
        legend=[(one.name, one.colour) for one in series],
    )
