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


# GOV.UK Notify: one template id (made in Notify's dashboard) per template in webapp/notifications.py, for each
# channel: the email templates (TEMPLATES), the text message templates (SMS_TEMPLATES) and the letter templates
# (LETTER_TEMPLATES).
NOTIFY_TEMPLATE_SETTINGS = {
    "submission-received": "NOTIFY_TEMPLATE_SUBMISSION_RECEIVED",
    "following-report": "NOTIFY_TEMPLATE_FOLLOWING_REPORT",
    "case-update": "NOTIFY_TEMPLATE_CASE_UPDATE",
    "payment-received": "NOTIFY_TEMPLATE_PAYMENT_RECEIVED",
    "refund-issued": "NOTIFY_TEMPLATE_REFUND_ISSUED",
    "payment-link": "NOTIFY_TEMPLATE_PAYMENT_LINK",
    "subscription-reminder": "NOTIFY_TEMPLATE_SUBSCRIPTION_REMINDER",
    "overdue-cases": "NOTIFY_TEMPLATE_OVERDUE_CASES",
}
NOTIFY_SMS_TEMPLATE_SETTINGS = {
    "submission-received": "NOTIFY_SMS_TEMPLATE_SUBMISSION_RECEIVED",
    "payment-received": "NOTIFY_SMS_TEMPLATE_PAYMENT_RECEIVED",
    "case-update": "NOTIFY_SMS_TEMPLATE_CASE_UPDATE",
    "payment-link": "NOTIFY_SMS_TEMPLATE_PAYMENT_LINK",
    "subscription-reminder": "NOTIFY_SMS_TEMPLATE_SUBSCRIPTION_REMINDER",
}
NOTIFY_LETTER_TEMPLATE_SETTINGS = {
    "submission-received": "NOTIFY_LETTER_TEMPLATE_SUBMISSION_RECEIVED",
    "payment-received": "NOTIFY_LETTER_TEMPLATE_PAYMENT_RECEIVED",
    "case-update": "NOTIFY_LETTER_TEMPLATE_CASE_UPDATE",
    "subscription-reminder": "NOTIFY_LETTER_TEMPLATE_SUBSCRIPTION_REMINDER",
}
PAYMENT_PROVIDERS = ("sandbox", "stripe")


def _email_sender() -> str:
    """``log`` (the embedded default) or ``notify``; ``notify`` by default once a Notify API key is set."""
    return _env("EMAIL_SENDER", "notify" if _env("NOTIFY_API_KEY") else "log") or "log"


def _notify_templates(settings: dict[str, str] = NOTIFY_TEMPLATE_SETTINGS) -> dict[str, str | None]:
    return {key: _env(name) for key, name in settings.items()}


