from __future__ import annotations

import pytest

from webapp import config

SHARED = {"TASK_QUEUE_URL": "redis://redis.internal:6379/0", "RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/1"}


def test_production_refuses_to_start_without_secrets_or_shared_stores(monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", *SHARED):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL, TASK_QUEUE_URL, RATELIMIT_STORAGE_URI"):
        config.load("production")


def test_production_takes_its_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://council@db/council")
    for name, value in SHARED.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match="PAYMENT_PROVIDER, BASE_URL"):
        config.load("production")
    monkeypatch.setenv("PAYMENT_PROVIDER", "sandbox")
    monkeypatch.setenv("BASE_URL", "https://services.example.gov.uk")
    settings = config.load("production")
    assert settings.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://council@db/council"
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.PAYMENT_PROVIDER == "sandbox"
    assert (settings.TASK_QUEUE_URL, settings.RATELIMIT_STORAGE_URI) == tuple(SHARED.values())


def test_production_with_stripe_needs_its_keys(monkeypatch):
    for name, value in {
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL": "postgresql+psycopg://council@db/council",
        "PAYMENT_PROVIDER": "stripe",
        "BASE_URL": "https://services.example.gov.uk",
        **SHARED,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    with pytest.raises(RuntimeError, match="STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET"):
        config.load("production")
    monkeypatch.setenv("PAYMENT_PROVIDER", "paypal")
    with pytest.raises(RuntimeError, match="PAYMENT_PROVIDER must be one of sandbox, stripe"):
        config.load("production")


def test_an_unknown_environment_is_refused():
    with pytest.raises(RuntimeError, match="APP_ENV"):
        config.load("staging-ish")


def test_the_bounding_box_is_checked():
    assert config._bbox("53.69,-1.80,53.95,-1.29") == (53.69, -1.80, 53.95, -1.29)
    with pytest.raises(ValueError):
        config._bbox("53.95,-1.80,53.69,-1.29")


def test_behind_a_trusted_proxy_the_residents_address_is_used(tmp_path):
    from tests.conftest import make_config
    from webapp import create_app

    app = create_app(make_config("sqlite://", tmp_path, TRUSTED_PROXIES=1))

    @app.get("/whoami")
    def whoami():
        from flask import request

        return {"address": request.remote_addr, "secure": request.is_secure}

    response = app.test_client().get(
        "/whoami", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    )
    assert response.get_json() == {"address": "203.0.113.7", "secure": True}
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
