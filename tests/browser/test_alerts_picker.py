"""The country and participant picker in Chromium (items 9 and 15): found by name, chosen by
touch on a phone and by keyboard alone, and what it posts is what the server checks."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from forum.alerts.models import Alert
from forum.extensions import db
from forum.members.models import Organisation
from forum.threads import services as thread_services
from tests.browser.test_alerts_live import _sign_in
from tests.support.live import PAGE_TIMEOUT_MS, LiveServer

PHONE = {"width": 390, "height": 844}


def _phone(chromium: Any, live_server: LiveServer, member: Any) -> Any:
    context = chromium.new_context(
        base_url=live_server.url, viewport=PHONE, has_touch=True, is_mobile=True
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    _sign_in(context, live_server, member)
    return context.new_page()


def test_an_alert_is_raised_at_phone_size_choosing_countries_by_name_by_touch_and_keyboard(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    raiser = live_members.make(name="Paula Phone")
    page = _phone(chromium, live_server, raiser)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto("/alerts/new")
        page.get_by_label("Short title").fill("Stabbing at the station")
        country = page.get_by_role("combobox", name="Country")
        country.tap()
        country.fill("de")  # a code typed exactly comes first: Germany, not Denmark
        expect(page.get_by_role("option").first).to_have_text("Germany")
        country.fill("spa")
        expect(country).to_have_attribute("aria-expanded", "true")
        spain = page.get_by_role("option", name="Spain")
        box = spain.bounding_box()
        assert box is not None and box["height"] >= 40  # a finger-sized target
        spain.tap()
        expect(country).to_have_value("Spain")

        # Keyboard only: type, arrows, Enter (which must not submit the form), Backspace.
        nationalities = page.get_by_role("combobox", name="Nationalities known or feared")
        nationalities.focus()
        page.keyboard.type("ital")
        page.keyboard.press("Enter")
        page.keyboard.type("germ")
        page.keyboard.press("Enter")
        page.keyboard.press("Backspace")  # removes the last chip: Germany, Italy -> Germany
        page.keyboard.type("britain")  # found by another name than its ISO one
        expect(page.get_by_role("option", name="United Kingdom")).to_be_visible()
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        chosen = page.get_by_role(
            "list", name="Chosen: Nationalities known or feared among the victims"
        )
        expect(chosen.get_by_role("listitem")).to_have_count(2)
        assert page.url.endswith("/alerts/new")  # Enter chose, it did not submit
        expect(page.get_by_role("button", name="Remove Germany")).to_be_visible()

        page.get_by_label("What is needed").fill("Spanish-speaking psychologists")
        page.get_by_role("button", name="Raise alert now").tap()
        page.wait_for_url(re.compile(r"/alerts/[0-9a-f]{32}$"))
        db.session.rollback()
        alert = db.session.scalars(select(Alert)).one()
        assert alert.country == "ES" and alert.nationality_codes == ["DE", "GB"]
        assert "Germany (DE), United Kingdom (GB)" in page.content()
        assert not problems, problems
    finally:
        page.context.close()


def test_profile_organisation_and_red_thread_pickers_work_by_keyboard(
    page: Any, live_server: LiveServer, live_members: Any
) -> None:
    thread_services.ensure_default_categories()
    db.session.commit()
    coordinator = live_members.coordinator(name="Cora Coordinator")
    live_members.make(name="Nina Named")
    _sign_in(page.context, live_server, coordinator)

    page.goto("/profile")
    points = page.get_by_role("combobox", name="Contact point for countries")
    points.focus()
    page.keyboard.type("fra")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # the list stays open for more choices until Escape
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    db.session.rollback()
    db.session.refresh(coordinator)
    assert coordinator.contact_point_countries == "FR"

    page.goto("/admin/organisations")
    page.get_by_label("Name", exact=True).fill("Victim Support Georgia")
    country = page.get_by_role("combobox", name="Country")
    country.focus()
    page.keyboard.type("georgia")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("option", name="South Georgia", exact=False).first).to_be_visible()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="organisation is added")).to_be_visible()
    db.session.rollback()  # a fresh read: the server committed in its own transaction
    organisation = db.session.scalars(
        select(Organisation).where(Organisation.name == "Victim Support Georgia")
    ).one()
    assert organisation.country == "GE"

    page.goto("/threads/new")
    # The TLP select's <label for> does not match its id on this page (threads' template), so
    # it has no accessible name to find it by; the picker below is found by its label.
    page.locator("#tlp-choice").select_option("RED")
    participants = page.get_by_role("combobox", name="Participants (TLP:RED only)")
    participants.focus()
    page.keyboard.type("nina")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Remove Nina Named")).to_be_visible()
    chosen = page.locator("select[name=participants]").evaluate(
        "select => Array.from(select.selectedOptions).map(o => o.textContent.trim())"
    )
    assert chosen == ["Nina Named"]


def test_a_country_typed_but_not_chosen_is_said_in_words_and_nothing_is_saved(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    member = live_members.make(name="Tomas Typist", country="BE")
    page = _phone(chromium, live_server, member)
    try:
        page.goto("/profile")
        country = page.get_by_role("combobox", name="Country")
        country.fill("Spian")
        page.get_by_role("button", name=re.compile("save", re.I)).first.click()
        expect(page.get_by_role("alert").filter(has_text="not in the list")).to_be_visible()
        expect(page.get_by_text("Your profile is saved.")).to_have_count(0)
        expect(country).to_have_value("Spian")  # what was typed stays to be corrected
        db.session.expire_all()
        db.session.refresh(member)
        assert member.country == "BE"
    finally:
        page.context.close()
