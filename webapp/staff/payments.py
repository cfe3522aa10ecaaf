"""Thin views for finance: the Payments page, the ledger file, a payment and its refunds."""

from __future__ import annotations

import secrets
from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import audit, charges, payments
from webapp.access import FINANCE, staff_only
from webapp.extensions import db
from webapp.models import Payment
from webapp.money import format_pence
from webapp.payments import ledger, refunds
from webapp.payments.providers import PaymentState
from webapp.staff import bp
from webapp.staff.forms import PaymentsFilterForm, RefundForm


def _filters() -> tuple[PaymentsFilterForm, date]:
    services = [service for service in current_app.extensions["catalogue"] if service.fee is not None]
    form = PaymentsFilterForm(services, list(PaymentState), formdata=request.args)
    valid = form.validate()
    return form, (form.day.data if valid and form.day.data else charges.today())


@bp.get("/payments")
@staff_only(*FINANCE)
def payments_page():
    form, day = _filters()
    service, status = form.service.data or None, form.status.data or None
    return render_template(
        "staff/payments/day.html",
        form=form if form.errors else None,
        filter_form=form,
        day=day,
        totals=ledger.day_totals(day),
        items=ledger.day_payments(day, service, status),
        refund_list=ledger.day_refunds(day),
        run=ledger.latest_run(day),
        catalogue=current_app.extensions["catalogue"],
        ledger_url=url_for("staff.payments_ledger", day=day.isoformat()),
    ), (400 if form.errors else 200)


@bp.get("/payments/ledger.csv")
@staff_only(*FINANCE)
def payments_ledger():
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        abort(400)
    audit.record("payments.ledger", actor=current_user, day=day.isoformat())
    db.session.commit()
    body = ledger.ledger_csv(day, ledger.day_payments(day), ledger.day_refunds(day))
    return Response(
        body,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="payments-{day.isoformat()}.csv"'},
    )


def _payment(public_id: str) -> Payment:
    return payments.get(public_id) or abort(404)


def render_payment(payment: Payment, form: RefundForm | None = None, status: int = 200):
    form = form or RefundForm(request_key=secrets.token_hex(16))
    available = refunds.refundable(payment)
    if not form.amount.data and available:
        form.amount.data = f"{available / 100:.2f}"
    return render_template("staff/payments/payment.html", payment=payment, form=form, refundable=available), status


@bp.get("/payments/<public_id>")
@staff_only(*FINANCE)
def payment(public_id: str):
    found = _payment(public_id)
    audit.record("payment.view", found.submission, actor=current_user, payment=found.public_id)
    db.session.commit()
    return render_payment(found)


@bp.post("/payments/<public_id>/refund")
@staff_only(*FINANCE)
def refund(public_id: str):
    found = _payment(public_id)
    form = RefundForm()
    if not form.validate_on_submit():
        return render_payment(found, form, 400)
    try:
        made = refunds.request(found, form.amount.pence, form.reason.data, current_user, form.request_key.data)
    except refunds.RefundError as error:
        db.session.rollback()
        form.amount.errors = [str(error)]
        return render_payment(found, form, 400)
    if made.status == "failed":
        flash(f"The payment provider refused the refund of {format_pence(made.amount)}. No money was returned.")
    elif made.provider_refund_id is None:
        flash("The refund is saved, but the payment provider has not taken it yet. It will be sent again shortly.")
    else:
        flash(f"Refund of {format_pence(made.amount)} sent to the payment provider.")
    return redirect(url_for("staff.payment", public_id=found.public_id))
