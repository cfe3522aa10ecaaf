"""Two requests submitting the same draft at the same moment still make one submission."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from tests.journey_helpers import walk
from webapp import journeys
from webapp.extensions import db
from webapp.models import Draft, Notification, Submission


def test_simultaneous_submits_of_one_draft_make_one_submission(app, resident):
    walk(resident)
    with app.app_context():
        draft_id = db.session.scalar(select(Draft.id))
    service = app.extensions["catalogue"].get("report-a-road-problem")
    barrier = threading.Barrier(2)
    references: list[str] = []
    failures: list[BaseException] = []

    def submit() -> None:
        try:
            with app.app_context():
                draft = db.session.get(Draft, draft_id)
                barrier.wait(timeout=10)
                references.append(journeys.submit(draft, service).reference)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert len(references) == 2 and references[0] == references[1]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_two_people_claiming_at_once_cannot_both_win(app):
    """Two caseworkers press "Assign to me" at the same moment, each on their own connection."""
    from tests.factories import create_staff, create_submission
    from webapp import cases
    from webapp.models import StaffUser

    with app.app_context():
        first, second = create_staff(name="First"), create_staff(name="Second")
        submission_id = create_submission().id
        people = [first.id, second.id]
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def claim(person_id: int) -> None:
        with app.app_context():
            submission = db.session.get(Submission, submission_id)
            person = db.session.get(StaffUser, person_id)
            barrier.wait(timeout=10)
            try:
                cases.claim(submission, person)
                outcomes[person_id] = "won"
            except cases.CaseError as error:
                outcomes[person_id] = str(error)

    threads = [threading.Thread(target=claim, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(outcomes) == 2 and list(outcomes.values()).count("won") == 1
    loser = next(message for message in outcomes.values() if message != "won")
    assert loser.startswith("This case has already been claimed by ")
    with app.app_context():
        winner = next(person for person, outcome in outcomes.items() if outcome == "won")
        assert db.session.get(Submission, submission_id).assignee_id == winner
