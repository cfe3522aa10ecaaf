"""The council's transactional website: create_app() builds the Flask application."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import config as config_module
from webapp import govuk_components, templating
from webapp.catalogue import Catalogue, discover
from webapp.extensions import csrf, db, end_reading_only, limiter, login_manager, migrate, ping_after_idle

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: object | None = None, catalogue: Catalogue | None = None) -> Flask:
    app = Flask(
        __name__,
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.jinja_environment = templating.Environment  # before anything makes app.jinja_env
    app.config.from_object(config or config_module.load())
    Path(app.instance_path).mkdir(exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            *govuk_components.loaders(),
            PrefixLoader({"govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf")}),
        ]
    )
    templating.init_app(app)
    govuk_components.install(app.jinja_env)

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_after_idle(engine, app.config["DATABASE_PING_AFTER_IDLE"])
    app.teardown_request(end_reading_only)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    WTFormsHelpers(app)
    app.extensions["catalogue"] = catalogue or discover()

    from webapp import cli, errors, security, staff_accounts, storage, tasks
    from webapp.api import bp as api_bp
    from webapp.assisted import bp as assisted_bp
    from webapp.open311 import bp as open311_bp
    from webapp.public import bp as public_bp
    from webapp.staff import bp as staff_bp

    login_manager.user_loader(staff_accounts.load_user)
    login_manager.login_view = "staff.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.session_protection = "basic"

    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    tasks.init_app(app)
    storage.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(assisted_bp)
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(open311_bp)
    app.register_blueprint(open311_bp)
    if app.config["PAYMENT_PROVIDER"] == "sandbox":
        from webapp.payments.sandbox_views import bp as sandbox_bp

        app.register_blueprint(sandbox_bp)
    if app.config["PAYMENT_PROVIDER"] == "stripe":
        from webapp.payments.stripe_moto_views import bp as stripe_moto_bp

        app.register_blueprint(stripe_moto_bp)
    return app
