"""Settings from the environment, one class per environment, chosen by ``APP_ENV``.

Development and testing have embedded defaults (SQLite under ``instance/``, sandbox
services, emails written to the log). Production has no defaults for secrets or the
database and refuses to start without them.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _bbox(value: str) -> tuple[float, float, float, float]:
    """``south,west,north,east`` in decimal degrees."""
    south, west, north, east = (float(part) for part in value.split(","))
    if not (south < north and west < east):
        raise ValueError("COUNCIL_BOUNDING_BOX must be south,west,north,east with south < north and west < east")
    return south, west, north, east


class Config:
    COUNCIL_NAME = _env("COUNCIL_NAME", "Example City Council")
    CONTACT_PHONE = _env("CONTACT_PHONE", "0300 123 4567")
    CONTACT_EMAIL = _env("CONTACT_EMAIL", "contact@example.gov.uk")
    DPO_EMAIL = _env("DPO_EMAIL", "dataprotection@example.gov.uk")
    # The council's area: reports with a map position outside it are refused.
    # The default is a box around a fictional city (roughly Leeds).
    COUNCIL_BOUNDING_BOX = _bbox(_env("COUNCIL_BOUNDING_BOX", "53.69,-1.80,53.95,-1.29"))

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE / 'council.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SECRET_KEY = _env("SECRET_KEY", "development-only-secret-key-not-for-production")
    UPLOAD_DIR = _env("UPLOAD_DIR", str(INSTANCE / "uploads"))
    GOVUK_ASSETS = str(ROOT / "static" / "govuk")

    # Drafts live on the server for a day; the session cookie that points at them lives as long.
    DRAFT_LIFETIME = timedelta(hours=24)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=24)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    WTF_CSRF_TIME_LIMIT = 24 * 60 * 60
    # A 10 MB photo plus the rest of the form; larger bodies get the 413 page.
    MAX_CONTENT_LENGTH = 11 * 1024 * 1024

    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = True
    RATELIMIT_SUBMIT = _env("RATELIMIT_SUBMIT", "10 per minute")
    RATELIMIT_CHECK_PROGRESS = _env("RATELIMIT_CHECK_PROGRESS", "30 per minute")
    RATELIMIT_HEADERS_ENABLED = True

    EMAIL_SENDER = _env("EMAIL_SENDER", "log")
    # How many reverse proxies (load balancer, CDN) stand in front of the app: their X-Forwarded-For and
    # X-Forwarded-Proto headers are then trusted, for rate limits by the resident's address and for HSTS.
    TRUSTED_PROXIES = int(_env("TRUSTED_PROXIES", "0"))
    PREFERRED_URL_SCHEME = "http"


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    def __init__(self) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not _env(name)]
        if missing:
            raise RuntimeError(f"Production needs these environment variables: {', '.join(missing)}")
        self.SECRET_KEY = _env("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load(name: str | None = None) -> Config:
    name = name or _env("APP_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
