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
