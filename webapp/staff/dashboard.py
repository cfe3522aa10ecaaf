"""The dashboard, for team leaders and admins: channel shift, service levels, where the work is, and payments, with
filters as GET parameters (a view can be bookmarked and shared), and every figure as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from flask import Response, abort, current_app, render_template, request, url_for
from flask_login import current_user

from webapp import cases, charts, dashboard
from webapp.access import LEADERS, staff_only
from webapp.exports import spreadsheet_safe
from webapp.models import Channel, Queue, Role
from webapp.money import format_pence
from webapp.staff import bp
from webapp.staff.forms import DashboardFilterForm


@dataclass(frozen=True)
class View:
    form: DashboardFilterForm
    filters: dashboard.Filters | None  # None: a filter is not valid, so no figures
    queues: list[Queue]  # the queues the figures are of


def _view() -> View:
    catalogue = current_app.extensions["catalogue"]
    visible = cases.visible_queues(current_user)
    form = DashboardFilterForm(
        sorted(catalogue, key=lambda service: service.title),
        visible,
        Channel,
        current_user.role == Role.ADMIN,
        formdata=request.args,
    )
    if request.args and not form.validate():
        return View(form, None, visible)
    first, last = dashboard.date_range(form.date_from.data, form.date_to.data)
    queues = [queue for queue in visible if queue.slug == form.queue.data] if form.queue.data else visible
    everything = current_user.role == Role.ADMIN and not form.queue.data
    filters = dashboard.Filters(
        dashboard.weeks_between(first, last),
        service=form.service.data or None,
        channel=form.channel.data or None,
        queue_ids=None if everything else tuple(queue.id for queue in queues),
    )
    return View(form, filters, queues)


class Figures:
    """The dashboard's figures for a view, each worked out when first asked for (a CSV needs only its own)."""

    def __init__(self, filters: dashboard.Filters, queues: list[Queue]) -> None:
        self.filters, self.queues = filters, queues

    @cached_property
    def channels(self) -> dashboard.ChannelShift:
        return dashboard.channel_shift(self.filters)

    @cached_property
    def service_levels(self) -> dashboard.ServiceLevels:
        return dashboard.service_levels(self.filters)

    @cached_property
    def open_work(self) -> list[dashboard.OpenWork]:
        return dashboard.open_work(self.filters, self.queues)

    @cached_property
    def takings(self) -> dashboard.Takings:
        return dashboard.takings(self.filters)


def _args() -> dict[str, list[str]]:
    # Every value of each filter: a date comes as three (day, month, year) under one name.
    return {key: values for key, values in request.args.lists()}


@bp.get("/dashboard", endpoint="dashboard")
@staff_only(*LEADERS)
def dashboard_page():
    view = _view()
    figures = Figures(view.filters, view.queues) if view.filters else None
    return render_template(
        "staff/dashboard/index.html",
        view=view,
        form=view.form if view.form.errors else None,
        figures=figures,
        charts=charts_for(figures) if figures else None,
        csv_urls={figure: url_for("staff.dashboard_csv", figure=figure, **_args()) for figure in CSV_FIGURES},
        services=_service_titles(),
        costs=dashboard.unit_costs(),
        channels=list(Channel),
        age_bands=[name for name, _ in dashboard.AGE_BANDS],
    ), (400 if view.form.errors else 200)


# CSV: every figure on the page, with the page's filters ---------------------------------------------------------


def _pounds(pence: int) -> str:
    return f"{pence / 100:.2f}"


def _number(value: float | None, places: int = 1) -> str:
    return "" if value is None else f"{value:.{places}f}".rstrip("0").rstrip(".")


def _channels_csv(figures: Figures, services: dict[str, str]) -> Iterable[list[str]]:
    channels = [channel.value for channel in Channel]
    yield [
        "week_starting",
        *[c.replace("-", "_") for c in channels],
        "total",
        "share_online_percent",
        "estimated_cost_gbp",
        "assisted_cost_if_online_gbp",
    ]
    for week in figures.channels.weeks:
        yield [
            week.week.monday.isoformat(),
            *[str(week.counts[c]) for c in channels],
            str(week.total),
            _number(week.share_online),
            _pounds(week.cost),
            _pounds(week.assisted_cost_online),
        ]


def _resolution_columns(resolution: dashboard.Resolution) -> list[str]:
    return [
        str(resolution.resolved),
        str(resolution.with_target),
        str(resolution.within_target),
        _number(resolution.share_within_target),
        _number(resolution.median_days),
    ]


RESOLUTION_HEADER = ["resolved", "with_target", "within_target", "share_within_target_percent", "median_working_days"]


def _service_levels_csv(figures: Figures, services: dict[str, str]) -> Iterable[list[str]]:
    yield ["queue", "service", "category", *RESOLUTION_HEADER]
    for queue, service_slug, category, resolution in figures.service_levels.by_category:
        yield [queue.name, services.get(service_slug, service_slug), category or "", *_resolution_columns(resolution)]


def _service_levels_weekly_csv(figures: Figures, services: dict[str, str]) -> Iterable[list[str]]:
    yield ["week_starting", *RESOLUTION_HEADER]
    for week, resolution in figures.service_levels.by_week:
        yield [week.monday.isoformat(), *_resolution_columns(resolution)]


