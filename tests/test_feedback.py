"""Residents' feedback on the services: the GOV.UK satisfaction page, the links to it, and what admins see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import create_staff
from tests.journey_helpers import BASE, submit, walk
from tests.staff_helpers import sign_in
from webapp import feedback
from webapp.extensions import db
from webapp.models import Feedback, utcnow

SLUG = "report-a-road-problem"


def test_the_feedback_page_asks_the_govuk_satisfaction_question(resident, app_ctx):
    page = resident.get(f"/feedback?service={SLUG}")
    assert page.h1 == "Give feedback on Report a pothole or other road problem"
    legend = page.soup.select_one("fieldset legend").get_text(strip=True)
    assert legend == "Overall, how did you feel about the service you received today?"
    labels = [label.get_text(strip=True) for label in page.soup.select(".govuk-radios__label")]
    assert labels == [
        "Very satisfied",
        "Satisfied",
        "Neither satisfied or dissatisfied",
        "Dissatisfied",
        "Very dissatisfied",
    ]
    assert page.soup.find("label", attrs={"for": "comment"}).get_text(strip=True) == (
        "How could we improve this service? (optional)"
    )
    assert "Do not include personal information" in page.text
    assert page.soup.select_one(".govuk-character-count")["data-maxlength"] == "1200"
    assert page.soup.find("input", attrs={"name": "service"})["value"] == SLUG


def test_feedback_is_kept_with_its_service_then_thanks(resident, app_ctx):
    response = resident.post(
        f"/feedback?service={SLUG}",
        {"rating": "satisfied", "comment": "  Quicker than phoning.  ", "service": SLUG},
    )
    assert response.location == f"/feedback/thank-you?service={SLUG}"
    thanks = resident.get(response.location)
    assert thanks.h1 == "Thank you for your feedback"
    assert thanks.soup.find("a", href=f"/services/{SLUG}") is not None
    (kept,) = db.session.scalars(select(Feedback)).all()
    assert (kept.rating, kept.comment, kept.service_slug) == ("satisfied", "Quicker than phoning.", SLUG)


def test_a_service_that_is_not_in_the_catalogue_is_not_kept(resident, app_ctx):
    page = resident.get("/feedback?service=no-such-service")
    assert page.h1 == "Give feedback on our online services"
    assert page.soup.find("input", attrs={"name": "service"})["value"] == ""
    resident.post("/feedback", {"rating": "very_dissatisfied", "service": "no-such-service"})
    kept = db.session.scalar(select(Feedback))
    assert (kept.service_slug, kept.comment) == (None, "")


def test_feedback_needs_a_rating_and_a_comment_of_1200_characters_or_fewer(resident, app_ctx):
    page = resident.post("/feedback", {"comment": "Fine"}, expected=400)
    assert page.title.startswith("Error: ")
    assert page.errors() == ["Select how you felt about the service you received today"]
    assert page.soup.find("textarea", attrs={"name": "comment"}).get_text() == "Fine"
    page = resident.post("/feedback", {"rating": "satisfied", "comment": "x" * 1201}, expected=400)
    assert page.errors() == ["Your feedback must be 1,200 characters or fewer"]
    page = resident.post("/feedback", {"rating": "excellent"}, expected=400)
    assert page.errors() == ["Not a valid choice."]
    assert db.session.scalar(select(Feedback)) is None
    resident.post("/feedback", {"rating": "satisfied", "comment": "x" * 1200})


def test_the_phase_banner_and_the_confirmation_page_link_to_feedback(resident, app_ctx):
    banner = resident.get("/").soup.select_one(".govuk-phase-banner")
    assert banner.find("a", string="giving your feedback")["href"] == "/feedback"
    assert "0300 123 4567" in banner.get_text()
    start = resident.get(BASE).soup.select_one(".govuk-phase-banner")
    assert start.find("a", string="giving your feedback")["href"] == f"/feedback?service={SLUG}"
    walk(resident)
    submit(resident)
    confirmation = resident.last.soup
    link = confirmation.find("a", string="What did you think of this service?")
    assert link["href"] == f"/feedback?service={SLUG}"
    assert "(takes 30 seconds)" in link.parent.get_text()


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_ENABLED": True, "RATELIMIT_FEEDBACK": "2 per minute"}])
def test_sending_feedback_is_rate_limited(resident, config_overrides):
    from webapp.extensions import limiter

    limiter.reset()
    resident.get("/feedback")
    for _ in range(2):
        resident.post("/feedback", {"rating": "satisfied"})
    assert resident.post("/feedback", {"rating": "satisfied"}, expected=429).h1 == "You have tried too many times"
    resident.get("/feedback")  # reading the page is not limited


# What admins see -------------------------------------------------------------------------------------


@pytest.fixture
def admin(resident, app_ctx):
    sign_in(resident, create_staff("admin", ()))
    return resident


def give(rating: str, comment: str = "", slug: str | None = SLUG, minutes_ago: int = 0) -> Feedback:
    made = feedback.give(rating, comment, slug)
    made.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return made


def rating_rows(page) -> list[list[str]]:
    table = page.soup.find("caption", string="Responses by rating").find_parent("table")
    return [[cell.get_text(strip=True) for cell in row.select("th, td")] for row in table.select("tbody tr")]


def test_admins_see_ratings_and_comments_newest_first(admin):
    give("very_satisfied", "Easy to use.", minutes_ago=30)
    give("satisfied", minutes_ago=20)
    give("satisfied", "The map was slow.", slug="pay-a-parking-fine", minutes_ago=10)
    give("dissatisfied", "Could not find my street.", slug=None)
    page = admin.get("/staff/feedback")
    assert "Feedback" in [a.get_text(strip=True) for a in page.soup.select(".govuk-service-navigation__link")]
    assert "4 responses" in page.text
    assert rating_rows(page) == [
        ["Very satisfied", "1", "25%"],
        ["Satisfied", "2", "50%"],
        ["Neither satisfied or dissatisfied", "0", "0%"],
        ["Dissatisfied", "1", "25%"],
        ["Very dissatisfied", "0", "0%"],
    ]
    cards = page.soup.select(".govuk-summary-card")
    comments = [card.select(".govuk-summary-list__value")[-1].get_text(strip=True) for card in cards]
    assert comments == ["Could not find my street.", "The map was slow.", "Easy to use."]
    services = [card.select(".govuk-summary-list__value")[1].get_text(strip=True) for card in cards]
    assert services == ["Not given", "Pay a parking fine", "Report a pothole or other road problem"]

    one = admin.get(f"/staff/feedback?service={SLUG}")
    assert "2 responses" in one.text
    assert rating_rows(one)[:2] == [["Very satisfied", "1", "50%"], ["Satisfied", "1", "50%"]]
    assert [
        card.select(".govuk-summary-list__value")[-1].get_text(strip=True)
        for card in one.soup.select(".govuk-summary-card")
    ] == ["Easy to use."]
    assert one.soup.select_one("select[name=service] option[selected]")["value"] == SLUG


def test_a_response_is_counted_in_the_singular_and_no_feedback_says_so(admin):
    assert "Nobody has given feedback on all online services yet." in admin.get("/staff/feedback").text
    give("satisfied")
    assert "1 response," in admin.get("/staff/feedback").text


def test_comments_page_by_keyset(admin, monkeypatch):
    monkeypatch.setattr(feedback.comments, "__defaults__", (None, None, None, 2))
    made = [give("satisfied", f"Comment {n}", minutes_ago=10 - n) for n in range(5)]
    newest_first = [f.comment for f in reversed(made)]

    def shown(page) -> list[str]:
        return [
            c.select(".govuk-summary-list__value")[-1].get_text(strip=True)
            for c in page.soup.select(".govuk-summary-card")
        ]

    page = admin.get(f"/staff/feedback?service={SLUG}")
    pages = [shown(page)]
    while (older := page.soup.select_one(".govuk-pagination__next a")) is not None:
        assert f"service={SLUG}" in older["href"]
        page = admin.get(older["href"])
        pages.append(shown(page))
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    newer = page.soup.select_one(".govuk-pagination__prev a")
    assert newer.get_text(strip=True).startswith("Newer comments")
    assert shown(admin.get(newer["href"])) == newest_first[2:4]
