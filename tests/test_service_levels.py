"""Service levels: targets as data, working-day arithmetic across bank holidays, due dates given when a case reaches
its queue, the working days a closed case took, and what the queue, queues and case pages show of them."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import create_care_assessment, create_staff, create_submission
from tests.journey_helpers import submit, walk
from tests.test_retention import pause_before_commit
from webapp import lifecycle, routing, service_levels, working_days
from webapp.extensions import db
from webapp.models import Notification, ServiceLevel, Status, Submission, utcnow

POTHOLE, STREET_LIGHT = 5, 2  # the demo targets in webapp/data/routing.json
TEAM = lifecycle.Actor(lifecycle.ActorKind.STAFF, label="Test")


# Working days, counted by hand on a calendar ----------------------------------------------------------------


def test_adding_working_days_skips_weekends_and_the_christmas_bank_holidays():
    # Christmas 2026: Friday 25 is Christmas Day, Saturday 26 Boxing Day (its holiday is Monday 28), and Friday
    # 1 January 2027 New Year's Day. From Thursday 24 December: Tue 29 (1), Wed 30 (2), Thu 31 (3), Mon 4 (4),
    # Tue 5 (5).
    assert working_days.add(date(2026, 12, 24), 5) == date(2027, 1, 5)
    # From a Saturday, the first working day is Monday: 5 of them end on Friday.
    assert working_days.add(date(2026, 12, 5), 5) == date(2026, 12, 11)
    # Easter 2027: Good Friday 26 March and Easter Monday 29 March.
    assert working_days.add(date(2027, 3, 25), 2) == date(2027, 3, 31)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 12, 24), date(2027, 1, 5), 5),  # across Christmas and New Year, as above
        (date(2026, 12, 24), date(2026, 12, 28), 0),  # Christmas Day, the weekend and the Boxing Day holiday
        (date(2026, 12, 7), date(2026, 12, 7), 0),  # the same day
        (date(2026, 12, 7), date(2026, 12, 4), 0),  # before it
        (date(2026, 12, 4), date(2026, 12, 7), 1),  # Friday to Monday
        (date(2026, 11, 30), date(2026, 12, 28), 18),  # four weeks, 20 weekdays, less Christmas and Boxing Day holidays
    ],
)
def test_working_days_between_two_dates(start, end, expected):
    assert working_days.between(start, end) == expected


def test_between_undoes_add_across_years_of_bank_holidays():
    start = date(2025, 1, 1)
    for offset in range(0, 800, 7):
        day = start + timedelta(days=offset)
        for count in (1, 2, 5, 10, 20):
            assert working_days.between(day, working_days.add(day, count)) == count


# Targets are data ------------------------------------------------------------------------------------------


def test_each_category_has_its_target_and_a_service_its_own(app_ctx):
    held = routing.rules()
    assert held.target_days("report-a-road-problem", "pothole") == POTHOLE
    assert held.target_days("report-a-road-problem", "street-light") == STREET_LIGHT
    assert held.target_days("report-a-road-problem", "something-new") == 10  # the service's own target
    assert held.target_days("ask-for-a-care-assessment", "needs-assessment") == 20
    assert held.target_days("pay-a-parking-fine", "pcn") is None  # a payment: nothing to resolve


def test_a_target_changed_by_another_process_is_used_from_the_next_transaction(app_ctx):
    assert routing.rules().target_days("report-a-road-problem", "pothole") == POTHOLE
    db.session.commit()
    with db.engine.connect() as other:
        other.execute(
            ServiceLevel.__table__.update()
            .where(ServiceLevel.service_slug == "report-a-road-problem", ServiceLevel.category == "pothole")
            .values(working_days=3)
        )
        other.commit()
    assert routing.rules().target_days("report-a-road-problem", "pothole") == 3


def test_loading_the_seed_again_updates_targets_without_adding_rows(app_ctx):
    before = db.session.scalar(select(db.func.count()).select_from(ServiceLevel))
    level = db.session.scalar(select(ServiceLevel).where(ServiceLevel.category == "street-light"))
    level.working_days = 9
    db.session.commit()
    routing.load_seed()
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(ServiceLevel)) == before
    assert routing.rules().target_days("report-a-road-problem", "street-light") == STREET_LIGHT


# A submission's clock --------------------------------------------------------------------------------------


def reported(resident, category: str = "pothole") -> Submission:
    walk(resident, {"what-is-the-problem": {"category": category}})
    reference = submit(resident)
    return db.session.scalar(select(Submission).where(Submission.reference == reference))


@pytest.mark.parametrize(("category", "target"), [("pothole", POTHOLE), ("street-light", STREET_LIGHT)])
def test_a_report_is_due_its_categorys_working_days_after_it_reaches_its_queue(resident, app_ctx, category, target):
    submission = reported(resident, category)
    assert submission.received_at is not None and abs(submission.received_at - utcnow()) < timedelta(minutes=1)
    assert submission.target_days == target
    assert submission.due_on == working_days.add(service_levels.uk_date(submission.received_at), target)


def test_a_paid_submission_is_due_from_when_its_payment_came_in(app_ctx):
    waiting = create_submission(
        service_slug="garden-waste",
        category="garden-waste",
        status=Status.AWAITING_PAYMENT,
        queue=None,
        routing_rule=None,
        created_at=utcnow() - timedelta(days=20),
    )
    assert (waiting.received_at, waiting.due_on) == (None, None)
    lifecycle.transition(waiting, Status.RECEIVED, lifecycle.Actor.system("Payment provider"))
    db.session.commit()
    assert waiting.queue.slug == "waste"
    assert service_levels.uk_date(waiting.received_at) == working_days.today()
    assert waiting.due_on == working_days.add(working_days.today(), 10)


def test_a_target_changed_later_does_not_move_a_due_date_already_given(app_ctx):
    submission = create_submission(created_at=utcnow())
    due = submission.due_on
    db.session.execute(ServiceLevel.__table__.update().where(ServiceLevel.category == "pothole").values(working_days=1))
    db.session.commit()
    lifecycle.transition(submission, Status.DUPLICATE, TEAM)
    lifecycle.transition(submission, Status.RECEIVED, TEAM)  # not a duplicate after all: it reaches its queue again
    db.session.commit()
    assert (submission.target_days, submission.due_on) == (POTHOLE, due)


def test_closing_keeps_the_working_days_taken_and_reopening_clears_them(app_ctx):
    # Received four working days ago: today is the fourth working day since.
    today = working_days.today()
    received = datetime.combine(working_days.add(today, -4), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    submission = create_submission(created_at=received)
    lifecycle.transition(submission, Status.RESOLVED, TEAM)
    db.session.commit()
    assert submission.working_days_taken == 4
    assert service_levels.summary(submission) == "Closed in 4 working days, within its target of 5 working days"
    lifecycle.transition(submission, Status.IN_PROGRESS, TEAM)  # "it is not fixed"
    db.session.commit()
    assert submission.working_days_taken is None
    assert submission.received_at == received  # the clock runs on from when it first came in


# Overdue and due soon --------------------------------------------------------------------------------------


def open_case(due_on: date, **overrides) -> Submission:
    submission = create_submission(**overrides)
    submission.due_on = due_on
    db.session.commit()
    return submission


def test_how_an_open_case_stands_against_its_due_date(app_ctx):
    monday = date(2026, 12, 7)
    assert service_levels.standing(open_case(date(2026, 12, 4)), monday) is service_levels.OVERDUE
    assert service_levels.standing(open_case(monday), monday) is service_levels.DUE_SOON
    assert service_levels.standing(open_case(date(2026, 12, 8)), monday) is service_levels.DUE_SOON
    assert service_levels.standing(open_case(date(2026, 12, 9)), monday) is None
    # On Christmas Eve the next working day is Tuesday 29 December.
    christmas_eve = date(2026, 12, 24)
    assert service_levels.standing(open_case(date(2026, 12, 29)), christmas_eve) is service_levels.DUE_SOON
    assert service_levels.standing(open_case(date(2026, 12, 30)), christmas_eve) is None
    assert service_levels.standing(open_case(date(2026, 12, 1), status=Status.RESOLVED), monday) is None


def test_the_queues_page_counts_overdue_cases_and_links_to_them(worker, app_ctx):
    today = working_days.today()
    late = [open_case(today - timedelta(days=days)) for days in (1, 3)]
    late.append(open_case(today - timedelta(days=9), status=Status.IN_PROGRESS))
    open_case(today - timedelta(days=9), status=Status.RESOLVED)  # closed: not overdue
    open_case(today)  # due today: due soon, not overdue
    page = worker.get("/staff/queues")
    row = page.soup.find("a", string="Highways").find_parent("tr")
    overdue = row.select("td")[7]
    assert overdue.get_text().strip() == "3 overdue in Highways"
    link = overdue.find("a")["href"]
    queue = worker.get(link)
    references = {row.find("a").get_text() for row in queue.soup.select(".app-queue-table tbody tr")}
    assert references == {case.reference for case in late}
    assert all("Overdue" in row.get_text() for row in queue.soup.select(".app-queue-table tbody tr"))
    assert queue.soup.select_one("#due option[selected]")["value"] == "overdue"


def test_the_queue_page_marks_cases_due_soon_and_overdue_in_words(worker, app_ctx):
    today = working_days.today()
    overdue = open_case(today - timedelta(days=1))
    soon = open_case(today)
    later = open_case(working_days.add(today, 5))
    page = worker.get("/staff/queues/highways")
    rows = {row.find("a").get_text(): row for row in page.soup.select(".app-queue-table tbody tr")}
    assert [tag.get_text(strip=True) for tag in rows[overdue.reference].select(".govuk-tag--red")] == ["Overdue"]
    assert [tag.get_text(strip=True) for tag in rows[soon.reference].select(".govuk-tag--yellow")] == ["Due soon"]
    assert "Due soon" not in rows[later.reference].get_text() and "Overdue" not in rows[later.reference].get_text()
    assert f"Due {later.due_on.day} {later.due_on:%B %Y}" in rows[later.reference].get_text()
    due_soon = worker.get("/staff/queues/highways?due=due-soon")
    assert [row.find("a").get_text() for row in due_soon.soup.select(".app-queue-table tbody tr")] == [soon.reference]


def test_the_case_page_gives_the_due_date_and_how_late_it_is(worker, app_ctx):
    today = working_days.today()
    due = working_days.add(today, -2)
    case = open_case(due)
    page = worker.get(f"/staff/cases/{case.reference}")
    value = page.soup.find("dt", string=lambda text: text and text.strip() == "Service level").find_next_sibling("dd")
    assert value.select_one(".govuk-tag--red").get_text(strip=True) == "Overdue"
    assert f"Due {due.day} {due:%B %Y}, 2 working days ago (target 5 working days)" in value.get_text()


def test_seeding_gives_submissions_received_before_targets_existed_their_target(app_ctx):
    received = datetime(2026, 12, 24, 10, tzinfo=UTC)
    closed = datetime(2027, 1, 6, 10, tzinfo=UTC)
    old = create_submission(
        created_at=received, received_at=received, status=Status.RESOLVED, closed_at=closed, working_days_taken=None
    )
    old.target_days = old.due_on = None
    waiting = create_submission(service_slug="pay-a-parking-fine", category="pcn", received_at=received)
    db.session.commit()
    assert service_levels.fill_clocks() == 1
    db.session.commit()
    assert (old.target_days, old.due_on, old.working_days_taken) == (POTHOLE, date(2027, 1, 5), 6)
    assert waiting.target_days is None  # no target for its service
    assert service_levels.fill_clocks() == 0


# The daily email of overdue cases --------------------------------------------------------------------------

MONDAY = date(2026, 12, 7)


def digests() -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.template == "overdue-cases")))


def test_each_team_leader_is_emailed_their_overdue_cases_once_a_working_day(app_ctx):
    leader = create_staff("team_leader", ("highways", "street-lighting"), name="Taylor Lead")
    create_staff("team_leader", ("waste",))  # nothing overdue in Waste: no email
    create_staff("caseworker", ("highways",))  # not a team leader
    older = open_case(date(2026, 12, 1), street="Boar Lane")
    light = open_case(date(2026, 12, 4), category="street-light", street="Park Lane")
    open_case(MONDAY)  # due today: not overdue
    open_case(date(2026, 12, 1), status=Status.RESOLVED)

    assert service_levels.send_overdue_digests(MONDAY) == 1
    [email] = digests()
    assert (email.to, email.subject) == (leader.email, "2 cases overdue in your queues")
    assert email.body.startswith("Dear Taylor Lead,")
    assert (
        f"{older.reference}: Pothole, Boar Lane. Due 1 December 2026, 4 working days ago\n"
        f"{light.reference}: Street light, Park Lane. Due 4 December 2026, 1 working day ago\n"
    ) in email.body
    assert "Highways, 1 overdue: http://localhost/staff/queues/highways?due=overdue" in email.body
    assert "Street Lighting, 1 overdue: http://localhost/staff/queues/street-lighting?due=overdue" in email.body

    assert service_levels.send_overdue_digests(MONDAY) == 0  # the job again, the same day
    assert service_levels.send_overdue_digests(date(2026, 12, 12)) == 0  # a Saturday
    assert service_levels.send_overdue_digests(date(2026, 12, 25)) == 0  # Christmas Day
    assert len(digests()) == 1
    assert service_levels.send_overdue_digests(date(2026, 12, 8)) == 1  # the next working day


def test_the_email_names_only_the_service_of_a_sealed_case(app_ctx):
    create_staff("team_leader", ("adult-social-care",))
    care = create_care_assessment()
    care.due_on = date(2026, 12, 1)
    db.session.commit()
    assert service_levels.send_overdue_digests(MONDAY) == 1
    [email] = digests()
    assert f"{care.reference}: Ask for an adult social care needs assessment. Due 1 December 2026" in email.body
    assert "Pat Person" not in email.body


def test_a_long_list_gives_the_first_cases_and_says_how_many_more(app_ctx, monkeypatch):
    monkeypatch.setattr(service_levels, "DIGEST_LIMIT", 2)
    create_staff("team_leader", ("highways",))
    for day in (1, 2, 3):
        open_case(date(2026, 12, day))
    service_levels.send_overdue_digests(MONDAY)
    [email] = digests()
    assert email.subject == "3 cases overdue in your queues"
    assert email.body.count(": Pothole, Briggate.") == 2 and "And 1 more." in email.body


def test_two_workers_running_the_job_at_once_send_one_email(app, db_name):
    if db_name != "postgresql":
        pytest.skip("two connections writing at once need PostgreSQL")
    with app.app_context():
        create_staff("team_leader", ("highways",))
        open_case(date(2026, 12, 1))
    ready, go, sent = threading.Event(), threading.Event(), {}

    def job(name: str, pause: bool) -> None:
        with app.app_context():
            if pause:
                pause_before_commit(ready, go)
            sent[name] = service_levels.send_overdue_digests(MONDAY)

    first = threading.Thread(target=job, args=("first", True))
    second = threading.Thread(target=job, args=("second", False))
    first.start()
    assert ready.wait(timeout=10)
    second.start()
    second.join(timeout=1)
    assert second.is_alive()  # waiting on the first one's claim of the day
    go.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert sent == {"first": 1, "second": 0}
    with app.app_context():
        assert len(digests()) == 1


def test_the_bank_holidays_held_reach_the_end_of_next_year():
    """Due dates are counted up to a few weeks ahead: when this fails, add the next year's from GOV.UK's list."""
    assert max(working_days.bank_holidays()).year >= working_days.today().year + 1


def test_the_queue_page_reads_each_cases_due_date_with_the_page_not_row_by_row(worker, app_ctx, statements):
    def statements_for_page() -> int:
        statements.clear()
        worker.get("/staff/queues/highways")
        return len(statements)

    open_case(working_days.today())
    few = statements_for_page()
    for _ in range(5):
        open_case(working_days.today())
    assert statements_for_page() == few
