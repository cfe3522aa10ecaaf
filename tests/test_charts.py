"""The dashboard's charts (webapp/charts.py, templates/staff/dashboard/_chart.html): stacked segments in proportion
and without gaps, nice ticks, column labels that do not collide, bad input refused, and the macro's SVG accessible
(named by its title and description, a tooltip on every segment, the legend in text) and escaped."""

from __future__ import annotations

from itertools import pairwise

import pytest
from bs4 import BeautifulSoup
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from webapp.charts import (
    Chart,
    Series,
    bars,
    columns,
    percent,
    pounds,
    text_width,
    value_axis,
    whole_number,
)

BLUE, ORANGE, GREEN = "#1d70b8", "#f47738", "#00703c"


def a_columns_chart(labels: list[str], *series: Series, **options) -> Chart:
    return columns(labels, list(series), title="Submissions", description="By channel", chart_id="weeks", **options)


def a_bars_chart(labels: list[str], *series: Series, **options) -> Chart:
    return bars(labels, list(series), title="Open cases", description="By age", chart_id="queues", **options)


def render_html(chart: Chart) -> str:
    env = Environment(
        loader=FileSystemLoader("templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.from_string('{% from "staff/dashboard/_chart.html" import chart %}{{ chart(c) }}')
    return template.render(c=chart)


def render(chart: Chart) -> BeautifulSoup:
    return BeautifulSoup(render_html(chart), "html.parser")


def test_stacked_columns_are_in_proportion_and_stack_without_a_gap() -> None:
    chart = a_columns_chart(["2 Nov"], Series("Online", [30], BLUE), Series("Phone", [10], ORANGE))

    assert [tick.value for tick in chart.ticks] == [0, 10, 20, 30, 40]
    online, phone = chart.rects
    assert online.height / phone.height == pytest.approx(3)
    assert phone.y + phone.height == pytest.approx(online.y)  # phone sits on online
    assert online.y + online.height == pytest.approx(chart.axis.y1)  # online stands on the axis
    assert phone.y == pytest.approx(chart.ticks[-1].position)  # 40 reaches the top tick
    assert (online.x, online.width) == (phone.x, phone.width)
    assert (online.colour, phone.colour) == (BLUE, ORANGE)
    assert online.tooltip == "2 Nov, Online: 30"


def test_stacked_bars_are_in_proportion_and_stack_without_a_gap() -> None:
    chart = a_bars_chart(
        ["Highways", "Environmental Services"],
        Series("Under 5 days", [30, 0], GREEN),
        Series("5 days or more", [10, 40], ORANGE),
    )

    first, second, other_row = chart.rects  # the zero segment is left out
    assert first.width / second.width == pytest.approx(3)
    assert second.x == pytest.approx(first.x + first.width)
    assert first.x == chart.axis.x1
    assert other_row.width == pytest.approx(first.width + second.width)
    assert other_row.y > first.y
    assert other_row.tooltip == "Environmental Services, 5 days or more: 40"


def test_a_long_queue_name_fits_left_of_the_bars() -> None:
    chart = a_bars_chart(["Environmental Services", "Highways"], Series("Open", [5, 3], BLUE))

    names = [label.text for label in chart.category_labels]
    assert names == ["Environmental Services", "Highways"]
    for label in chart.category_labels:
        assert label.anchor == "end"
        assert label.x - text_width(label.text) >= 0
        assert label.x < chart.axis.x1


def test_a_name_too_long_for_the_room_is_cut_short() -> None:
    name = "Council tax and business rates enquiries from landlords"
    chart = a_bars_chart([name], Series("Open", [5], BLUE))

    (label,) = chart.category_labels
    assert label.text.endswith("…")
    assert name.startswith(label.text.removesuffix("…"))
    assert label.x - text_width(label.text) >= 0
    assert chart.rects[0].tooltip.startswith(name)  # in full in the tooltip


@pytest.mark.parametrize(
    ("largest", "top", "ticks"),
    [
        (7, 8, [0, 2, 4, 6, 8]),
        (40, 40, [0, 10, 20, 30, 40]),
        (41, 50, [0, 10, 20, 30, 40, 50]),
        (1234, 1250, [0, 250, 500, 750, 1000, 1250]),
        (99_999, 100_000, [0, 20_000, 40_000, 60_000, 80_000, 100_000]),
        (3, 3, [0, 1, 2, 3]),
        (1, 1, [0, 1]),  # never a tick between whole numbers
        (0.5, 1, [0, 1]),
        (0, 1, [0, 1]),  # nothing yet: still an axis, and nothing divided by zero
    ],
)
def test_ticks_are_at_nice_whole_values(largest: float, top: float, ticks: list[float]) -> None:
    assert value_axis(largest) == (top, ticks)


def test_a_given_maximum_is_the_top_of_the_axis() -> None:
    assert value_axis(85, max_value=100) == (100, [0, 20, 40, 60, 80, 100])
    assert value_axis(12, max_value=37) == (37, [0, 10, 20, 30])
    with pytest.raises(ValueError, match="below the largest"):
        value_axis(101, max_value=100)


@pytest.mark.parametrize("largest", [1, 4, 7, 13, 26, 99, 101, 420, 1234, 8_000, 123_456, 2_500_001])
def test_there_are_4_to_6_ticks_from_0_to_at_least_the_largest(largest: float) -> None:
    top, ticks = value_axis(largest)

    assert ticks[0] == 0 and ticks[-1] == top >= largest
    assert 4 <= len(ticks) <= 6 or top <= 3
    steps = {later - earlier for earlier, later in pairwise(ticks)}
    assert len(steps) == 1


def test_an_all_zero_chart_draws_an_axis_and_no_segments() -> None:
    chart = a_columns_chart(["2 Nov", "9 Nov"], Series("Online", [0, 0], BLUE))

    assert chart.rects == []
    assert [tick.label for tick in chart.ticks] == ["0", "1"]
    assert len(chart.category_labels) == 2


def test_a_chart_with_no_series_is_an_empty_axis_with_no_legend() -> None:
    chart = a_bars_chart(["Highways"])

    assert chart.rects == [] and chart.legend == []
    assert [tick.label for tick in chart.ticks] == ["0", "1"]
    assert render(chart).find("figcaption") is None


def test_53_weeks_of_labels_are_thinned_so_they_do_not_overlap() -> None:
    weeks = [f"{day} {month}" for month in ("Jan", "Feb", "Mar", "Apr", "May", "Jun") for day in range(10, 19)][:53]
    chart = a_columns_chart(weeks, Series("Online", [5] * 53, BLUE))

    shown = chart.category_labels
    assert 4 <= len(shown) < 53
    assert shown[0].text == weeks[0]
    for earlier, later in pairwise(shown):
        assert later.x - earlier.x >= (text_width(earlier.text) + text_width(later.text)) / 2
    for label in shown:
        assert text_width(label.text) / 2 <= label.x <= chart.width - text_width(label.text) / 2
    assert len(chart.rects) == 53


def test_wide_tick_labels_under_bars_are_thinned_so_they_do_not_overlap() -> None:
    chart = a_bars_chart(["Highways"], Series("Takings", [987_654_321], BLUE), value_format=pounds)

    shown = chart.tick_labels
    assert len(shown) < len(chart.ticks)
    assert shown[0].text == "£0"
    for earlier, later in pairwise(shown):
        assert later.x - earlier.x >= (text_width(earlier.text) + text_width(later.text)) / 2
    assert shown[-1].x + text_width(shown[-1].text) / 2 <= chart.width


def test_a_few_columns_are_all_labelled() -> None:
    chart = a_columns_chart(["2 Nov", "9 Nov", "16 Nov"], Series("Online", [1, 2, 3], BLUE))

    assert [label.text for label in chart.category_labels] == ["2 Nov", "9 Nov", "16 Nov"]


@pytest.mark.parametrize("make", [a_columns_chart, a_bars_chart])
def test_a_negative_value_is_refused(make) -> None:
    with pytest.raises(ValueError, match="0 or more"):
        make(["2 Nov"], Series("Online", [-1], BLUE))


@pytest.mark.parametrize("make", [a_columns_chart, a_bars_chart])
def test_a_series_without_a_value_for_each_label_is_refused(make) -> None:
    with pytest.raises(ValueError, match="1 values for 2 labels"):
        make(["2 Nov", "9 Nov"], Series("Online", [1], BLUE))


def test_other_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="colour"):
        Series("Online", [1], 'red" onload="alert(1)')
    with pytest.raises(ValueError, match="0 or more"):
        Series("Online", [float("nan")], BLUE)
    with pytest.raises(ValueError, match="chart_id"):
        columns(["2 Nov"], [Series("Online", [1], BLUE)], title="t", description="d", chart_id="two words")
    with pytest.raises(ValueError, match="at least one label"):
        a_columns_chart([], Series("Online", [], BLUE))


def test_the_formats() -> None:
    assert whole_number(1234) == "1,234"
    assert whole_number(2.5) == "3"  # halves up, not to even
    assert percent(85.0) == "85%"
    assert percent(99.5) == "100%"
    assert pounds(123456) == "£1,234.56"  # exact in a tooltip
    assert pounds(50_000) == "£500"  # a round amount on the axis
    assert pounds(0) == "£0"


def test_percent_and_pounds_charts_label_their_axes() -> None:
    share = a_bars_chart(["Highways"], Series("Within target", [85], GREEN), value_format=percent, max_value=100)
    takings = a_columns_chart(["2 Nov"], Series("Card", [123456], BLUE), value_format=pounds)

    assert [label.text for label in share.tick_labels] == ["0%", "20%", "40%", "60%", "80%", "100%"]
    assert share.rects[0].tooltip == "Highways, Within target: 85%"
    assert [tick.label for tick in takings.ticks] == ["£0", "£250", "£500", "£750", "£1,000", "£1,250"]
    assert takings.rects[0].tooltip == "2 Nov, Card: £1,234.56"


@pytest.mark.parametrize("make", [a_columns_chart, a_bars_chart])
def test_the_macro_draws_an_accessible_svg(make) -> None:
    chart = make(
        ["2 Nov", "9 Nov"],
        Series("Online", [3, 0], BLUE),
        Series("Phone", [2, 1], ORANGE),
        Series("In person", [0, 0], GREEN),
    )
    page = render(chart)

    figure = page.find("figure")
    svg = figure.find("svg", class_="app-chart__svg")
    assert svg["role"] == "img"
    assert svg["viewbox"] == f"0 0 {chart.width} {chart.height}"  # html.parser lowercases attribute names
    title_id, desc_id = svg["aria-labelledby"].split()
    assert svg.find("title", id=title_id, recursive=False).text == chart.title
    assert svg.find("desc", id=desc_id, recursive=False).text == chart.description
    rects = svg.find_all("rect")
    assert len(rects) == 3  # Online 3, Phone 2 and Phone 1: no rect for a zero
    assert [rect.title.text for rect in rects] == [rect.tooltip for rect in chart.rects]
    legend = figure.find("figcaption").find("ul", class_="app-chart__legend")
    assert [item.get_text(strip=True) for item in legend.find_all("li")] == ["Online", "Phone", "In person"]
    for swatch in legend.find_all("svg"):
        assert swatch["aria-hidden"] == "true"
    assert not page.find_all(style=True)  # the Content-Security-Policy allows no style=""
    assert [text.text for text in svg.find_all("text")] == [
        label.text for label in chart.tick_labels + chart.category_labels
    ]


def test_the_macro_escapes_text() -> None:
    chart = columns(
        ["<b>2 Nov</b>"],
        [Series("<i>Online</i>", [1], BLUE)],
        title="<script>alert(1)</script>",
        description="Tom & Jerry",
        chart_id="weeks",
    )
    html = render_html(chart)

    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = render(chart)
    assert page.find("title").text == "<script>alert(1)</script>"
    assert page.find("desc").text == "Tom & Jerry"
    assert page.find("rect").title.text == "<b>2 Nov</b>, <i>Online</i>: 1"
