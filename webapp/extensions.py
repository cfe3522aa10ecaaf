"""Extensions are created once here; create_app() calls init_app on each."""

import time

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Check that a pooled connection still works before handing it out, as pool_pre_ping does, but only when it has
    lain unused in the pool for ``idle_seconds``: the connection a request gets was nearly always used a moment ago,
    and pool_pre_ping's round trip on every request was a tenth of a question page's time on PostgreSQL (issue 11).
    A connection the server closed while it lay idle (a restart, a failover, an idle timeout) is replaced before
    any request meets it (SQLAlchemy's pool retries its checkout on DisconnectionError). One that fails within the
    window fails that request's query, and SQLAlchemy then replaces the pool's connections, as with any lost
    connection (tests/test_database_connections.py)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("the connection was closed while it lay idle in the pool") from error


READING_ONLY = "webapp.reading_only"  # in a request's environ: the request's session runs in autocommit


def reading_only() -> None:
    """This request only reads from the database: its statements run outside a transaction (DBAPI autocommit), so
    on PostgreSQL each is one round trip, with no BEGIN before the first and no ROLLBACK after the last (a question
    page's GET: three round trips down to one, 5-20% of its time in-process). Called first thing by a view that never
    writes; a request that has already started a transaction keeps it. The session's connection goes back to the
    pool when the request ends (end_reading_only), which takes it out of autocommit."""
    from flask import request

    if not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        request.environ[READING_ONLY] = True


def end_reading_only(error: BaseException | None) -> None:
    """At the end of a request that read only: release the session's connection. (A request normally ends its
    session with its app context; one run inside an app context held open, a test's, would otherwise keep it.)"""
    from flask import request

    if request.environ.pop(READING_ONLY, False):
        db.session.rollback()


migrate = Migrate()
csrf = CSRFProtect()


def rate_limit_key() -> str:
    """Whom a rate limit counts: a resident by their address; an agent completing a journey for a caller by who
    they are, since the whole contact centre sits behind one address."""
    from flask import has_request_context, request
    from flask_login import current_user

    if has_request_context() and request.blueprint == "assisted" and current_user.is_authenticated:
        return f"staff:{current_user.id}"
    return get_remote_address()


limiter = Limiter(key_func=rate_limit_key)


login_manager = LoginManager()


def request_memo(name: str) -> dict:
    """A dict that lives as long as the current request (a fresh one outside a request): for look-ups the journey
    engine asks again and again while it works out a journey's pages. Held in the request's environ, not in ``g``,
    which outlives a request in an app context held open (a test's, a job's)."""
    from flask import has_request_context, request

    return request.environ.setdefault(f"webapp.memo.{name}", {}) if has_request_context() else {}
