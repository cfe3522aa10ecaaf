"""The schema comes from the migrations alone, and they agree with the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate

from webapp.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def script_directory(app) -> ScriptDirectory:
    migrate: Migrate = app.extensions["migrate"].migrate
    return ScriptDirectory.from_config(migrate.get_config(str(MIGRATIONS)))


def test_one_head_and_it_is_recorded(app, app_ctx):
    heads = script_directory(app).get_heads()
    assert len(heads) == 1
    assert (MIGRATIONS / ".current-alembic-head").read_text().strip() == heads[0]


def test_migration_files_are_named_after_their_revision(app, app_ctx):
    for script in script_directory(app).walk_revisions():
        assert Path(script.path).stem == script.revision


def test_models_and_migrations_agree(app_ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_retention_runs_from_when_each_closed_submission_was_closed(tmp_path):
    """Migration 0015 on data already there: a closed submission's closed_at is its last event's time (else its last
    change); an open one has none; and SQLite's queue-figure triggers of 0014 survive it."""
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from tests.conftest import make_config
    from webapp import create_app

    app = create_app(make_config(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path))
    made, changed, last_event = (datetime(2024, month, 1, tzinfo=UTC) for month in (1, 2, 3))
    with app.app_context():
        upgrade(revision="0014_queue_counts")
        with db.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO queue (id, slug, name, description) VALUES (1, 'q', 'Q', '')"))
            for id_, status in ((1, "resolved"), (2, "in_progress"), (3, "cancelled")):
                connection.execute(
                    sa.text(
                        "INSERT INTO submission (id, reference, service_slug, status, channel, queue_id,"
                        " classification, retain_until, answers, description, created_at, updated_at)"
                        " VALUES (:id, :ref, 'report-a-road-problem', :status, 'online', 1, 'OFFICIAL', :made,"
                        " '{}', '', :made, :changed)"
                    ),
                    {"id": id_, "ref": f"RP-{id_}", "status": status, "made": made, "changed": changed},
                )
            connection.execute(
                sa.text(
                    "INSERT INTO case_event (submission_id, kind, public, body, data, actor_kind, created_at)"
                    " VALUES (1, 'status', 0, '', '{}', 'staff', :at)"
                ),
                {"at": last_event},
            )
        upgrade()
        with db.engine.connect() as connection:
            closed = dict(connection.execute(sa.text("SELECT id, closed_at FROM submission")).all())
            triggers = connection.execute(
                sa.text(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'submission_%_counted'"
                )
            ).scalar()
        db.engine.dispose()
    assert {id_: value and value[:10] for id_, value in closed.items()} == {
        1: "2024-03-01",
        2: None,
        3: "2024-02-01",
    }
    assert triggers == 3


def test_each_submission_in_a_queue_was_received_when_it_was_routed_or_else_made(tmp_path):
    """Migration 0018 on data already there: a paid submission was received when its payment routed it (its 'routed'
    event); one routed as it was made, when it was made; one waiting for payment (no queue) not yet. The targets and
    due dates come later, from ``flask seed`` (webapp.service_levels.fill_clocks)."""
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from tests.conftest import make_config
    from webapp import create_app

    app = create_app(make_config(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path))
    made, paid = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 3, tzinfo=UTC)
    with app.app_context():
        upgrade(revision="0017_two_factor")
        with db.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO queue (id, slug, name, description) VALUES (1, 'q', 'Q', '')"))
            for id_, queue in ((1, 1), (2, 1), (3, None)):
                connection.execute(
                    sa.text(
                        "INSERT INTO submission (id, reference, service_slug, status, channel, queue_id,"
                        " classification, answers, description, created_at, updated_at)"
                        " VALUES (:id, :ref, 'garden-waste', 'received', 'online', :queue, 'OFFICIAL', '{}', '',"
                        " :made, :made)"
                    ),
                    {"id": id_, "ref": f"GW-{id_}", "queue": queue, "made": made},
                )
            connection.execute(
                sa.text(
                    "INSERT INTO case_event (submission_id, kind, public, body, data, actor_kind, created_at)"
                    " VALUES (1, 'routed', 0, '', '{}', 'system', :at)"
                ),
                {"at": paid},
            )
        upgrade()
        with db.engine.connect() as connection:
            received = dict(connection.execute(sa.text("SELECT id, received_at FROM submission")).all())
        db.engine.dispose()
    assert {id_: value and value[:10] for id_, value in received.items()} == {
        1: "2026-06-03",
        2: "2026-06-01",
        3: None,
    }


def test_the_queue_figures_are_made_again_with_open_work_by_due_date_and_back(tmp_path):
    """Migration 0019 on data already there: the figures are counted again from the submissions, open ones under
    their due dates, closed ones under none; the new triggers count a change; and going back to 0018 counts by queue
    and status alone again."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from tests.conftest import make_config
    from webapp import create_app

    app = create_app(make_config(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path))
    figures = "SELECT status, due_on, sum(change) FROM queue_count_change GROUP BY 1, 2 HAVING sum(change) <> 0"
    with app.app_context():
        upgrade(revision="0018_service_levels")
        with db.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO queue (id, slug, name, description) VALUES (1, 'q', 'Q', '')"))
            for id_, status, due_on in (
                (1, "received", "2026-12-01"),
                (2, "received", "2026-12-01"),
                (3, "in_progress", "2026-12-09"),
                (4, "resolved", "2026-11-20"),
                (5, "received", None),
            ):
                connection.execute(
                    sa.text(
                        "INSERT INTO submission (id, reference, service_slug, status, channel, queue_id,"
                        " classification, answers, description, due_on, created_at, updated_at)"
                        " VALUES (:id, :ref, 'report-a-road-problem', :status, 'online', 1, 'OFFICIAL', '{}', '',"
                        " :due_on, '2026-11-16', '2026-11-16')"
                    ),
                    {"id": id_, "ref": f"RP-{id_}", "status": status, "due_on": due_on},
                )
        upgrade()
        with db.engine.begin() as connection:
            made_again = set(connection.execute(sa.text(figures)).all())
            connection.execute(sa.text("UPDATE submission SET status = 'closed' WHERE id = 1"))
            after_a_change = set(connection.execute(sa.text(figures)).all())
        downgrade(revision="0018_service_levels")
        with db.engine.begin() as connection:
            back = set(connection.execute(sa.text("SELECT status, sum(change) FROM queue_count_change GROUP BY 1")))
            connection.execute(sa.text("UPDATE submission SET status = 'closed' WHERE id = 2"))
            back_after_a_change = set(
                connection.execute(sa.text("SELECT status, sum(change) FROM queue_count_change GROUP BY 1"))
            )
        db.engine.dispose()
    assert made_again == {
        ("received", "2026-12-01", 2),
        ("received", None, 1),
        ("in_progress", "2026-12-09", 1),
        ("resolved", None, 1),
    }
    assert after_a_change == {
        ("received", "2026-12-01", 1),
        ("received", None, 1),
        ("in_progress", "2026-12-09", 1),
        ("resolved", None, 1),
        ("closed", None, 1),
    }
    assert back == {("received", 2), ("in_progress", 1), ("resolved", 1), ("closed", 1)}
    assert back_after_a_change == {("received", 1), ("in_progress", 1), ("resolved", 1), ("closed", 2)}