def _open_cases_csv(figures: Figures, services: dict[str, str]) -> Iterable[list[str]]:
    bands = [name.lower().replace(" ", "_") for name, _ in dashboard.AGE_BANDS]
    yield ["queue", *bands, "total", "overdue", "oldest_reference", "oldest_received_at"]
    for work in figures.open_work:
        received = work.oldest_received.isoformat(timespec="seconds") if work.oldest_received else ""
        yield [
            work.queue.name,
            *map(str, work.bands),
            str(work.total),
            str(work.overdue),
            work.oldest_reference or "",
            received,
        ]


def _takings_csv(figures: Figures, services: dict[str, str]) -> Iterable[list[str]]:
    takings = figures.takings
    yield ["week_starting", "service", "payments", "taken_gbp", "refunds", "refunded_gbp"]
    for index, week in enumerate(figures.filters.weeks):
        for slug in takings.services:
            paid = takings.paid[index].get(slug, dashboard.Money())
            refunded = takings.refunded[index].get(slug, dashboard.Money())
            if paid.count or refunded.count:
                yield [
                    week.monday.isoformat(),
                    services.get(slug, slug),
                    str(paid.count),
                    _pounds(paid.amount),
                    str(refunded.count),
                    _pounds(refunded.amount),
                ]


CSV_FIGURES: dict[str, Callable[[Figures, dict[str, str]], Iterable[list[str]]]] = {
    "channels": _channels_csv,
    "service-levels": _service_levels_csv,
    "service-levels-by-week": _service_levels_weekly_csv,
    "open-cases": _open_cases_csv,
    "takings": _takings_csv,
}


@bp.get("/dashboard/<figure>.csv", endpoint="dashboard_csv")
@staff_only(*LEADERS)
def dashboard_csv(figure: str):
    if figure not in CSV_FIGURES:
        abort(404)
    view = _view()
    if view.filters is None:
        return dashboard_page()
    services = _service_titles()
    out = io.StringIO()
    writer = csv.writer(out)
    for row in CSV_FIGURES[figure](Figures(view.filters, view.queues), services):
        writer.writerow([spreadsheet_safe(value) for value in row])
    weeks = view.filters.weeks
    name = f"dashboard-{figure}-{weeks[0].monday.isoformat()}-to-{weeks[-1].sunday.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# Charts: the same figures as the tables, drawn ---------------------------------------------------------------------

CHANNEL_COLOURS = {
    Channel.ONLINE: "#1d70b8",
    Channel.PHONE: "#912b88",
    Channel.FACE_TO_FACE: "#00703c",
    Channel.OPEN311: "#28a197",
}
AGE_COLOURS = ("#5694ca", "#1d70b8", "#003078", "#d4351c")
SERVICE_COLOURS = ("#1d70b8", "#00703c", "#912b88", "#4c2c92", "#b58840", "#505a5f", "#d4351c", "#28a197")


def _span(weeks: tuple[dashboard.Week, ...]) -> str:
    first, last = weeks[0].monday, weeks[-1].sunday
    return f"from {first.day} {first:%B %Y} to {last.day} {last:%B %Y}"


def charts_for(figures: Figures) -> dict[str, charts.Chart | None]:
    weeks = figures.filters.weeks
    labels = [week.label for week in weeks]
    span = _span(weeks)
    shift, total = figures.channels, figures.channels.total
    online = f", {total.share_online:.0f}% of them made online" if total.share_online is not None else ""
    levels = figures.service_levels
    within = levels.total.share_within_target
    work = figures.open_work
    takings = figures.takings
    table_below = "The table below the chart gives the figures."
    titles = _service_titles()
    return {
        "channels": charts.columns(
            labels,
            [
                charts.Series(channel.label, [week.counts[channel.value] for week in shift.weeks], colour)
                for channel, colour in CHANNEL_COLOURS.items()
            ],
            chart_id="channels-chart",
            title="Submissions by channel, each week",
            description=f"{total.total:,} submissions {span}{online}. {table_below}",
        ),
        "service_levels": charts.columns(
            labels,
            [
                charts.Series(
                    "Resolved within target", [r.share_within_target or 0 for _, r in levels.by_week], "#00703c"
                )
            ],
            chart_id="service-levels-chart",
            title="Share of cases resolved within target, each week",
            description=(
                f"{levels.total.with_target:,} cases with a target resolved {span}"
                + (f", {within:.0f}% of them within it" if within is not None else "")
                + f". A week with none resolved shows nothing. {table_below}"
            ),
            value_format=charts.percent,
            max_value=100,
        ),
        # No queues (a team leader not yet in one): nothing to draw.
        "open_work": charts.bars(
            [item.queue.name for item in work],
            [
                charts.Series(name, [item.bands[index] for item in work], AGE_COLOURS[index])
                for index, (name, _) in enumerate(dashboard.AGE_BANDS)
            ],
            chart_id="open-work-chart",
            title="Open cases by queue, by how long they have waited",
            description=(
                f"{sum(item.total for item in work):,} open cases in {len(work)} queues, "
                f"{sum(item.bands[-1] for item in work):,} of them waiting more than 4 weeks. {table_below}"
            ),
        )
        if work
        else None,
        "takings": charts.columns(
            labels,
            [
                charts.Series(
                    titles.get(slug, slug),
                    [takings.paid[index].get(slug, dashboard.Money()).amount for index in range(len(weeks))],
                    SERVICE_COLOURS[number % len(SERVICE_COLOURS)],
                )
                for number, slug in enumerate(takings.services)
            ],
            chart_id="takings-chart",
            title="Money taken each week, by service",
            description=f"{format_pence(takings.total().amount)} taken {span}. {table_below}",
            value_format=charts.pounds,
        ),
    }


def _service_titles() -> dict[str, str]:
    return {service.slug: service.title for service in current_app.extensions["catalogue"]}
