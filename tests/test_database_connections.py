"""Pooled connections the server has closed (extensions.ping_after_idle): one that lay idle past the setting is
checked and replaced before a request gets it; one closed within the window fails one query, and the pool then
replaces it. On PostgreSQL, closing the connection from a second one as a restart or a failover would."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.conftest import POSTGRES_URL, make_config
from webapp import create_app
from webapp.extensions import db

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="closes a PostgreSQL connection from another")


@pytest.fixture
def app_pinging_after(tmp_path):
    made = []

    def make(seconds: float):
        made.append(create_app(make_config(POSTGRES_URL, tmp_path, DATABASE_PING_AFTER_IDLE=seconds)))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def backend_of_pooled_connection(app) -> int:
    """The server process of the connection a request had, now back in the pool."""
    with app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()
    return pid


def close_from_the_server(pid: int) -> None:
    url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]


def test_a_connection_closed_while_idle_is_replaced_before_a_request_meets_it(app_pinging_after):
    app = app_pinging_after(0.05)
    closed = backend_of_pooled_connection(app)
    close_from_the_server(closed)
    time.sleep(0.1)
    with app.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != closed


def test_one_closed_within_the_window_fails_one_query_and_the_next_gets_a_new_connection(app_pinging_after):
    app = app_pinging_after(3600)
    closed = backend_of_pooled_connection(app)
    close_from_the_server(closed)
    with app.app_context():
        with pytest.raises(OperationalError):
            db.session.scalar(text("SELECT 1"))
        db.session.remove()
    with app.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != closed