class Config:
    COUNCIL_NAME = _env("COUNCIL_NAME", "Example City Council")
    # The council's main website: the council's name in the header links to it.
    COUNCIL_WEBSITE = _env("COUNCIL_WEBSITE", "https://www.example.gov.uk")
    CONTACT_PHONE = _env("CONTACT_PHONE", "0300 123 4567")
    CONTACT_EMAIL = _env("CONTACT_EMAIL", "contact@example.gov.uk")
    # The council's emergency duty team: social care emergencies out of office hours, at night and at weekends.
    EMERGENCY_DUTY_PHONE = _env("EMERGENCY_DUTY_PHONE", "0300 123 4568")
    DPO_EMAIL = _env("DPO_EMAIL", "dataprotection@example.gov.uk")
    # The council's area: reports with a map position outside it are refused.
    # The default is a box around a fictional city (roughly Leeds).
    COUNCIL_BOUNDING_BOX = _bbox(_env("COUNCIL_BOUNDING_BOX", "53.69,-1.80,53.95,-1.29"))

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE / 'council.sqlite3'}")
    # A pooled connection unused for this many seconds is checked before a request gets it (extensions.ping_after_idle).
    DATABASE_PING_AFTER_IDLE = float(_env("DATABASE_PING_AFTER_IDLE", "10"))
    SECRET_KEY = _env("SECRET_KEY", "development-only-secret-key-not-for-production")
    UPLOAD_DIR = _env("UPLOAD_DIR", str(INSTANCE / "uploads"))
    # Where uploaded photos and evidence live (webapp/storage.py): "local" (UPLOAD_DIR) or "s3", an S3-compatible
    # bucket shared by every app server; S3_ENDPOINT_URL for storage that is not AWS's own (MinIO, Ceph).
    UPLOAD_STORAGE = _env("UPLOAD_STORAGE", "local")
    S3_BUCKET = _env("S3_BUCKET")
    S3_PREFIX = _env("S3_PREFIX", "uploads/")
    S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")
    S3_REGION = _env("S3_REGION")
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
    RATELIMIT_SIGN_IN = _env("RATELIMIT_SIGN_IN", "10 per minute")
    RATELIMIT_HEADERS_ENABLED = True
    # Staff sign in with a second factor, an authenticator app (webapp/two_factor.py). Always on in production;
    # TWO_FACTOR=off turns it off elsewhere (make run does, for the demo accounts).
    TWO_FACTOR = _env("TWO_FACTOR", "on") != "off"
    # Staff are signed out after this long without using the site.
    STAFF_IDLE_MINUTES = int(_env("STAFF_IDLE_MINUTES", "30"))
    # The dashboard's estimate of what each contact costs the council, by channel, in pence: SOCITM's average costs
    # of a council contact (face to face £8.62, phone £2.83, online £0.15), the figures behind the Government Digital
    # Strategy's "20 times cheaper than phone, 50 times cheaper than face to face". A report sent over Open311 was
    # made online, on another site (FixMyStreet), so it costs as much as one made here. Set your own.
    CHANNEL_COST_ONLINE = int(_env("CHANNEL_COST_ONLINE", "15"))
    CHANNEL_COST_PHONE = int(_env("CHANNEL_COST_PHONE", "283"))
    CHANNEL_COST_FACE_TO_FACE = int(_env("CHANNEL_COST_FACE_TO_FACE", "862"))
    CHANNEL_COST_OPEN311 = int(_env("CHANNEL_COST_OPEN311", "15"))
    # Find a caller shows at most this many of a caller's submissions, the most recent.
    CALLER_SEARCH_LIMIT = int(_env("CALLER_SEARCH_LIMIT", "50"))

    EMAIL_SENDER = _email_sender()
    NOTIFY_API_KEY = _env("NOTIFY_API_KEY")
    NOTIFY_BASE_URL = _env("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
    NOTIFY_TEMPLATES = _notify_templates()
    NOTIFY_SMS_TEMPLATES = _notify_templates(NOTIFY_SMS_TEMPLATE_SETTINGS)
    NOTIFY_LETTER_TEMPLATES = _notify_templates(NOTIFY_LETTER_TEMPLATE_SETTINGS)
    NOTIFY_TIMEOUT = float(_env("NOTIFY_TIMEOUT", "10"))
    # Messages sent (or given up on) are kept this long in the outbox, then deleted by the daily retention run
    # (webapp.retention); a submission's own messages go sooner if it is anonymised or deleted first.
    NOTIFICATION_RETENTION_DAYS = int(_env("NOTIFICATION_RETENTION_DAYS", "180"))
    # A contact-centre call keeps who the caller was (their name, email, phone, postcode) this long after it began;
    # the retention run then removes them, keeping the call itself (agent, channel, times) for the figures. What a
    # caller asked for is in their submissions, kept as each service says.
    CALL_RETENTION_DAYS = int(_env("CALL_RETENTION_DAYS", "30"))
    # How many messages one run of `flask send-notifications` sends at most.
    NOTIFICATION_BATCH_SIZE = int(_env("NOTIFICATION_BATCH_SIZE", "100"))
    # How many reverse proxies (load balancer, CDN) stand in front of the app: their X-Forwarded-For and
    # X-Forwarded-Proto headers are then trusted, for rate limits by the resident's address and for HSTS.
    TRUSTED_PROXIES = int(_env("TRUSTED_PROXIES", "0"))
    PREFERRED_URL_SCHEME = "http"
    # The site's address, for links in messages sent outside a web request (by a worker or a scheduled job).
    BASE_URL = _env("BASE_URL", "http://127.0.0.1:5000")
    # The task queue (webapp.tasks): Redis in production; by default a SQLite file, so `make run` needs no server.
    TASK_QUEUE_URL = _env("TASK_QUEUE_URL", f"sqlite:///{INSTANCE / 'tasks.sqlite3'}")
    # When the worker's scheduled jobs run: cron's five fields (minute hour day month day-of-week), in UTC. The
    # outbox sweep queues again messages whose task was lost; settling closes payments left open past their window;
    # reminders go 30 days before a subscription ends (once each); retention anonymises or deletes what is past its
    # period; reconciliation compares yesterday's payments with the provider's.
    SCHEDULE_OUTBOX_SWEEP = _env("SCHEDULE_OUTBOX_SWEEP", "* * * * *")
    SCHEDULE_SETTLE_PAYMENTS = _env("SCHEDULE_SETTLE_PAYMENTS", "* * * * *")
    SCHEDULE_REMINDERS = _env("SCHEDULE_REMINDERS", "0 * * * *")
    SCHEDULE_RETENTION = _env("SCHEDULE_RETENTION", "30 2 * * *")
    SCHEDULE_RECONCILIATION = _env("SCHEDULE_RECONCILIATION", "0 6 * * *")
    # Each team leader's overdue cases, by email: 7am UTC on weekdays (webapp.service_levels).
    SCHEDULE_OVERDUE_DIGEST = _env("SCHEDULE_OVERDUE_DIGEST", "0 7 * * 1-5")

    # Payments: the sandbox (a test payment page served by the site, the embedded default) or Stripe Checkout.
    PAYMENT_PROVIDER = _env("PAYMENT_PROVIDER", "sandbox")
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")  # only to point the SDK at a fake Stripe in tests
    # The publishable key (pk_live_... or pk_test_...): Stripe.js needs it on the staff page where agents take card
    # payments over the phone (MOTO). Not a secret; without it that page cannot take payments.
    STRIPE_PUBLISHABLE_KEY = _env("STRIPE_PUBLISHABLE_KEY")
    # A payment not completed in this long expires, and the submission waiting for it is cancelled.
    PAYMENT_WINDOW_MINUTES = int(_env("PAYMENT_WINDOW_MINUTES", "90"))
    # A payment link an agent sends a caller works for this long; until then their submission waits for it.
    PAYMENT_LINK_HOURS = int(_env("PAYMENT_LINK_HOURS", "72"))
    # The sandbox confirms each payment as a signed webhook too, as a real provider does; "off" loses them all,
    # to try the return page and the settling job on their own.
    SANDBOX_WEBHOOKS = _env("SANDBOX_WEBHOOKS", "on") == "on"
    RATELIMIT_CHARGE_LOOKUP = _env("RATELIMIT_CHARGE_LOOKUP", "10 per minute")
    # Residents' feedback on the services, per address.
    RATELIMIT_FEEDBACK = _env("RATELIMIT_FEEDBACK", "10 per minute")
    # The map on a case page: the council's tile server ({z}/{x}/{y}, optionally {s}), allowed by the
    # Content-Security-Policy, and the credit its licence asks for.
    MAP_TILE_URL = _env("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    MAP_ATTRIBUTION = _env("MAP_ATTRIBUTION", "© OpenStreetMap contributors")
    # Open311 (docs/open311.md): the jurisdiction_id clients may send (empty: one jurisdiction, none needed); who to
    # contact about the endpoint, and whether it is the "production" or a "test" one, as discovery says; and each
    # key's rate limits (anyone without a key: by address).
    OPEN311_JURISDICTION_ID = _env("OPEN311_JURISDICTION_ID", "")
    OPEN311_CONTACT = _env("OPEN311_CONTACT", "email digital@example.gov.uk about this endpoint")
    OPEN311_ENDPOINT_TYPE = _env("OPEN311_ENDPOINT_TYPE", "production")
    RATELIMIT_OPEN311_READ = _env("RATELIMIT_OPEN311_READ", "120 per minute")
    RATELIMIT_OPEN311_WRITE = _env("RATELIMIT_OPEN311_WRITE", "60 per minute")


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    # argon2id (time cost, memory KiB, parallelism): cheap in tests, where nothing is at stake.
    PASSWORD_HASH_COST = (1, 1024, 1)
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    # Tests never reach the real GOV.UK Notify, whatever the environment says.
    EMAIL_SENDER = "log"
    NOTIFY_API_KEY = None
    # Tests never reach the real Stripe either.
    PAYMENT_PROVIDER = "sandbox"
    BASE_URL = "http://localhost"
    # Tasks wait in memory until a test runs them (webapp.tasks.run_queued).
    TASK_QUEUE_URL = "memory://"
    # Tests sign staff in with a password; the two-factor tests turn it on.
    TWO_FACTOR = False


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    def __init__(self) -> None:
        # Shared by every app server and worker: the task queue and the rate limits live in Redis.
        required = ["SECRET_KEY", "DATABASE_URL", "TASK_QUEUE_URL", "RATELIMIT_STORAGE_URI"]
        self.EMAIL_SENDER = _email_sender()
        if self.EMAIL_SENDER == "notify":
            required += [
                "NOTIFY_API_KEY",
                *NOTIFY_TEMPLATE_SETTINGS.values(),
                *NOTIFY_SMS_TEMPLATE_SETTINGS.values(),
                *NOTIFY_LETTER_TEMPLATE_SETTINGS.values(),
            ]
        elif self.EMAIL_SENDER != "log":
            raise RuntimeError(f"EMAIL_SENDER must be 'log' or 'notify', not {self.EMAIL_SENDER!r}")
        # A live site names its payment provider: the sandbox takes no money, so it is never a silent default.
        required += ["PAYMENT_PROVIDER", "BASE_URL"]
        self.PAYMENT_PROVIDER = _env("PAYMENT_PROVIDER")
        if self.PAYMENT_PROVIDER == "stripe":
            required += ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]
        elif self.PAYMENT_PROVIDER not in (None, *PAYMENT_PROVIDERS):
            raise RuntimeError(f"PAYMENT_PROVIDER must be one of {', '.join(PAYMENT_PROVIDERS)}")
        if _env("TWO_FACTOR", "on") != "on":
            raise RuntimeError("Production requires two-factor sign-in for staff: remove TWO_FACTOR, or set it to on")
        self.TWO_FACTOR = True
        missing = [name for name in required if not _env(name)]
        if missing:
            raise RuntimeError(f"Production needs these environment variables: {', '.join(missing)}")
        self.SECRET_KEY = _env("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
        self.TASK_QUEUE_URL = _env("TASK_QUEUE_URL")
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI")
        self.NOTIFY_API_KEY = _env("NOTIFY_API_KEY")
        self.NOTIFY_TEMPLATES = _notify_templates()
        self.NOTIFY_SMS_TEMPLATES = _notify_templates(NOTIFY_SMS_TEMPLATE_SETTINGS)
        self.NOTIFY_LETTER_TEMPLATES = _notify_templates(NOTIFY_LETTER_TEMPLATE_SETTINGS)
        self.BASE_URL = _env("BASE_URL")
        self.STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
        self.STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
        self.STRIPE_PUBLISHABLE_KEY = _env("STRIPE_PUBLISHABLE_KEY")


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
