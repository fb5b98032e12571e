"""Countries are chosen by name from the ISO 3166-1 list and checked on the server (item 9)."""

from __future__ import annotations

import re

import pytest

from forum.alerts import services
from forum.countries import countries, country_name, is_country, search_terms


def test_the_country_list_is_iso_3166_by_name():
    names = countries()
    assert len(names) >= 249
    assert names["DE"] == "Germany" and names["ES"] == "Spain" and names["GE"] == "Georgia"
    assert names["GB"] == "United Kingdom" and country_name("KR") == "South Korea"
    assert not is_country("XX") and not is_country("SP") and not is_country("GE ")
    assert "Great Britain" in search_terms("GB") or "Britain" in search_terms("GB")


def _raise(browser, **fields):
    data = {
        "kind": "attack",
        "severity": "high",
        "title": "Stabbing at the station",
        "city": "Madrid",
        "country": "ES",
        "occurred_at": "2026-11-28T15:00",
        "needs": "Interpreters",
    }
    data.update(fields)
    return browser.post("/alerts/new", data)


@pytest.mark.parametrize(
    ("field", "value"),
    [("country", "SP"), ("country", "Spian"), ("nationalities", "XX"), ("countries", "ZZ")],
)
def test_a_code_that_is_no_country_is_refused_at_its_field_with_the_text_kept(
    members, make_browser, field, value
):
    browser = make_browser(members.make())
    response = _raise(browser, **{field: value})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Stabbing at the station" in text
    assert "Choose the country from the list" in text or "from the list" in text
    assert services.AlertError  # the service refuses it too (below)


def test_the_service_refuses_unknown_countries(members, raise_):
    raiser = members.make()
    for fields in ({"country": "SP"}, {"nationalities": ["XX"]}, {"countries": ["ZZ"]}):
        with pytest.raises(services.AlertError):
            raise_(raiser, commit=False, **fields)


def test_the_raise_form_offers_countries_by_name_for_every_country_field(members, make_browser):
    text = make_browser(members.make()).get("/alerts/new").get_data(as_text=True)
    assert re.search(r"<option [^>]*value=\"ES\">Spain</option>", text)
    assert text.count("data-picker") >= 3  # country, nationalities, audience countries
    assert "<select" in text and 'name="nationalities"' in text and "multiple" in text


def test_several_countries_are_posted_as_several_choices(members, make_browser):
    browser = make_browser(members.make())
    response = browser.post(
        "/alerts/new",
        {
            "kind": "attack",
            "severity": "high",
            "title": "Shooting",
            "country": "FR",
            "occurred_at": "2026-11-28T15:00",
            "needs": "Interpreters",
            "nationalities": ["DE", "IT"],
        },
    )
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Germany" in page and "Italy" in page and "France" in page


def test_a_profile_or_organisation_with_no_real_country_is_refused_in_plain_words(
    members, make_browser
):
    member = members.make(name="Petra Profile")
    response = make_browser(member).post(
        "/profile",
        {
            "name": "Petra Typed",
            "country": "SP",
            "timezone": "Europe/Madrid",
            "contact_points": "XX",
        },
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Petra Typed" in text
    assert "Choose the country from the list (not a country: SP)" in text
    assert "Choose the country from the list (not a country: XX)" in text
    coordinator = members.coordinator()
    response = make_browser(coordinator).post(
        "/admin/organisations", {"name": "Typed Org", "country": "GE ", "sector": "ngo"}
    )
    assert response.status_code == 303 or response.status_code == 302  # "GE " is Georgia
    response = make_browser(coordinator).post(
        "/admin/organisations", {"name": "Typed Org 2", "country": "XX", "sector": "ngo"}
    )
    assert response.status_code == 422
    assert "Choose the country from the list" in response.get_data(as_text=True)
