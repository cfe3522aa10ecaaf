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
