"""Staff sign-in and sign-out: a password (webapp.staff_accounts), then, where TWO_FACTOR is on (always in production),
a code from an authenticator app or a backup code (webapp.two_factor). Between the two steps nobody is signed in: the
session holds only which account gave its password, until when, and that account's session nonce then (an
administrator's reset, or a sign-out elsewhere, ends the half-finished sign-in too)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from webapp import audit, staff_accounts, two_factor
from webapp.access import ALL_STAFF, public, staff_only
from webapp.extensions import db, limiter
from webapp.models import Role, StaffUser, utcnow
from webapp.staff import LAST_SEEN, bp
from webapp.staff.forms import SecurityCodeForm, SetUpCodeForm, SignInForm

PENDING = "pending_sign_in"
PENDING_FOR = timedelta(minutes=15)  # setting up an app for the first time takes a while
WRONG_CODE = "The code is wrong or has been used already. Enter the code your app shows now"
# One allowance of attempts per address for the password and the code pages together (RATELIMIT_SIGN_IN).
SIGN_IN_ATTEMPTS = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_SIGN_IN"], scope="staff-sign-in", methods=["POST"]
)


def safe_next(target: str | None, user: StaffUser) -> str:
    """Only a path on this site, never another host; by default, the person's own starting page."""
    if target and target.startswith("/staff") and not urlsplit(target).netloc and not target.startswith("//"):
        return target
    starts = {Role.FINANCE: "staff.payments_page", Role.AGENT: "assisted.calls", Role.DPO: "staff.subject_access"}
    return url_for(starts.get(user.role, "staff.queues"))


def start_session(user: StaffUser) -> None:
    session.clear()  # a new session on sign-in: nothing from before carries over
    login_user(user)
    session[LAST_SEEN] = utcnow().isoformat()


@bp.route("", methods=["GET", "POST"])
@public
@SIGN_IN_ATTEMPTS
def sign_in():
    if current_user.is_authenticated:
        return redirect(safe_next(None, current_user))
    form = SignInForm()
    if form.validate_on_submit():
        second_factor = two_factor.required()
        result = staff_accounts.authenticate(form.email.data, form.password.data, second_factor=second_factor)
        if result.user and second_factor:
            audit.record("staff.password_accepted", actor=result.user, email=form.email.data)
            db.session.commit()
            return begin_second_factor(result.user, request.args.get("next"))
        audit.record(
            "staff.sign_in" if result.user else "staff.sign_in_failed", actor=result.user, email=form.email.data
        )
        db.session.commit()
        if result.user:
            start_session(result.user)
            return redirect(safe_next(request.args.get("next"), result.user))
        form.email.errors.append(result.error)
    return render_template("staff/sign-in.html", form=form), 400 if form.errors else 200


def begin_second_factor(user: StaffUser, target: str | None):
    session.clear()
    session[PENDING] = {
        "id": user.id,
        "nonce": user.session_nonce,
        "until": (utcnow() + PENDING_FOR).isoformat(),
        "next": safe_next(target, user),
    }
    return redirect(url_for("staff.two_factor_check" if two_factor.is_set_up(user) else "staff.two_factor_set_up"))


def pending_user() -> StaffUser | None:
    """The account whose password was right a moment ago, if its sign-in is still open."""
    pending = session.get(PENDING)
    if not pending or datetime.fromisoformat(pending["until"]) <= utcnow():
        return None
    user = db.session.get(StaffUser, pending["id"])
    if user is None or not user.active or user.session_nonce != pending["nonce"]:
        return None
    return user


def start_again():
    """Back to the password: the sign-in this session began has ended (or there was none)."""
    if session.pop(PENDING, None):
        flash("Sign in again: it had been too long since you entered your password, or your sign-in was reset.")
    return redirect(url_for("staff.sign_in"))


def finish(user: StaffUser, how: str):
    target = session[PENDING]["next"]
    staff_accounts.finish_sign_in(user)
    audit.record("staff.sign_in", actor=user, second_factor=how)
    db.session.commit()
    start_session(user)
    return target


def at_step(setting_up: bool) -> StaffUser | Response:
    """The account part-way through signing in, if it is at this step (setting up, or giving a code); else where it
    should go instead."""
    if current_user.is_authenticated:
        return redirect(safe_next(None, current_user))
    user = pending_user()
    if user is None:
        return start_again()
    if two_factor.is_set_up(user) == setting_up:
        return redirect(url_for("staff.two_factor_check" if setting_up else "staff.two_factor_set_up"))
    return user


def refuse(user: StaffUser, form: SecurityCodeForm | SetUpCodeForm, wrong: str, **detail: Any) -> None:
    """A wrong code: audited, and counted with wrong passwords towards the lock-out."""
    audit.record("staff.two_factor_failed", actor=user, **detail)
    message = staff_accounts.count_failure(user)
    form.code.errors.append(wrong if message == staff_accounts.WRONG else message)


@bp.route("/two-factor", methods=["GET", "POST"])
@public  # the second step of signing in: only for whoever gave the right password in this session
@SIGN_IN_ATTEMPTS
def two_factor_check():
    user = at_step(setting_up=False)
    if not isinstance(user, StaffUser):
        return user
    form = SecurityCodeForm()
    if form.validate_on_submit():
        if staff_accounts.is_locked(user):
            form.code.errors.append(staff_accounts.LOCKED)
        elif how := two_factor.check(user, form.code.data):
            target = finish(user, how)
            if how == two_factor.BACKUP:
                left = two_factor.backup_codes_left(user)
                flash(
                    f"You used a backup code. You have {left} left. If you have lost your phone, ask an administrator "
                    "to reset your two-factor sign-in."
                )
            return redirect(target)
        else:
            refuse(user, form, WRONG_CODE)
    return render_template("staff/two-factor.html", form=form), 400 if form.errors else 200


@bp.route("/two-factor/set-up", methods=["GET", "POST"])
@public  # as above: the first sign-in of an account, or the first after an administrator's reset
@SIGN_IN_ATTEMPTS
def two_factor_set_up():
    user = at_step(setting_up=True)
    if not isinstance(user, StaffUser):
        return user
    form = SetUpCodeForm()
    if form.validate_on_submit():
        if staff_accounts.is_locked(user):
            form.code.errors.append(staff_accounts.LOCKED)
        elif codes := two_factor.confirm_set_up(user, form.code.data):
            audit.record("staff.two_factor_set_up", actor=user)
            target = finish(user, two_factor.TOTP)
            # Shown once, in this response: they are not kept anywhere they could be shown again.
            return render_template("staff/backup-codes.html", codes=codes, target=target)
        else:
            wrong = f"The code is wrong. Check the app shows {current_app.config['COUNCIL_NAME']}, then enter its code"
            refuse(user, form, wrong, setting_up=True)
    return render_template(
        "staff/two-factor-set-up.html",
        form=form,
        qr_code=two_factor.qr_code_svg(user),
        secret=two_factor.grouped(two_factor.secret_for(user)),
    ), 400 if form.errors else 200


@bp.post("/sign-out")
@staff_only(*ALL_STAFF)
def sign_out():
    audit.record("staff.sign_out", actor=current_user)
    staff_accounts.end_sessions(current_user)
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("staff.sign_in"))
