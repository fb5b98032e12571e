"""Which language a page speaks: the member's profile choice, else the switcher's cookie, else
the browser's Accept-Language, else English; and the switcher itself, which a hostile page
could try to turn into an open redirect or a way to write someone's profile."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from forum.countries import country_name, select_choices
from forum.extensions import db
from forum.i18n import LANGUAGES, speaking
from forum.templating import localtime, number


def _lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "every page names its language"
    return match.group(1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pl,en;q=0.5", "pl"),
        ("de-AT,de;q=0.9", "de"),
        ("fr-CA", "fr"),
        ("es-419,es;q=0.8", "es"),
        ("nl-BE", "nl"),
        ("it", "it"),
        ("ja,ko;q=0.9", "en"),
        ("", "en"),
        ("*", "en"),
        ("pl;q=0.2,it;q=0.9", "it"),
    ],
)
def test_the_sign_in_page_speaks_the_browsers_language(browser, header, expected):
    headers = {"Accept-Language": header} if header else {}
    response = browser.get("/sign-in", headers=headers)
    assert response.status_code == 200
    assert _lang(response) == expected


def test_every_page_offers_the_switcher_with_each_language_named_in_itself(browser):
    page = browser.get("/sign-in").get_data(as_text=True)
    switcher = page[page.index('action="/language"') :]
    switcher = switcher[: switcher.index("</form>")]
    for code, name in LANGUAGES.items():
        assert f'<option value="{code}" lang="{code}"' in switcher and name in switcher


def test_the_switcher_remembers_a_signed_out_choice_over_the_browsers_language(browser):
    response = browser.post("/language", {"language": "fr", "next": "/sign-in"})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert "exchange_lang=fr" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert _lang(browser.get("/sign-in", headers={"Accept-Language": "de"})) == "fr"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/sign-in",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
        "/\r\nSet-Cookie: x=1",
        "/threads\tx",
    ],
)
def test_the_switcher_goes_back_only_to_a_page_of_this_site(browser, target):
    response = browser.post("/language", {"language": "de", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_an_unknown_language_changes_nothing(browser):
    response = browser.post("/language", {"language": "xx", "next": "/sign-in"})
    assert response.status_code == 303 and "Set-Cookie" not in response.headers
    forged = browser.get("/sign-in", headers={"Cookie": "exchange_lang=xx"})
    assert _lang(forged) == "en"


def test_the_switcher_needs_the_pages_csrf_token(browser):
    response = browser.post("/language", {"language": "pl", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers or "exchange_lang" not in str(
        response.headers.get_all("Set-Cookie")
    )


def test_a_signed_in_choice_is_the_members_on_every_device(members, make_browser):
    member = members.make()
    here = make_browser(member)
    assert here.post("/language", {"language": "pl", "next": "/"}).status_code == 303
    db.session.refresh(member)
    assert member.locale == "pl"
    # Another device of the same member, whose browser asks for German, gets Polish.
    elsewhere = make_browser(member)
    assert _lang(elsewhere.get("/", headers={"Accept-Language": "de"})) == "pl"


def test_the_profile_choice_beats_the_cookie_and_the_browser(members, make_browser):
    member = members.make()
    member.locale = "nl"
    db.session.commit()
    browser = make_browser(member)
    page = browser.get("/", headers={"Accept-Language": "fr", "Cookie": "exchange_lang=it"})
    assert _lang(page) == "nl"


def test_a_member_without_a_choice_follows_the_browser(members, make_browser):
    member = members.make()
    assert _lang(make_browser(member).get("/", headers={"Accept-Language": "es"})) == "es"


def test_dates_numbers_and_countries_follow_the_readers_language(app):
    moment = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    with app.test_request_context("/"):
        english = localtime(moment, "Europe/Warsaw")
        assert english == "Thu 03 Dec 2026, 14:00 CET"
        with speaking("pl"):
            polish = localtime(moment, "Europe/Warsaw")
            assert "gru" in polish and "14:00" in polish and polish.endswith("CET")
            assert country_name("DE") == "Niemcy"
            assert number(1000) == "1000" or number(1000).replace("\xa0", " ") == "1 000"
            codes = [choice.value for choice in select_choices()]
            assert codes.index("NL") < codes.index("DE")  # Holandia before Niemcy
            niemcy = next(c for c in select_choices() if c.value == "DE")
            assert "Germany" in niemcy.render_kw["data-terms"]  # the English name still finds it
        with speaking("de"):
            assert "Dez." in localtime(moment, "Europe/Berlin")
            assert country_name("DE") == "Deutschland"
            assert number(1234567) == "1.234.567"
        with speaking("fr"):
            assert localtime(moment, "Europe/Paris", "%d %b %Y").startswith("3 déc. 2026")
        assert country_name("DE") == "Germany"
        # A machine format stays a machine format in every language.
        with speaking("pl"):
            assert localtime(moment, "Europe/Warsaw", "%Y%m%d").startswith("20261203")
