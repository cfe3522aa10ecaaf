"""Staff accounts: passwords (argon2), sign-in with lock-out, and sessions that end at sign-out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import Queue, Role, StaffUser, utcnow

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
_HASHERS: dict[tuple[int, int, int], PasswordHasher] = {}


def hasher() -> PasswordHasher:
    """argon2id with the configured cost (argon2-cffi's recommended defaults unless PASSWORD_HASH_COST is set;
    the tests use a cheap one)."""
    cost = tuple(current_app.config.get("PASSWORD_HASH_COST") or (3, 65536, 4))
    if cost not in _HASHERS:
        time_cost, memory_cost, parallelism = cost
        _HASHERS[cost] = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    return _HASHERS[cost]


def dummy_hash() -> str:
    """Checked against when the email is unknown, so a wrong email takes as long as a wrong password."""
    if "dummy_password_hash" not in current_app.extensions:
        current_app.extensions["dummy_password_hash"] = hasher().hash(secrets.token_urlsafe(16))
    return current_app.extensions["dummy_password_hash"]


class AccountError(ValueError):
    """A staff account could not be created or changed; the message says why, in GOV.UK style."""


def new_nonce() -> str:
    return secrets.token_hex(16)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_staff(email: str, name: str, password: str, role: Role | str, queues: list[str] = ()) -> StaffUser:
    role = Role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Password must be {MIN_PASSWORD_LENGTH} characters or more")
    email = normalise_email(email)
    if db.session.scalar(select(func.count()).select_from(StaffUser).where(StaffUser.email == email)):
        raise AccountError(f"There is already a staff account for {email}")
    found = list(db.session.scalars(select(Queue).where(Queue.slug.in_(list(queues)))))
    unknown = set(queues) - {queue.slug for queue in found}
    if unknown:
        raise AccountError(f"No queue called {', '.join(sorted(unknown))}")
    user = StaffUser(
        email=email,
        name=name.strip(),
        password_hash=hasher().hash(password),
        role=role,
        session_nonce=new_nonce(),
        failed_sign_ins=0,
        active=True,
        queues=found,
    )
    db.session.add(user)
    db.session.flush()
    return user


@dataclass(frozen=True)
class SignIn:
    user: StaffUser | None
    error: str | None = None


WRONG = "Enter a correct email address and password"
LOCKED = "This account is locked after too many attempts. Try again in 15 minutes, or ask an administrator"


def authenticate(email: str, password: str, second_factor: bool = False) -> SignIn:
    """Check a password. Repeated failures lock the account for a while; the message never says whether
    the email exists. With ``second_factor`` the sign-in is not finished: the count of failures stands until the
    second factor is right too (finish_sign_in), so a known password cannot be used to clear it."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))
    now = utcnow()
    if user is None or not user.active:
        _verify(dummy_hash(), password)
        return SignIn(None, WRONG)
    if is_locked(user, now):
        return SignIn(None, LOCKED)
    if not _verify(user.password_hash, password):
        return SignIn(None, count_failure(user))
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hasher().hash(password)
    if second_factor:
        db.session.commit()
        return SignIn(user)
    finish_sign_in(user)
    return SignIn(user)


def is_locked(user: StaffUser, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def count_failure(user: StaffUser) -> str:
    """A wrong password or a wrong second-factor code: counted in the database (two at once both count), and the
    account locked at MAX_FAILURES. Commits; returns the message to show."""
    db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id)
        .values(failed_sign_ins=StaffUser.failed_sign_ins + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["failed_sign_ins"])
    if user.failed_sign_ins >= MAX_FAILURES:
        user.locked_until, user.failed_sign_ins = utcnow() + LOCK_FOR, 0
    db.session.commit()
    return LOCKED if is_locked(user) else WRONG


def finish_sign_in(user: StaffUser) -> None:
    """Every factor was right: the count of failures is cleared and a new session begins. Commits."""
    user.failed_sign_ins, user.locked_until = 0, None
    user.session_nonce = new_nonce()
    user.last_sign_in_at = utcnow()
    db.session.commit()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def end_sessions(user: StaffUser) -> None:
    """Sign-out: every cookie issued for this account so far stops working."""
    user.session_nonce = new_nonce()
    db.session.commit()


def load_user(session_id: str) -> StaffUser | None:
    """Flask-Login's loader: the id carries the account's current nonce."""
    user_id, _, nonce = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_nonce, nonce):
        return None
    return user
