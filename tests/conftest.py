"""Shared fixtures. The database is built by running the migrations, once per database per session;
every test then gets clean tables, with the queues and routing rules seeded.

Database tests run on SQLite always, and on PostgreSQL too when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from bs4 import BeautifulSoup
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text

from tests.factories import create_staff
from tests.staff_helpers import sign_in
from webapp import create_app, routing
from webapp.catalogue import Catalogue, discover
from webapp.config import TestingConfig
from webapp.extensions import db

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
# A Redis database of the tests' own, emptied before and after each test that uses it. Tests that need Redis are
# skipped without it, unless REQUIRE_REDIS=1 (as in CI).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def make_config(url: str, tmp: Path, **overrides: Any) -> TestingConfig:
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    config.UPLOAD_DIR = str(tmp / "uploads")
    config.RATELIMIT_ENABLED = False
    config.SERVER_NAME = "localhost"
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each database, migrated once for the whole session."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"}
    if POSTGRES_URL:
        urls["postgresql"] = POSTGRES_URL
    for name, url in urls.items():
        app = create_app(make_config(url, tmp_path_factory.mktemp(name)))
        with app.app_context():
            if name == "postgresql":
                db.session.execute(text("DROP SCHEMA public CASCADE"))
                db.session.execute(text("CREATE SCHEMA public"))
                db.session.commit()
            upgrade()
            db.engine.dispose()
    return urls


def clean(app: Flask) -> None:
    with app.app_context():
        tables = [table for table in reversed(db.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture(params=DATABASES)
def db_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def catalogue() -> Catalogue:
    return discover()


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Override in a test module (or with @pytest.mark.parametrize indirect) to change settings."""
    return {}


@pytest.fixture
def app(
    database_urls: dict[str, str], db_name: str, tmp_path: Path, catalogue: Catalogue, config_overrides: dict
) -> Iterator[Flask]:
    app = create_app(make_config(database_urls[db_name], tmp_path, **config_overrides), catalogue=catalogue)
    clean(app)
    with app.app_context():
        routing.load_seed()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
    clean(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but Redis does not answer at {REDIS_URL}: {error}", pytrace=False)
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


class Response:
    """A page as a person sees it: status, where it went, its title, text and form."""

    def __init__(self, raw):
        self.raw = raw
        self.status = raw.status_code
        self.location = raw.headers.get("Location")
        self.html = raw.get_data(as_text=True)
        self.soup = BeautifulSoup(self.html, "html.parser")

    @property
    def title(self) -> str:
        return self.soup.title.get_text(" ", strip=True) if self.soup.title else ""

    @property
    def h1(self) -> str:
        h1 = self.soup.find("h1")
        return h1.get_text(" ", strip=True) if h1 else ""

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", self.soup.get_text(" ", strip=True))

    def errors(self) -> list[str]:
        summary = self.soup.select(".govuk-error-summary__list li")
        return [a.get_text(strip=True) for a in summary]

    def csrf(self) -> str:
        field = self.soup.find("input", attrs={"name": "csrf_token"})
        return field["value"] if field else ""


def fresh_request_globals() -> None:
    """A test that holds an app context open (app_ctx) makes Flask reuse it, and its ``g``, for every request;
    clear ``g`` so nothing cached for one request (the CSRF token, the signed-in user) leaks into the next."""
    if has_app_context():
        g.__dict__.clear()


class Resident:
    """Drives the site through the test client as a resident would: GET a page, then POST its form
    with the CSRF token the page gave (CSRF stays switched on in tests)."""

    def __init__(self, client: FlaskClient):
        self.client = client
        self.last: Response | None = None

    def get(self, url: str, expected: int | None = 200, follow: bool = False) -> Response:
        fresh_request_globals()
        self.last = Response(self.client.get(url, follow_redirects=follow))
        if expected is not None:
            assert self.last.status == expected, (url, self.last.status, self.last.errors(), self.last.h1)
        if self.last.status == 200 and "text/html" in self.last.raw.content_type:
            assert self.last.title.endswith("Example City Council"), self.last.title
        return self.last

    def post(self, url: str, data: dict | None = None, expected: int | None = 302, token: bool = True) -> Response:
        page = self.get(url, expected=None) if token else None
        payload = dict(data or {})
        if token and page is not None:
            # A POST-only route (sign-out, case actions) has no page of its own: any form's token will do.
            payload.setdefault("csrf_token", page.csrf() or self.get("/check-progress").csrf())
        fresh_request_globals()
        self.last = Response(self.client.post(url, data=payload))
        if expected is not None:
            assert self.last.status == expected, (url, self.last.status, self.last.errors(), self.last.h1)
        return self.last


class Statement(NamedTuple):
    sql: str
    parameters: Any
    autocommit: bool  # the database connection's own state as it ran: outside a transaction (extensions.reading_only)


def _in_autocommit(driver: Any) -> bool:
    """psycopg says so itself; Python's sqlite3 (before 3.12) runs outside a transaction when its isolation_level is
    None, as SQLAlchemy sets it for AUTOCOMMIT."""
    return (
        driver.autocommit if isinstance(getattr(driver, "autocommit", None), bool) else driver.isolation_level is None
    )


@pytest.fixture
def statements(app_ctx) -> Iterator[list[Statement]]:
    """Every SQL statement run while the test runs, with its parameters and whether it ran outside a transaction."""
    seen: list[Statement] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(Statement(statement, parameters, _in_autocommit(conn.connection.driver_connection)))

    event.listen(db.engine, "before_cursor_execute", listen)
    yield seen
    event.remove(db.engine, "before_cursor_execute", listen)


@pytest.fixture
def resident(app: Flask) -> Resident:
    return Resident(app.test_client())


@pytest.fixture
def caseworker(app_ctx):
    """Casey, a caseworker in the Highways queue."""
    return create_staff("caseworker", ("highways",), name="Casey Worker", email="casey@example.gov.uk")


@pytest.fixture
def worker(resident, caseworker):
    """The test client, signed in as Casey."""
    sign_in(resident, caseworker)
    return resident
