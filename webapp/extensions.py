"""Extensions are created once here; create_app() calls init_app on each."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
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
