"""Agents complete every service for a caller: the same pages in the staff layout, drafts kept per call, the channel
and the agent recorded, the privacy notice confirmed, and the caller's payment taken by card over the phone, by a
payment link, or in cash or by cheque at a desk, each ending paid exactly once."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from tests.assisted_helpers import pay_by_card_now, send, start_call, walk
from tests.conftest import Resident
from tests.factories import create_staff, create_subscription
from tests.payment_helpers import GOOD_CARD, load_charges
from tests.staff_helpers import sign_in
from webapp import payments
from webapp.extensions import db
from webapp.models import Draft, Notification, Payment, PaymentLink, Status, Submission, utcnow


@pytest.fixture
def agent(app, app_ctx):
    """Alex, a contact-centre agent, signed in."""
    person = Resident(app.test_client())
    person.user = create_staff("agent", (), name="Alex Agent", email="alex@example.gov.uk")
    sign_in(person, person.user)
    load_charges()
    return person


def submission_of(slug: str) -> Submission:
    """The latest submission to the service (the caller's, not one a factory made earlier)."""
    return db.session.scalar(
        select(Submission).where(Submission.service_slug == slug).order_by(Submission.id.desc()).limit(1)
    )


def test_an_agent_completes_every_service_for_a_caller(app, agent):
    create_subscription()  # the caller's garden waste subscription, due for renewal
    for service in app.extensions["catalogue"]:
        call_id = start_call(agent, "phone")
        walk(agent, call_id, service.slug)
        page = agent.get(f"/staff/calls/{call_id}/services/{service.slug}/check-answers")
        assert "You are completing this for a caller" in page.text
        assert page.soup.select_one("input[name=privacy_told]") is not None
        response = send(agent, call_id, service.slug)
        submission = submission_of(service.slug)
        assert submission.channel == "phone" and submission.agent_id == agent.user.id
        assert submission.privacy_notice_at is not None
        if service.fee is not None:
            assert submission.status == Status.AWAITING_PAYMENT
            assert response.location.endswith(f"/services/{service.slug}/payment")
            done = pay_by_card_now(agent, call_id, service.slug)
        else:
            done = agent.get(response.location)
        db.session.refresh(submission)
        assert submission.status == Status.RECEIVED and submission.queue is not None
        assert "Tell the caller" in done.text and submission.reference in done.text
        submitted = [event for event in submission.events if event.kind == "submitted"]
        assert submitted[0].actor_kind == "agent" and submitted[0].actor_id == agent.user.id


def test_the_caller_chooses_how_to_hear_from_us(agent):
    call_id = start_call(agent)
    walk(agent, call_id, "report-a-road-problem")
    send(agent, call_id, "report-a-road-problem")
    report = submission_of("report-a-road-problem")
    assert (report.updates_by, report.contact_phone, report.contact_email) == ("sms", "07700 900 982", None)
    assert report.contact_name == "Pat Caller"

    call_id = start_call(agent)
    walk(agent, call_id, "pay-a-parking-fine")
    send(agent, call_id, "pay-a-parking-fine")
    fine = submission_of("pay-a-parking-fine")
    assert fine.updates_by == "letter" and fine.contact_address == "1 Market Street\nLeeds\nLS1 6HD"


def test_updates_page_asks_only_for_the_chosen_methods_details(agent):
    call_id = start_call(agent)
    base = f"/staff/calls/{call_id}/services/report-a-road-problem"
    walk(agent, call_id, "report-a-road-problem", {"how-to-update": {"updates_by": "phone", "phone": "0113 222 4444"}})
    page = agent.post(f"{base}/how-to-update", {"updates_by": "sms", "email": "not an email"}, expected=400)
    assert page.errors() == ["Enter their mobile phone number"]
    page = agent.post(f"{base}/how-to-update", {"updates_by": "sms", "mobile": "01632 960 001"}, expected=400)
    assert page.errors() == ["Enter a UK mobile phone number, like 07700 900 982"]
    page = agent.post(f"{base}/how-to-update", {}, expected=400)
    assert page.errors() == ["Select how they want to get updates"]
    agent.post(f"{base}/how-to-update", {"updates_by": "email", "email": "pat@example.com", "mobile": "nonsense"})
    send(agent, call_id, "report-a-road-problem")
    report = submission_of("report-a-road-problem")
    assert (report.updates_by, report.contact_email, report.contact_phone) == ("email", "pat@example.com", None)


def test_nothing_is_sent_until_the_agent_confirms_the_privacy_notice(agent):
    call_id = start_call(agent)
    walk(agent, call_id, "report-a-road-problem")
    page = send(agent, call_id, "report-a-road-problem", privacy_told=False, expected=400)
    assert page.errors() == ["Confirm you have told the caller how the council uses their information"]
    assert db.session.scalar(select(Submission)) is None


def test_drafts_are_kept_per_call(agent):
    first, second = start_call(agent), start_call(agent, "face-to-face")
    walk(agent, first, "report-a-road-problem", {"describe-it": {"description": "First caller's light"}})
    walk(agent, second, "report-a-road-problem", {"where-is-it": {"street": "Boar Lane", "area": "City Centre"}})
    agent.post(
        f"/staff/calls/{second}/services/report-a-road-problem/describe-it?change=1",
        {"description": "Second caller's light"},
    )
    send(agent, first, "report-a-road-problem")
    send(agent, second, "report-a-road-problem")
    reports = db.session.scalars(select(Submission).order_by(Submission.id)).all()
    assert [(r.channel, r.answers["describe-it"]["description"]) for r in reports] == [
        ("phone", "First caller's light"),
        ("face-to-face", "Second caller's light"),
    ]
    drafts = db.session.scalars(select(Draft)).all()
    assert {draft.call_id for draft in drafts} == {first, second}
    assert all(draft.agent_id == agent.user.id for draft in drafts)


def test_only_the_calls_own_agent_can_work_in_it(app, agent):
    call_id = start_call(agent)
    other = Resident(app.test_client())
    sign_in(other, create_staff("agent", (), name="Other Agent"))
    other.get(f"/staff/calls/{call_id}", expected=404)
    other.get(f"/staff/calls/{call_id}/services/report-a-road-problem/start", expected=404)
    caseworker = Resident(app.test_client())
    sign_in(caseworker, create_staff("caseworker", ("highways",)))
    caseworker.get(f"/staff/calls/{call_id}", expected=403)
    stranger = Resident(app.test_client())
    assert stranger.get(
        f"/staff/calls/{call_id}/services/report-a-road-problem/start", expected=302
    ).location.startswith("/staff?next=")


def test_a_call_started_from_an_earlier_contact_fills_in_the_callers_details(agent):
    call_id = start_call(agent)
    walk(
        agent, call_id, "report-a-road-problem", {"how-to-update": {"updates_by": "email", "email": "pat@example.com"}}
    )
    send(agent, call_id, "report-a-road-problem")
    earlier = submission_of("report-a-road-problem")
    again = start_call(agent, caller=earlier.reference)
    page = agent.get(walk(agent, again, "report-a-road-problem", stop_before="your-name"))
    assert page.soup.select_one("input[name=name]")["value"] == "Pat Caller"


def test_agent_payment_by_link_is_routed_once_paid(app, agent):
    call_id = start_call(agent)
    walk(agent, call_id, "pay-a-parking-fine")
    send(agent, call_id, "pay-a-parking-fine")
    base = f"/staff/calls/{call_id}/services/pay-a-parking-fine"
    agent.post(f"{base}/payment", {"method": "link"})
    page = agent.post(f"{base}/payment/link", {"send_by": "sms", "mobile": "07700 900 123"}, expected=None)
    assert page.status == 302
    fine = submission_of("pay-a-parking-fine")
    assert fine.status == Status.AWAITING_PAYMENT and fine.queue is None
    message = db.session.scalar(select(Notification).where(Notification.template == "payment-link"))
    assert message.to == "07700 900 123" and message.channel == "sms"
    link = message.body.split("http://localhost")[1].split()[0]
    assert "To 07700 900 123 on" in agent.get(base + "/payment").text

    caller = Resident(app.test_client())
    caller.get(link)
    page = caller.post(link)
    assert page.location.startswith("/sandbox-payments/")
    back = caller.post(
        page.location, {"card_number": GOOD_CARD, "expiry": "10/39", "name": "P", "security_code": "123"}
    )
    db.session.refresh(fine)
    assert fine.status == Status.RECEIVED and fine.queue is not None
    paid = db.session.scalar(select(Payment).where(Payment.status == "succeeded"))
    assert (paid.method, paid.channel) == ("link", "online")
    assert caller.get(link).h1 == "This has been paid"
    assert back.location


def test_a_payment_link_expires_and_can_be_sent_again(app, agent):
    call_id = start_call(agent)
    walk(agent, call_id, "pay-a-parking-fine")
    send(agent, call_id, "pay-a-parking-fine")
    fine = submission_of("pay-a-parking-fine")
    first = payments.send_link(fine, "email", "pat@example.com", agent.user)
    path = first.split("http://localhost")[1]
    link = db.session.scalar(select(PaymentLink))
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert Resident(app.test_client()).get(path, expected=410).h1 == "This payment link has expired"
    second = payments.send_link(fine, "email", "pat@example.com", agent.user)
    assert Resident(app.test_client()).get(second.split("http://localhost")[1]).h1 == "Make a payment"
    # The submission waits while a link works, even past the payment window.
    fine.created_at = utcnow() - timedelta(hours=5)
    db.session.commit()
    payments.settle_overdue()
    assert db.session.get(Submission, fine.id).status == Status.AWAITING_PAYMENT


def test_cash_at_a_desk_with_a_receipt_number(agent):
    call_id = start_call(agent, "face-to-face")
    walk(agent, call_id, "pay-a-parking-fine")
    send(agent, call_id, "pay-a-parking-fine")
    base = f"/staff/calls/{call_id}/services/pay-a-parking-fine"
    agent.post(f"{base}/payment", {"method": "cash"})
    page = agent.post(f"{base}/payment/cash", {"receipt": "csc 1"}, expected=400)
    assert page.errors() == [
        "Receipt number must be 4 to 30 letters, numbers or hyphens, like CSC-004512",
        "Confirm you have taken the payment",
    ]
    agent.post(f"{base}/payment/cash", {"receipt": "csc-004512", "taken": "y"})
    fine = submission_of("pay-a-parking-fine")
    assert fine.status == Status.RECEIVED
    paid = db.session.scalar(select(Payment))
    assert (paid.method, paid.provider, paid.provider_id, paid.taken_by_id) == (
        "cash",
        "desk",
        "cash-CSC-004512",
        agent.user.id,
    )
    assert "in cash, receipt CSC-004512, taken by Alex Agent" in fine.events[-2].body + fine.events[-1].body
    assert db.session.get(type(fine.events[0]), fine.events[0].id) is not None

    # The same receipt cannot pay for a second thing; a phone call has no desk.
    again = start_call(agent, "face-to-face")
    walk(agent, again, "pay-an-invoice")
    send(agent, again, "pay-an-invoice")
    base = f"/staff/calls/{again}/services/pay-an-invoice"
    page = agent.post(f"{base}/payment/cash", {"receipt": "CSC-004512", "taken": "y"}, expected=400)
    assert page.errors() == ["That receipt number is already recorded against another payment"]
    phone = start_call(agent)
    agent.get(f"/staff/calls/{phone}/services/pay-an-invoice/payment/cash", expected=404)


def test_no_card_number_reaches_the_logs_or_the_database_on_the_moto_path(app, agent, caplog):
    caplog.set_level(logging.DEBUG)
    call_id = start_call(agent)
    walk(agent, call_id, "pay-a-parking-fine")
    send(agent, call_id, "pay-a-parking-fine")
    pay_by_card_now(agent, call_id, "pay-a-parking-fine")
    paid = db.session.scalar(select(Payment))
    assert (paid.status, paid.method, paid.channel, paid.taken_by_id) == ("succeeded", "moto", "phone", agent.user.id)
    assert paid.card_last4 == GOOD_CARD[-4:]
    assert GOOD_CARD not in caplog.text
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')):
            assert GOOD_CARD not in " ".join(str(value) for value in row), table.name


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_ENABLED": True, "RATELIMIT_SUBMIT": "2 per minute"}])
def test_rate_limits_count_per_agent_not_per_address(app, agent):
    other = Resident(app.test_client())
    other.user = create_staff("agent", (), name="Other Agent")
    sign_in(other, other.user)
    for person in (agent, agent, other, other):
        call_id = start_call(person)
        walk(person, call_id, "report-a-road-problem")
        send(person, call_id, "report-a-road-problem")
    call_id = start_call(agent)
    walk(agent, call_id, "report-a-road-problem")
    assert send(agent, call_id, "report-a-road-problem", expected=429).status == 429


def test_an_idle_agent_is_signed_out_of_a_call_too(agent):
    call_id = start_call(agent)
    with agent.client.session_transaction() as session:
        session["staff_last_seen"] = (utcnow() - timedelta(minutes=31)).isoformat()
    page = agent.get(f"/staff/calls/{call_id}/services/report-a-road-problem/start", expected=302)
    assert page.location.startswith("/staff?next=")


def test_the_case_page_shows_how_the_caller_wants_updates(app, agent):
    call_id = start_call(agent)
    walk(agent, call_id, "report-a-road-problem")
    send(agent, call_id, "report-a-road-problem")
    report = submission_of("report-a-road-problem")
    lighting = Resident(app.test_client())
    sign_in(lighting, create_staff("caseworker", (report.queue.slug,)))
    page = lighting.get(f"/staff/cases/{report.reference}")
    assert "Phone, by Alex Agent" in page.text
    assert "Text message 07700 900 982" in page.text
    assert "Told to the caller on" in page.text
