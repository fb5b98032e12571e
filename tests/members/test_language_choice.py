"""The Language choice of the profile and of the join form: saved on the member, and the next
page speaks it (`<html lang>`); "Follow my browser" (an empty choice) gives the browser's."""

from __future__ import annotations

import re

import pyotp

from forum.extensions import db
from forum.members.models import Member
from tests.support.accounts import MemberBrowser, invite, secret_from_page
from tests.support.members import TEST_PASSWORD

PROFILE = {
    "name": "Lena Brandt",
    "country": "DE",
    "timezone": "Europe/Berlin",
    "expertise": "Family liaison",
    "languages": "German, English",
}


def _selected(html: str) -> list[str]:
    """The values of the selected options of the Language select."""
    match = re.search(r'<select[^>]*name="locale"[^>]*>(.*?)</select>', html, re.S)
    assert match, "the form has a Language select"
    options = re.findall(r"<option([^>]*)>", match.group(1))
    return [
        re.search(r'value="([^"]*)"', attrs).group(1)  # type: ignore[union-attr]
        for attrs in options
        if "selected" in attrs
    ]


def _lang(html: str) -> str:
    match = re.search(r'<html[^>]*\blang="([^"]+)"', html)
    assert match
    return match.group(1)


def test_the_profile_offers_the_seven_languages_after_following_the_browser(
    app, members, make_browser
):
    here = make_browser(members.make())
    html = here.get("/profile").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="locale"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'value="([^"]*)"', select) == ["", "en", "fr", "de", "es", "it", "nl", "pl"]
    assert "Follow my browser" in select and "Deutsch" in select and "Polski" in select
    assert _selected(html) == [""]


def test_the_profile_choice_sticks_and_the_next_page_speaks_it(app, members, make_browser):
    member = members.make()
    here = make_browser(member)
    saved = here.post("/profile", {**PROFILE, "locale": "de"})
    assert saved.status_code == 302
    db.session.refresh(member)
    assert member.locale == "de"
    page = here.get("/profile", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert _lang(page) == "de"  # the profile wins over the browser
    assert _selected(page) == ["de"]
    again = here.post("/profile", {**PROFILE, "locale": ""})
    assert again.status_code == 302
    db.session.refresh(member)
    assert member.locale == ""
    page = here.get("/profile", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert _lang(page) == "fr" and _selected(page) == [""]


def test_the_profile_refuses_a_language_it_does_not_offer(app, members, make_browser):
    member = members.make()
    here = make_browser(member)
    refused = here.post("/profile", {**PROFILE, "locale": "xx"})
    assert refused.status_code == 422
    db.session.refresh(member)
    assert member.locale == ""


def test_the_join_form_offers_the_browsers_language(app, browser):
    token = invite("lang.offer@example.org")
    browser.get(f"/invite/{token}")
    page = browser.get("/join", headers={"Accept-Language": "nl, en;q=0.5"})
    assert page.status_code == 200
    assert _selected(page.get_data(as_text=True)) == ["nl"]


def test_a_refused_join_form_keeps_the_language_choice(app, browser):
    token = invite("lang.keep@example.org")
    browser.get(f"/invite/{token}")
    refused = browser.post(
        "/join",
        {
            "email": "lang.keep@example.org",
            "name": "Piotr Nowak",
            "password": "short",
            "confirm": "short",
            "locale": "pl",
        },
    )
    assert refused.status_code == 422
    assert _selected(refused.get_data(as_text=True)) == ["pl"]


def test_the_language_chosen_on_joining_is_saved_on_the_new_member(app):
    email = "lang.saved@example.org"
    token = invite(email)
    browser = MemberBrowser(app.test_client())
    browser.get(f"/invite/{token}")
    details = {
        "email": email,
        "name": "Giulia Rossi",
        "password": TEST_PASSWORD,
        "confirm": TEST_PASSWORD,
        "locale": "it",
    }
    assert browser.post("/join", details).status_code == 302
    secret = secret_from_page(browser.get("/join/two-factor").get_data(as_text=True))
    done = browser.post("/join/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    member = next(m for m in db.session.scalars(db.select(Member)) if m.email == email)
    assert member.locale == "it"
    assert _lang(browser.get("/profile").get_data(as_text=True)) == "it"


def test_a_language_switched_between_the_join_steps_is_the_one_saved(app):
    email = "lang.switched@example.org"
    token = invite(email)
    browser = MemberBrowser(app.test_client())
    browser.get(f"/invite/{token}")
    details = {
        "email": email,
        "name": "Piotr Nowak",
        "password": TEST_PASSWORD,
        "confirm": TEST_PASSWORD,
        "locale": "it",
    }
    assert browser.post("/join", details).status_code == 302
    # On the authenticator step the person switches to Polish with the footer's switcher.
    assert (
        browser.post("/language", {"language": "pl", "next": "/join/two-factor"}).status_code == 303
    )
    secret = secret_from_page(browser.get("/join/two-factor").get_data(as_text=True))
    done = browser.post("/join/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and _lang(done.get_data(as_text=True)) == "pl"
    member = next(m for m in db.session.scalars(db.select(Member)) if m.email == email)
    assert member.locale == "pl"
