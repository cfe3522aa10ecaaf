"""Two-factor sign-in for staff: a TOTP code from an authenticator app (RFC 6238, with pyotp), or a one-time backup
code. The views are in webapp/staff/two_factor.py.

- Set up at the first sign-in: a secret is made and kept on the account, shown as a QR code made on the server (segno,
  as SVG) and as text; it is in use once a code from the app confirms it. Ten backup codes are shown once; only their
  SHA-256 hashes are kept.
- A code is accepted for its own 30-second step and the steps either side (clocks drift), never twice: the account
  keeps the last step accepted, moved on by one conditional UPDATE, so two requests with one code cannot both pass.
  A backup code is spent the same way.
- A wrong code counts as a failed sign-in (webapp.staff_accounts' lock-out): the password alone never clears the
  count once two-factor sign-in is on.
- An administrator can reset someone's second factor (they set it up again at their next sign-in); it is audited.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

import pyotp
import segno
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update

from webapp.extensions import db
from webapp.models import BackupCode, StaffUser, utcnow
from webapp.staff_accounts import new_nonce

BACKUP_CODES = 10
# Backup codes: 10 characters from an alphabet without look-alikes (no 0/o, 1/l/i), shown as two groups of five.
BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
BACKUP_LENGTH = 10
STEP_SECONDS = 30  # pyotp's default, and what every authenticator app uses
DRIFT_STEPS = 1  # the step before and the step after are accepted too
TOTP_SHAPE = re.compile(r"\d{6}")
ISSUER_DEFAULT = "Example City Council"


def required() -> bool:
    """Whether staff sign in with a second factor (TWO_FACTOR; always in production)."""
    return bool(current_app.config.get("TWO_FACTOR"))


def is_set_up(user: StaffUser) -> bool:
    return user.two_factor_at is not None


def secret_for(user: StaffUser) -> str:
    """The secret being set up: made once and kept until a code confirms it, so a reload shows the same QR code."""
    if is_set_up(user):
        raise ValueError("Two-factor sign-in is already set up for this account")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
        db.session.commit()
    return user.totp_secret


def provisioning_uri(user: StaffUser) -> str:
    issuer = current_app.config.get("COUNCIL_NAME") or ISSUER_DEFAULT
    return pyotp.TOTP(secret_for(user)).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code_svg(user: StaffUser) -> Markup:
    """The QR code an authenticator app scans, as inline SVG made on the server (no script, no third party). Its text
    alternative is the secret, shown beside it."""
    svg = segno.make(provisioning_uri(user), error="m").svg_inline(
        scale=5, dark="#0b0c0c", light="#ffffff", omitsize=True, svgclass="app-qr-code"
    )
    return Markup(svg)


def grouped(secret: str) -> str:
    """The secret as text, in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step whose code this is: now's, or one either side."""
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_step(user: StaffUser, step: int) -> bool:
    """Moves the account's last accepted step on to ``step``, unless that step (or a later one) was accepted already:
    one conditional UPDATE, so of two requests with the same code only one passes."""
    moved = db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id)
        .where(or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    return moved == 1


def normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def hash_backup_code(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def _spend_backup_code(user: StaffUser, code: str) -> bool:
    spent = db.session.execute(
        update(BackupCode)
        .where(BackupCode.staff_id == user.id, BackupCode.code_hash == hash_backup_code(code))
        .where(BackupCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return spent == 1


TOTP, BACKUP = "authenticator app", "backup code"


def _take_totp(user: StaffUser, code: str, now: datetime | None) -> bool:
    """Whether ``code`` (normalised) is the app's code for a step near ``now`` that was not taken before; takes it."""
    if not TOTP_SHAPE.fullmatch(code):
        return False
    step = _matching_step(user.totp_secret, code, now or utcnow())
    return step is not None and _spend_step(user, step)


def check(user: StaffUser, code: str, now: datetime | None = None) -> str | None:
    """Which kind of code this was (TOTP or BACKUP) if it is right and not used before, else None. The caller
    commits (the step or the backup code is spent in this transaction)."""
    code = normalise(code)
    if not is_set_up(user) or not user.totp_secret:
        return None
    if TOTP_SHAPE.fullmatch(code):
        return TOTP if _take_totp(user, code, now) else None
    if len(code) == BACKUP_LENGTH and _spend_backup_code(user, code):
        return BACKUP
    return None


def confirm_set_up(user: StaffUser, code: str, now: datetime | None = None) -> list[str] | None:
    """Set-up: the first code from the app proves it holds the secret. Then two-factor sign-in is on for this account
    and its backup codes are made: returned once, to be shown once. None if the code is wrong. Commits."""
    code = normalise(code)
    if is_set_up(user) or not user.totp_secret or not _take_totp(user, code, now):
        return None
    user.two_factor_at = utcnow()
    codes = new_backup_codes(user)
    db.session.commit()
    return codes


def new_backup_codes(user: StaffUser) -> list[str]:
    """Ten new backup codes, replacing any earlier ones. The caller commits."""
    db.session.execute(delete(BackupCode).where(BackupCode.staff_id == user.id))
    codes = ["".join(secrets.choice(BACKUP_ALPHABET) for _ in range(BACKUP_LENGTH)) for _ in range(BACKUP_CODES)]
    db.session.add_all(BackupCode(staff_id=user.id, code_hash=hash_backup_code(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def backup_codes_left(user: StaffUser) -> int:
    return db.session.scalar(
        select(func.count()).select_from(BackupCode).where(BackupCode.staff_id == user.id, BackupCode.used_at.is_(None))
    )


def reset(user: StaffUser) -> None:
    """An administrator's reset (a lost phone): the secret and backup codes go, every session of the account ends,
    and its owner sets two-factor sign-in up again at their next sign-in. The caller audits and commits."""
    user.totp_secret = None
    user.two_factor_at = None
    user.totp_last_step = None
    user.session_nonce = new_nonce()
    db.session.execute(delete(BackupCode).where(BackupCode.staff_id == user.id))
