"""Thin views for agents: their calls, the journey's pages for a caller, and how the caller pays."""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from webapp import audit, journey_views, journeys, payments, submissions
from webapp.access import CALL_HANDLERS, staff_only
from webapp.assisted import bp, call_or_404
from webapp.assisted.forms import (
    DeskPaymentForm,
    NewCallForm,
    PaymentChoiceForm,
    PaymentLinkForm,
    SendForCallerForm,
)
from webapp.catalogue import NotPayable
from webapp.extensions import db, limiter
from webapp.models import Call, Channel, Draft, PaymentMethod, Status, Submission, UpdatesBy, utcnow
from webapp.money import format_pence


def in_call(view):
    """A page of a call: only the agent who started it gets in."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        call_or_404()
        return view(*args, **kwargs)

    return wrapped


def for_caller(view):
    return staff_only(*CALL_HANDLERS)(in_call(view))


@bp.get("")
@staff_only(*CALL_HANDLERS)
def calls():
    mine = db.session.scalars(
        select(Call).where(Call.agent_id == current_user.id).order_by(Call.started_at.desc()).limit(20)
    ).all()
    return render_template(
        "staff/calls/calls.html",
        going_on=[call for call in mine if call.ended_at is None],
        ended=[call for call in mine if call.ended_at is not None][:10],
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_only(*CALL_HANDLERS)
def new_call():
    form = NewCallForm()
    if request.method == "GET":
        form.caller.data = request.args.get("caller", "")[:20]
    earlier = submissions.get_by_reference(form.caller.data or "") if form.caller.data else None
    if earlier is not None and earlier.classification != "OFFICIAL":
        earlier = None  # a sensitive case's details are not the agent's to see
    if form.validate_on_submit():
        call = Call(agent_id=current_user.id, channel=form.channel.data, started_at=utcnow())
        if earlier is not None:
            call.caller_name, call.caller_email = earlier.contact_name, earlier.contact_email
            call.caller_phone, call.caller_postcode = earlier.contact_phone, earlier.postcode
        db.session.add(call)
        db.session.flush()
        audit.record("call.start", earlier, actor=current_user, call=call.id, channel=call.channel)
        db.session.commit()
        return redirect(url_for(".call", call_id=call.id))
    return render_template("staff/calls/new.html", form=form, earlier=earlier), 400 if form.errors else 200


@bp.get("/<int:call_id>")
@for_caller
def call():
    current = journey_views.call()
    made = db.session.scalars(
        select(Submission)
        .join(Draft, Draft.submission_id == Submission.id)
        .where(Draft.call_id == current.id)
        .order_by(Submission.created_at)
    ).all()
    drafts = db.session.scalars(
        select(Draft).where(Draft.call_id == current.id, Draft.submission_id.is_(None)).order_by(Draft.created_at)
    ).all()
    in_progress = {draft.service_slug: draft for draft in drafts if draft.expires_at > utcnow()}
    return render_template(
        "staff/calls/call.html",
        call=current,
        topics=journey_views.catalogue().by_topic(),
        titles={service.slug: service.title for service in journey_views.catalogue()},
        made=made,
        in_progress=in_progress,
    )


@bp.post("/<int:call_id>/end")
@for_caller
def end_call():
    current = journey_views.call()
    if not FlaskForm().validate_on_submit():
        abort(400)
    if current.ended_at is None:
        current.ended_at = utcnow()
        audit.record("call.end", actor=current_user, call=current.id)
        db.session.commit()
    flash("Call ended.")
    return redirect(url_for(".calls"))


# The journey's pages, for the caller ------------------------------------------------------------------------


@limiter.limit(lambda: current_app.config["RATELIMIT_SUBMIT"])
def submit(slug: str):
    """Send it for the caller, once the agent has told them how the council uses their information; with a fee,
    on to how they will pay."""
    service = journey_views.service_or_404(slug)
    draft = journey_views.load(service)
    form = SendForCallerForm()
    if not form.validate_on_submit():
        return journey_views.render_check_answers(service, draft, form)
    submission = journeys.submit(draft, service, privacy_told=True)
    if submission.status == Status.AWAITING_PAYMENT:
        return redirect(url_for(".take_payment", slug=slug))
    return redirect(url_for(".confirmation", slug=slug))


journey_views.register(bp, "/<int:call_id>", for_caller, submit=submit)


# How the caller pays --------------------------------------------------------------------------------------


def methods_for(call: Call) -> tuple[PaymentMethod, ...]:
    if call.channel == Channel.FACE_TO_FACE:
        return (PaymentMethod.MOTO, PaymentMethod.LINK, PaymentMethod.CASH, PaymentMethod.CHEQUE)
    return (PaymentMethod.MOTO, PaymentMethod.LINK)


def render_payment_choice(service, submission, form, status=200):
    return render_template(
        "staff/calls/payment.html",
        service=service,
        submission=submission,
        form=form,
        fee=payments.due(submission),
        links=payments.links(submission),
        back_link=url_for(".call"),
    ), status


@bp.route("/<int:call_id>/services/<slug>/payment", methods=["GET", "POST"])
@for_caller
def take_payment(slug: str):
    service, submission = journey_views.submitted(slug)
    if submission.status not in (Status.AWAITING_PAYMENT, Status.CANCELLED):
        return redirect(url_for(".confirmation", slug=slug))
    form = PaymentChoiceForm(methods_for(journey_views.call()))
    if submission.status == Status.CANCELLED:
        return render_payment_choice(service, submission, None)
    if form.validate_on_submit():
        method = PaymentMethod(form.method.data)
        if method == PaymentMethod.MOTO:
            payment = payments.start(
                submission, PaymentMethod.MOTO, taken_by=current_user, return_endpoint="assisted.payment_return"
            )
            return journey_views.to_payment(payment)
        if method == PaymentMethod.LINK:
            return redirect(url_for(".send_payment_link", slug=slug))
        return redirect(url_for(".desk_payment", slug=slug, method=method.value))
    return render_payment_choice(service, submission, form, 400 if form.errors else 200)


@bp.route("/<int:call_id>/services/<slug>/payment/link", methods=["GET", "POST"])
@for_caller
def send_payment_link(slug: str):
    service, submission = journey_views.submitted(slug)
    if submission.status != Status.AWAITING_PAYMENT:
        return redirect(url_for(".take_payment", slug=slug))
    form = PaymentLinkForm()
    if request.method == "GET":
        form.email.data = submission.contact_email
        form.mobile.data = submission.contact_phone if submission.updates_by == UpdatesBy.SMS else None
        form.send_by.data = "sms" if submission.updates_by == UpdatesBy.SMS else None
    if form.validate_on_submit():
        payments.send_link(submission, form.send_by.data, form.to, current_user)
        flash(f"Payment link sent by {payments.LINK_VIA[form.send_by.data]} to {form.to}.")
        return redirect(url_for(".take_payment", slug=slug))
    return render_template(
        "staff/calls/payment-link.html",
        service=service,
        submission=submission,
        form=form,
        fee=payments.due(submission),
        back_link=url_for(".take_payment", slug=slug),
    ), 400 if form.errors else 200


@bp.route("/<int:call_id>/services/<slug>/payment/<any(cash, cheque):method>", methods=["GET", "POST"])
@for_caller
def desk_payment(slug: str, method: str):
    if journey_views.call().channel != Channel.FACE_TO_FACE:
        abort(404)
    service, submission = journey_views.submitted(slug)
    if submission.status != Status.AWAITING_PAYMENT:
        return redirect(url_for(".take_payment", slug=slug))
    form = DeskPaymentForm()
    fee = payments.due(submission)
    pounds = format_pence(fee.amount if fee else 0)
    taken = f"{pounds} in cash" if method == "cash" else f"a cheque for {pounds}"
    form.taken.label.text = f"I have taken {taken}"
    if form.validate_on_submit():
        try:
            payments.record_at_desk(submission, PaymentMethod(method), form.receipt.data, current_user)
        except payments.ReceiptUsed:
            form.receipt.errors = ["That receipt number is already recorded against another payment"]
        except NotPayable:
            return redirect(url_for(".confirmation", slug=slug))
        else:
            return redirect(url_for(".confirmation", slug=slug))
    return render_template(
        "staff/calls/desk-payment.html",
        service=service,
        submission=submission,
        form=form,
        method=method,
        fee=fee,
        back_link=url_for(".take_payment", slug=slug),
    ), 400 if form.errors else 200
