"""The dashboard's figures, against fixtures counted by hand: channel shift and its costs, service levels, where the
work is, and payments; UK weeks across the clocks changing; filters; who sees which queues; and every CSV."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.factories import create_staff, create_submission
from tests.staff_helpers import sign_in
from webapp import dashboard, working_days
from webapp.extensions import db
from webapp.models import Payment, Queue, Refund, Status, Submission, utcnow

NOV_2, NOV_9 = date(2026, 11, 2), date(2026, 11, 9)  # two Mondays (GMT)
WEEKS = "date_from=2&date_from=11&date_from=2026&date_to=15&date_to=11&date_to=2026"


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def received(day: date, channel: str = "online", **overrides) -> Submission:
    return create_submission(channel=channel, created_at=at(day), received_at=at(day), **overrides)


def filters(**overrides) -> dashboard.Filters:
    return dashboard.Filters(dashboard.weeks_between(NOV_2, date(2026, 11, 15)), **overrides)


# Weeks ----------------------------------------------------------------------------------------------------------


def test_weeks_are_uk_weeks_monday_to_sunday_across_the_clocks_changing():
    [week] = dashboard.weeks_between(date(2026, 10, 7), date(2026, 10, 7))
    assert week.monday == date(2026, 10, 5)
    # Monday 5 October starts at midnight BST, 23:00 UTC on the Sunday.
    assert week.start == datetime(2026, 10, 4, 23, tzinfo=UTC)
    # The clocks go back on Sunday 25 October: that week is 169 hours long.
    autumn = dashboard.Week.of(date(2026, 10, 19))
    assert autumn.end - autumn.start == timedelta(hours=169)
    assert [w.monday for w in dashboard.weeks_between(date(2026, 11, 4), date(2026, 11, 16))] == [
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 16),
    ]


def test_a_submission_just_after_midnight_bst_on_a_monday_is_in_that_week(app_ctx):
    create_submission(
        created_at=datetime(2026, 10, 4, 23, 30, tzinfo=UTC), received_at=datetime(2026, 10, 4, 23, 30, tzinfo=UTC)
    )
    create_submission(
        created_at=datetime(2026, 10, 4, 22, 30, tzinfo=UTC), received_at=datetime(2026, 10, 4, 22, 30, tzinfo=UTC)
    )
    shift = dashboard.channel_shift(dashboard.Filters(dashboard.weeks_between(date(2026, 9, 28), date(2026, 10, 5))))
    assert [week.total for week in shift.weeks] == [1, 1]


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (None, None, (date(2026, 9, 21), date(2026, 12, 7))),  # 12 weeks, this one the twelfth
        (date(2026, 6, 3), None, (date(2026, 6, 3), date(2026, 8, 23))),  # 12 weeks from the first
        (None, date(2026, 6, 3), (date(2026, 3, 16), date(2026, 6, 3))),  # 12 weeks up to the last
        (date(2026, 11, 20), None, (date(2026, 11, 20), date(2026, 12, 7))),  # not past today
    ],
)
def test_the_dates_the_figures_run_between(first, last, expected):
    assert dashboard.date_range(first, last, today=date(2026, 12, 7)) == expected


# Channel shift --------------------------------------------------------------------------------------------------


def channel_fixture() -> None:
    for channel in ("online", "online", "online", "phone", "face-to-face"):
        received(NOV_2 + timedelta(days=2), channel)
    for channel in ("online", "online", "open311"):
        received(NOV_9 + timedelta(days=6), channel)  # Sunday
    received(date(2026, 11, 16), "phone")  # the week after
    received(NOV_9, "phone", service_slug="garden-waste", category="garden-waste")  # Waste


def test_submissions_by_channel_each_week_with_their_estimated_cost(app_ctx):
    channel_fixture()
    shift = dashboard.channel_shift(filters(service="report-a-road-problem"))
    first, second = shift.weeks
    assert first.counts == {"online": 3, "phone": 1, "face-to-face": 1, "open311": 0}
    assert (first.total, first.share_online) == (5, 60.0)
    # 3 x 15p + £2.83 + £8.62; the phone and face-to-face contacts would have cost 2 x 15p online.
    assert (first.cost, first.assisted_cost, first.assisted_cost_online) == (1190, 1145, 30)
    assert second.counts == {"online": 2, "phone": 0, "face-to-face": 0, "open311": 1}
    assert (second.total, second.share_online, second.cost) == (3, 100.0, 45)
    total = shift.total
    assert (total.total, total.self_service, total.assisted, total.cost) == (8, 6, 2, 1235)


def test_the_channel_filter_and_the_queue_filter(app_ctx):
    channel_fixture()
    assert [w.total for w in dashboard.channel_shift(filters(channel="phone")).weeks] == [1, 1]
    waste = db.session.scalar(db.select(Submission.queue_id).where(Submission.service_slug == "garden-waste"))
    assert [w.total for w in dashboard.channel_shift(filters(queue_ids=(waste,))).weeks] == [0, 1]


def test_a_payment_never_made_is_not_a_contact(app_ctx):
    create_submission(status=Status.AWAITING_PAYMENT, queue=None, routing_rule=None, created_at=at(NOV_2))
    assert dashboard.channel_shift(filters()).total.total == 0


# Service levels -------------------------------------------------------------------------------------------------


def closed(day: date, taken: int, category: str = "pothole", target: int | None = 5, status=Status.RESOLVED):
    return create_submission(
        category=category,
        status=status,
        created_at=at(day - timedelta(days=10)),
        received_at=at(day - timedelta(days=10)),
        closed_at=at(day),
        target_days=target,
        working_days_taken=taken,
    )


def service_level_fixture() -> None:
    closed(NOV_2, 3)
    closed(NOV_2 + timedelta(days=1), 5)  # on its last day: within
    closed(NOV_2 + timedelta(days=4), 7, status=Status.CLOSED)  # over
    closed(NOV_9, 1, category="street-light", target=2)
    closed(NOV_9, 9, status=Status.DUPLICATE)  # not work done: left out
    closed(date(2026, 11, 16), 1)  # the week after


def test_the_share_resolved_within_target_and_the_median_working_days(app_ctx):
    service_level_fixture()
    levels = dashboard.service_levels(filters())
    [(first_week, first), (second_week, second)] = levels.by_week
    assert (first_week.monday, first.resolved, first.within_target, first.median_days) == (NOV_2, 3, 2, 5)
    assert round(first.share_within_target) == 67
    assert (second.resolved, second.share_within_target, second.median_days) == (1, 100.0, 1)
    by_category = {(queue.slug, category): r for queue, _, category, r in levels.by_category}
    assert set(by_category) == {("highways", "pothole"), ("street-lighting", "street-light")}
    assert (by_category[("highways", "pothole")].resolved, by_category[("highways", "pothole")].median_days) == (3, 5)
    # Four cases took 1, 3, 5 and 7 working days: the median is 4; three of the four met their targets.
    assert (levels.total.resolved, levels.total.median_days, levels.total.share_within_target) == (4, 4, 75.0)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [({}, None), ({3: 1}, 3), ({1: 1, 2: 1}, 1.5), ({0: 5, 10: 4}, 0), ({2: 2, 4: 2}, 3), ({1: 1, 5: 3, 9: 1}, 5)],
)
def test_the_median_of_counted_values(counts, expected):
    assert dashboard.median(counts) == expected


def test_a_case_without_a_target_is_left_out(app_ctx):
    closed(NOV_2, 4, target=None)  # a service without targets: a paid parking fine
    closed(NOV_2, 2)
    levels = dashboard.service_levels(filters())
    assert (levels.total.resolved, levels.total.share_within_target, levels.total.median_days) == (1, 100.0, 2)


# Where the work is ----------------------------------------------------------------------------------------------


def test_open_cases_by_queue_and_age_band_with_the_oldest(app_ctx):
    now = utcnow()
    today = working_days.today()
    ages = {2: None, 10: None, 20: today - timedelta(days=1), 40: today - timedelta(days=30)}
    made = {}
    for days, due in ages.items():
        made[days] = create_submission(created_at=now - timedelta(days=days), received_at=now - timedelta(days=days))
        made[days].due_on = due
    create_submission(created_at=now - timedelta(days=90), received_at=now - timedelta(days=90), status=Status.RESOLVED)
    create_submission(category="street-light", created_at=now - timedelta(days=1), received_at=now - timedelta(days=1))
    db.session.commit()
    queues = {queue.slug: queue for queue in db.session.scalars(db.select(Queue))}
    work = dashboard.open_work(filters(), [queues["highways"], queues["street-lighting"], queues["waste"]])
    highways, lighting, waste = work
    assert (highways.bands, highways.total, highways.overdue) == ([1, 1, 1, 1], 4, 2)
    assert highways.oldest_reference == made[40].reference
    assert (lighting.bands, lighting.oldest_reference) == ([1, 0, 0, 0], lighting.oldest_reference)
    assert (waste.bands, waste.total, waste.oldest_reference) == ([0, 0, 0, 0], 0, None)
    # The channel filter applies to the work waiting too.
    assert dashboard.open_work(filters(channel="phone"), [queues["highways"]])[0].total == 0


# Payments -------------------------------------------------------------------------------------------------------


def paid(day: date, amount: int, service: str = "pay-a-parking-fine", refunded: int = 0) -> Payment:
    submission = create_submission(service_slug=service, category="pcn", created_at=at(day), received_at=at(day))
    payment = Payment(
        public_id=secrets.token_hex(8),
        submission=submission,
        service_slug=service,
        description="A payment",
        amount=amount,
        provider="sandbox",
        status="succeeded",
        expires_at=at(day),
        succeeded_at=at(day),
    )
    db.session.add(payment)
    if refunded:
        db.session.add(
            Refund(
                payment=payment,
                amount=refunded,
                reason="Paid twice",
                status="succeeded",
                request_key=secrets.token_hex(8),
                created_at=at(day + timedelta(days=7)),
            )
        )
    db.session.commit()
    return payment


def test_takings_and_refunds_each_week_by_service(app_ctx):
    paid(NOV_2, 7000, refunded=2000)  # refunded the next week
    paid(NOV_2 + timedelta(days=3), 3500)
    paid(NOV_9, 4500, service="garden-waste")
    paid(date(2026, 11, 16), 9900)  # the week after
    failed = paid(NOV_2, 100)
    failed.status = "failed"
    db.session.commit()
    takings = dashboard.takings(filters())
    assert takings.services == ["garden-waste", "pay-a-parking-fine"]
    assert (takings.paid[0]["pay-a-parking-fine"].count, takings.paid[0]["pay-a-parking-fine"].amount) == (2, 10500)
    assert takings.paid[1]["garden-waste"].amount == 4500
    assert takings.refunded[1]["pay-a-parking-fine"].amount == 2000
    assert (takings.total().count, takings.total().amount, takings.total("refunded").amount) == (3, 15000, 2000)
    assert dashboard.takings(filters(service="garden-waste")).total().amount == 4500


# The page and its CSV -------------------------------------------------------------------------------------------


@pytest.fixture
def leader(resident, app_ctx):
    """Taylor, team leader of Highways, Street Lighting and Parking, signed in."""
    user = create_staff("team_leader", ("highways", "street-lighting", "parking"), name="Taylor Lead")
    sign_in(resident, user)
    return resident


def test_the_dashboard_shows_the_figures_of_a_team_leaders_own_queues(leader):
    channel_fixture()
    page = leader.get(f"/staff/dashboard?{WEEKS}")
    assert page.soup.h1.get_text(strip=True) == "Dashboard"
    assert "2 weeks from Monday 2 November 2026 to Sunday 15 November 2026" in page.text
    # The Waste queue's garden waste is not theirs: 8 of the road reports, 6 made online.
    assert "75% made online, of 8 submissions" in " ".join(page.text.split())
    queues = [a.get_text() for a in page.soup.select("#where-the-work-is ~ table a, table a") if "queues/" in a["href"]]
    assert "Waste" not in queues
    charts = page.soup.select("svg.app-chart__svg")
    assert len(charts) == 2  # nothing resolved and no payments in these weeks: channels and open work only
    for chart in charts:
        assert chart["role"] == "img" and chart.find("title") and chart.find("desc")


def test_the_channels_csv_has_the_pages_figures(leader):
    channel_fixture()
    response = leader.get(f"/staff/dashboard/channels.csv?{WEEKS}").raw
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="dashboard-channels-2026-11-02-to-2026-11-15.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        [
            "week_starting",
            "online",
            "phone",
            "face_to_face",
            "open311",
            "total",
            "share_online_percent",
            "estimated_cost_gbp",
            "assisted_cost_if_online_gbp",
        ],
        ["2026-11-02", "3", "1", "1", "0", "5", "60", "11.90", "0.30"],
        ["2026-11-09", "2", "0", "0", "1", "3", "100", "0.45", "0.00"],
    ]


@pytest.mark.parametrize("figure", ["channels", "service-levels", "service-levels-by-week", "open-cases", "takings"])
def test_every_figure_downloads_as_csv(leader, figure):
    service_level_fixture()
    paid(NOV_2, 7000, refunded=2000)
    response = leader.get(f"/staff/dashboard/{figure}.csv?{WEEKS}").raw
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) > 1 and all(len(row) == len(rows[0]) for row in rows)


def test_service_levels_csv(leader):
    service_level_fixture()
    rows = list(csv.reader(io.StringIO(leader.get(f"/staff/dashboard/service-levels.csv?{WEEKS}").raw.get_data(True))))
    assert rows[1:] == [
        ["Highways", "Report a pothole or other road problem", "pothole", "3", "3", "2", "66.7", "5"],
        ["Street Lighting", "Report a pothole or other road problem", "street-light", "1", "1", "1", "100", "1"],
    ]


def test_a_team_leader_sees_only_the_payments_of_their_queues(leader):
    paid(NOV_2, 7000)  # Parking: theirs
    paid(NOV_2, 4500, service="garden-waste")  # Waste: not theirs
    rows = list(csv.reader(io.StringIO(leader.get(f"/staff/dashboard/takings.csv?{WEEKS}").raw.get_data(True))))
    assert rows[1:] == [["2026-11-02", "Pay a parking fine", "1", "70.00", "0", "0.00"]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("queue=waste", "Select a queue from the list"),
        ("service=not-a-service", "Select a service from the list"),
        ("channel=pigeon", "Select a channel from the list"),
        ("date_from=31&date_from=2&date_from=2026", "From must be a real date"),
        ("date_from=1&date_from=1&date_from=2030", "From must be today or in the past"),
        (
            "date_from=1&date_from=1&date_from=2025&date_to=1&date_to=6&date_to=2026",
            "To must be within 53 weeks of from",
        ),
        (
            "date_from=2&date_from=11&date_from=2026&date_to=1&date_to=11&date_to=2026",
            "To must be the same as or after from",
        ),
    ],
)
def test_a_filter_that_is_not_valid_is_an_error_and_shows_no_figures(leader, query, message):
    page = leader.get(f"/staff/dashboard?{query}", expected=400)
    assert message in page.soup.select_one(".govuk-error-summary").get_text()
    assert page.title.startswith("Error: ")
    assert "Correct the filters to see the figures" in page.text


def test_caseworkers_cannot_see_the_dashboard(worker):
    worker.get("/staff/dashboard", expected=403)
    worker.get("/staff/dashboard/channels.csv", expected=403)


def test_an_admin_sees_every_queue(resident, app_ctx):
    channel_fixture()
    sign_in(resident, create_staff("admin", ()))
    page = resident.get(f"/staff/dashboard?{WEEKS}")
    assert "9 submissions" in " ".join(page.text.split())
    assert page.soup.find("a", string="Waste") is not None


def test_the_demo_data_gives_every_part_of_the_dashboard_something_to_show(app, app_ctx):
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "Demo history for the dashboard" in result.output
    view = dashboard.Filters(dashboard.weeks_between(*dashboard.date_range(None, None)))
    total = dashboard.channel_shift(view).total
    assert all(total.counts[channel] for channel in ("online", "phone", "face-to-face", "open311"))
    assert dashboard.service_levels(view).total.resolved > 100
    assert dashboard.takings(view).total().count > 20 and dashboard.takings(view).total("refunded").count


def test_each_row_lands_in_its_own_week_over_a_year(app_ctx):
    weeks = dashboard.weeks_between(date(2025, 12, 1), date(2026, 11, 30))
    assert len(weeks) == 53
    for number, week in enumerate(weeks):
        for _ in range(number % 3):  # 0, 1 or 2 in each week: at its first and last moments
            create_submission(created_at=week.start, received_at=week.start)
        create_submission(created_at=week.end - timedelta(seconds=1), received_at=week.end - timedelta(seconds=1))
    shift = dashboard.channel_shift(dashboard.Filters(weeks))
    assert [w.total for w in shift.weeks] == [1 + number % 3 for number in range(53)]


def test_a_team_leader_in_no_queue_yet_sees_empty_figures_not_an_error(resident, app_ctx):
    channel_fixture()
    sign_in(resident, create_staff("team_leader", ()))
    page = resident.get(f"/staff/dashboard?{WEEKS}")
    assert "No submissions reached these queues in these weeks." in page.text
    assert "You are not a member of any queue" in page.text
    rows = list(csv.reader(io.StringIO(resident.get(f"/staff/dashboard/open-cases.csv?{WEEKS}").raw.get_data(True))))
    assert len(rows) == 1  # the header alone
