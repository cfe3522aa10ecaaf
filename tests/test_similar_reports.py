"""Before the details page, open reports like this one are shown: "Is this the problem you are reporting?"."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from tests.factories import create_submission
from tests.journey_helpers import BASE, DEFAULTS, url, walk
from webapp import lifecycle, submissions, uploads
from webapp.extensions import db
from webapp.geo import area_key, street_key
from webapp.models import Attachment, CaseEvent, Draft, Follower, Notification, Submission, utcnow
from webapp.templating import govuk_date

AT_BRIGGATE = {**DEFAULTS["where-is-it"], "latitude": "53.7975", "longitude": "-1.5420"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def walk_to_similar(resident, where=None, category="pothole"):
    answers = {"where-is-it": where or AT_BRIGGATE, "what-is-the-problem": {"category": category}}
    return walk(resident, answers, stop_before="similar-reports")


def test_a_report_within_50_metres_is_offered(resident, app_ctx):
    nearby = create_submission(latitude=53.7977, longitude=-1.5421)  # about 23 metres away
    location = walk_to_similar(resident)
    assert location.endswith("/similar-reports")
    page = resident.get(location)
    assert page.h1 == "Is this the problem you are reporting?"
    assert nearby.reference in page.text
    assert "About 20 metres away" in page.text


def test_reports_further_than_50_metres_older_closed_or_of_another_kind_are_not_offered(resident, app_ctx):
    create_submission(latitude=53.7985, longitude=-1.5420)  # about 110 metres away
    create_submission(latitude=53.7975, longitude=-1.5420, created_at=utcnow() - timedelta(days=31))
    create_submission(latitude=53.7975, longitude=-1.5420, status="resolved")
    create_submission(latitude=53.7975, longitude=-1.5420, category="street-light")
    assert walk(resident, {"where-is-it": AT_BRIGGATE}).endswith("/check-answers")


def test_without_a_map_position_the_same_street_is_offered(resident, app_ctx):
    same_street = create_submission(street="BRIGGATE ", latitude=53.79, longitude=-1.54)
    create_submission(street="Boar Lane")
    location = walk_to_similar(resident, where=DEFAULTS["where-is-it"])
    page = resident.get(location)
    assert same_street.reference in page.text
    assert "On the same street" in page.text
    assert "Boar Lane" not in page.text


def test_saying_no_goes_on_to_the_details(resident, app_ctx):
    create_submission(latitude=53.7975, longitude=-1.5420)
    location = walk_to_similar(resident)
    response = resident.post(location, {"duplicate_of": "none"})
    assert response.location.endswith("/get-updates")
    walk_rest = resident.post(response.location, {"contact": "anonymous"})
    assert walk_rest.location.endswith("/check-answers")


def test_saying_yes_follows_the_original_and_makes_no_new_report(resident, app_ctx):
    original = create_submission(latitude=53.7975, longitude=-1.5420)
    location = walk_to_similar(resident)
    response = resident.post(location, {"duplicate_of": original.reference})
    assert response.location.endswith(f"/already-reported/{original.reference}")
    page = resident.get(response.location)
    assert page.h1 == "This problem has already been reported"
    assert page.title == (
        "This problem has already been reported - Report a pothole or other road problem - Example City Council"
    )
    response = resident.post(response.location, {"email": "neighbour@example.com"})
    done = resident.get(response.location)
    assert original.reference in done.text and "neighbour@example.com" in done.text
    assert done.title == "Thank you for telling us - Report a pothole or other road problem - Example City Council"
    assert "We've added what you told us about the problem to this report" in done.text

    assert count(Submission) == 1
    follower = db.session.scalar(select(Follower))
    assert (follower.submission_id, follower.email) == (original.id, "neighbour@example.com")
    email = db.session.scalar(select(Notification))
    assert email.to == "neighbour@example.com" and original.reference in email.body
    assert email.status == "queued"
    # The draft is gone, and the session no longer names it: going back into the journey starts it again.
    assert resident.get(f"{BASE}/check-answers", expected=302).location.endswith(BASE)


def test_saying_yes_without_an_email_just_ends(resident, app_ctx):
    original = create_submission(latitude=53.7975, longitude=-1.5420)
    location = walk_to_similar(resident)
    response = resident.post(location, {"duplicate_of": original.reference})
    response = resident.post(response.location, {"email": ""})
    assert "We have not made a new report" in resident.get(response.location).text
    assert count(Follower) == 0 and count(Notification) == 0


def test_an_answer_must_be_chosen_from_the_list(resident, app_ctx):
    create_submission(latitude=53.7975, longitude=-1.5420)
    location = walk_to_similar(resident)
    response = resident.post(location, {"duplicate_of": "RP-ZZZZ-ZZZZ"}, expected=400)
    assert response.errors()[0].startswith("Not a valid choice") or response.errors() == [
        "Select the problem you are reporting, or select that it is a different problem"
    ]
    response = resident.post(location, {}, expected=400)
    assert response.errors() == ["Select the problem you are reporting, or select that it is a different problem"]


def test_the_already_reported_page_only_opens_for_the_chosen_report(resident, app_ctx):
    other = create_submission(street="Boar Lane")
    walk_to_similar(resident)
    response = resident.get(f"{BASE}/already-reported/{other.reference}", expected=302)
    assert response.location.endswith("/check-answers")


def test_moving_the_location_asks_again(resident, app_ctx):
    create_submission(latitude=53.7975, longitude=-1.5420)
    location = walk_to_similar(resident)
    resident.post(location, {"duplicate_of": "none"})
    resident.post(url("get-updates"), {"contact": "anonymous"})
    # The same place again: already answered, straight back to check answers.
    assert resident.post(url("where-is-it") + "?change=1", AT_BRIGGATE).location.endswith("/check-answers")
    # Moved a little, still near the open report: asked again.
    moved = {**AT_BRIGGATE, "latitude": "53.79752"}
    assert resident.post(url("where-is-it") + "?change=1", moved).location.endswith("/similar-reports?change=1")
    resident.post(url("similar-reports") + "?change=1", {"duplicate_of": "none"})
    # Moved far away, with nothing nearby: no question, and the old answer is dropped.
    far = {**AT_BRIGGATE, "latitude": "53.80", "longitude": "-1.60"}
    assert resident.post(url("where-is-it") + "?change=1", far).location.endswith("/check-answers")


# How each open report is shown: a summary card, not a table that scrolls sideways on a phone -------------------

LONG_DESCRIPTION = (
    "A very deep pothole right in the middle of the northbound lane, just past the junction with Boar Lane, "
    "where cars swerve round it.\nIt has been there for weeks."
)


def stored_photo(app, size=(64, 48)) -> uploads.StoredPhoto:
    buffer = io.BytesIO()
    Image.new("RGB", size, "grey").save(buffer, "JPEG")
    upload = FileStorage(io.BytesIO(buffer.getvalue()), filename="hole.jpg", content_type="image/jpeg")
    return uploads.store_photo(upload, app.config["UPLOAD_DIR"])


def with_photo(app, submission: Submission) -> Attachment:
    attachment = Attachment.of(stored_photo(app))
    submission.attachments.append(attachment)
    db.session.commit()
    return attachment


def described(**overrides) -> Submission:
    answers = {
        "what-is-the-problem": {"category": "pothole"},
        "where-is-it": {"street": "Briggate", "area": "City Centre", "landmark": "Outside number 24"},
        "describe-it": {"description": LONG_DESCRIPTION},
    }
    return create_submission(answers=answers, **overrides)


def card_rows(card) -> dict[str, str]:
    keys = [key.get_text(" ", strip=True) for key in card.select(".govuk-summary-list__key")]
    values = [value.get_text(" ", strip=True) for value in card.select(".govuk-summary-list__value")]
    return dict(zip(keys, values, strict=True))


def test_each_report_is_a_card_that_says_what_where_when_and_how_it_stands(resident, app, app_ctx):
    nearby = described(latitude=53.7977, longitude=-1.5421, created_at=utcnow() - timedelta(days=2))
    with_photo(app, nearby)
    page = resident.get(walk_to_similar(resident))

    assert page.soup.find("table") is None
    (card,) = page.soup.select(".govuk-summary-card")
    assert card.select_one(".govuk-summary-card__title").get_text(strip=True) == "Pothole on Briggate, City Centre"
    rows = card_rows(card)
    reported = govuk_date(nearby.created_at)
    assert rows["Where"] == "Outside number 24 Briggate, City Centre"
    assert rows["Reported"] == reported
    assert rows["Distance"] == "About 20 metres away"
    assert rows["Status"] == "Received"
    assert rows["Reference"] == nearby.reference
    # The first line of the description, cut at a word, so the card stays short.
    description = rows["Description"]
    assert description.startswith("A very deep pothole right in the middle") and description.endswith("…")
    assert len(description) <= 101 and "It has been there" not in description
    photo = card.select_one(".app-photo img")
    assert (photo["width"], photo["height"]) == ("64", "48")
    assert photo["alt"] == f"Photo sent with report {nearby.reference}"

    # The answer describes the report, and says its reference too.
    yes = page.soup.find("input", attrs={"name": "duplicate_of", "value": nearby.reference})
    label = page.soup.find("label", attrs={"for": yes["id"]}).get_text(" ", strip=True)
    assert label == f"Yes, it is the pothole on Briggate, City Centre, reported on {reported}"
    hint = page.soup.find(id=yes["aria-describedby"]).get_text(" ", strip=True)
    assert hint == f"Reference {nearby.reference}"
    no = page.soup.find("input", attrs={"name": "duplicate_of", "value": "none"})
    assert page.soup.find("label", attrs={"for": no["id"]}).get_text(strip=True) == "No, it is a different problem"
    assert page.title == (
        "Is this the problem you are reporting? - Report a pothole or other road problem - Example City Council"
    )


def test_a_report_without_a_description_or_photo_still_gets_a_card(resident, app_ctx):
    create_submission(latitude=53.7975, longitude=-1.5420)
    page = resident.get(walk_to_similar(resident))
    (card,) = page.soup.select(".govuk-summary-card")
    rows = card_rows(card)
    assert rows["Description"] == "Not given"
    assert rows["Distance"] == "Less than 10 metres away"
    assert "Photo" not in rows


def test_the_photo_of_a_report_offered_is_served_to_that_resident(resident, app, app_ctx):
    nearby = described(latitude=53.7977, longitude=-1.5421)
    attachment = with_photo(app, nearby)
    page = resident.get(walk_to_similar(resident))
    src = page.soup.select_one(".app-photo img")["src"]
    assert src == f"{BASE}/similar-reports/photos/{attachment.stored_id}"
    response = resident.client.get(src)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.size == (64, 48)
    response.close()


def status(resident, path: str) -> int:
    response = resident.client.get(path)
    response.close()
    return response.status_code


def test_no_other_photo_is_served(resident, app, app_ctx):
    nearby = described(latitude=53.7977, longitude=-1.5421)
    offered = with_photo(app, nearby)
    far_away = with_photo(app, described(latitude=53.80, longitude=-1.60))  # not offered: 3 km away
    # A photo the resident sent later, with more information: it is not the report's own.
    (added_later,) = lifecycle.resident_information(nearby, "Bigger now", stored_photo(app)).attachments
    db.session.commit()
    photos = f"{BASE}/similar-reports/photos"

    # Someone who has not started a report sees no photo at all.
    assert status(resident, f"{photos}/{offered.stored_id}") == 302
    resident.get(walk_to_similar(resident))
    assert status(resident, f"{photos}/{offered.stored_id}") == 200
    assert status(resident, f"{photos}/{far_away.stored_id}") == 404
    assert status(resident, f"{photos}/{added_later.stored_id}") == 404
    assert status(resident, f"{photos}/{'0' * 32}") == 404
    # Only the "already reported?" page serves photos.
    assert status(resident, f"{BASE}/describe-it/photos/{offered.stored_id}") == 404
    # Moved away, the report is no longer offered, and neither is its photo.
    resident.post(url("where-is-it") + "?change=1", {**AT_BRIGGATE, "latitude": "53.80", "longitude": "-1.62"})
    assert status(resident, f"{photos}/{offered.stored_id}") == 404


# The same street: in the same area; and reports typed without a map position ---------------------------------


def test_the_same_street_in_another_area_is_another_place(resident, app_ctx):
    headingley = create_submission(street="Park Lane", area="Headingley")
    spaced = create_submission(street="park lane", area="  HEADINGLEY ")
    no_area = create_submission(street="Park Lane", area=None)
    elsewhere = create_submission(street="Park Lane", area="Little Woodhouse")
    where = {**DEFAULTS["where-is-it"], "street": "Park Lane", "area": "Headingley"}
    page = resident.get(walk_to_similar(resident, where=where))
    for offered in (headingley, spaced, no_area):
        assert offered.reference in page.text
    assert elsewhere.reference not in page.text
    assert "Little Woodhouse" not in page.text


def test_with_a_map_position_reports_on_the_same_street_without_one_come_after_the_nearby_ones(resident, app_ctx):
    typed = create_submission(created_at=utcnow() - timedelta(hours=1))  # Briggate, City Centre, no map position
    nearby = create_submission(latitude=53.7977, longitude=-1.5421)
    far_on_the_same_street = create_submission(latitude=53.7990, longitude=-1.5420)  # about 170 metres away
    other_area = create_submission(area="Headingley")
    page = resident.get(walk_to_similar(resident))
    cards = page.soup.select(".govuk-summary-card")
    assert [card_rows(card)["Reference"] for card in cards] == [nearby.reference, typed.reference]
    assert [card_rows(card)["Distance"] for card in cards] == ["About 20 metres away", "On the same street"]
    assert far_on_the_same_street.reference not in page.text and other_area.reference not in page.text


def potholes_typed_on(street: str, area: str) -> list:
    """The open potholes find_similar_open gives for a street and area typed without a map position, which must be
    the ones similar_open picks (what the journey asks on most pages, to know whether to show them)."""
    where = {
        "service_slug": "report-a-road-problem",
        "category": "pothole",
        "street_key": street_key(street),
        "area": area,
        "latitude": None,
        "longitude": None,
    }
    found = submissions.find_similar_open(**where)
    assert [(similar.id, similar.distance) for similar in found] == submissions.similar_open(**where)
    return found


def test_find_similar_open_compares_the_area_loosely(app_ctx):
    create_submission(street="Park Lane", area="Little  Woodhouse")
    found = potholes_typed_on("Park Ln", "little woodhouse")
    assert len(found) == 1 and found[0].distance is None
    assert area_key(" Little  WOODHOUSE ") == "little woodhouse" and area_key("  ") is None


def test_a_busy_street_gives_the_newest_in_the_same_area_however_many_are_elsewhere(app_ctx):
    """A snow day: dozens of open reports on one street in another area, newer than the two in this one."""
    older, newest = (
        create_submission(street="Park Lane", area="Little Woodhouse", created_at=utcnow() - timedelta(hours=hours))
        for hours in (30, 29)
    )
    for minutes in range(submissions.SIMILAR_BATCH * 2 + 3):
        create_submission(street="Park Lane", area="Headingley", created_at=utcnow() - timedelta(minutes=minutes))
    found = potholes_typed_on("Park Lane", "Little Woodhouse")
    assert [similar.reference for similar in found] == [newest.reference, older.reference]
    in_headingley = potholes_typed_on("Park Lane", "Headingley")
    assert len(in_headingley) == submissions.SIMILAR_LIMIT
    assert all(similar.area == "Headingley" for similar in in_headingley)


# Saying it is that report: what the resident told us goes to it -----------------------------------------------


def test_the_already_reported_page_shows_the_report_as_a_card(resident, app, app_ctx):
    original = described(latitude=53.7977, longitude=-1.5421)
    attachment = with_photo(app, original)
    response = resident.post(walk_to_similar(resident), {"duplicate_of": original.reference})
    page = resident.get(response.location)
    (card,) = page.soup.select(".govuk-summary-card")
    rows = card_rows(card)
    assert rows["Reference"] == original.reference and rows["Distance"] == "About 20 metres away"
    assert rows["Description"].startswith("A very deep pothole")
    assert card.select_one(".app-photo img")["src"].endswith(f"/photos/{attachment.stored_id}")
    assert "what you told us about the problem to this report so that the team dealing with it can see it" in page.text


def test_a_follower_s_description_and_photo_are_added_to_the_original(resident, app, app_ctx):
    original = create_submission(latitude=53.7975, longitude=-1.5420)
    photo = io.BytesIO()
    Image.new("RGB", (40, 30), "grey").save(photo, "JPEG")
    answers = {
        "where-is-it": AT_BRIGGATE,
        "describe-it": {"description": "It is getting bigger every day."},
        "photo": {"photo": (io.BytesIO(photo.getvalue()), "mine.jpg")},
    }
    response = resident.post(
        walk(resident, answers, stop_before="similar-reports"), {"duplicate_of": original.reference}
    )
    resident.post(response.location, {"email": "Neighbour@example.com"})

    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "follower_information"))
    assert event.submission_id == original.id
    assert event.body == "It is getting bigger every day."
    assert event.data.get("email") == "Neighbour@example.com"
    assert not event.public
    (attachment,) = event.attachments
    assert (attachment.submission_id, attachment.filename, attachment.width) == (original.id, "mine.jpg", 40)
    assert (Path(app.config["UPLOAD_DIR"]) / f"{attachment.stored_id}.jpg").exists()
    assert count(Submission) == 1 and count(Draft) == 0


def test_a_follower_without_a_photo_or_email_still_passes_on_their_description(resident, app, app_ctx):
    original = create_submission(latitude=53.7975, longitude=-1.5420)
    response = resident.post(walk_to_similar(resident), {"duplicate_of": original.reference})
    resident.post(response.location, {"email": ""})
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "follower_information"))
    assert event.body == DEFAULTS["describe-it"]["description"]
    assert event.data.get("email") is None and event.attachments == []
    assert count(Attachment) == 0


def test_a_report_no_longer_open_is_not_shown_as_already_reported(resident, app_ctx):
    original = create_submission(latitude=53.7975, longitude=-1.5420)
    response = resident.post(walk_to_similar(resident), {"duplicate_of": original.reference})
    original.status = "resolved"
    db.session.commit()
    assert resident.get(response.location, expected=302).location.endswith("/check-answers")
