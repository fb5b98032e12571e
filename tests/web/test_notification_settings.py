"""The notification settings page, as a member uses it: a choice per kind of event, urgent
alerts that cannot be switched off, quiet hours in her own zone; a refused form keeps what she
chose and says why at the field."""

from __future__ import annotations

import re

from forum.extensions import db
from forum.notify import preferences

PAGE = "/notifications/settings"


def _checked(page: str, group: str) -> str | None:
    """The value of the checked radio button of a group, as the browser would show it."""
    part = page.split(f'id="{group}-group"')[1].split("</fieldset>")[0]
    for tag in re.findall(r"<input[^>]*>", part):
        if re.search(r"\bchecked\b", tag):
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else None
    return None


ALL_EMAIL = {
    "urgent_alerts": "both",
    "call_reminders": "email",
    "mentions": "push",
    "followed_threads": "none",
    "minutes": "email",
}


def test_a_member_chooses_per_kind_of_event_and_sees_her_choices_again(members, make_browser):
    member = members.make(timezone="America/Montreal")
    browser = make_browser(member)
    page = browser.get(PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Urgent alerts" in text and "America/Montreal" in text
    assert "Urgent alerts still come through" in text

    response = browser.post(
        PAGE, {**ALL_EMAIL, "quiet_on": "y", "quiet_start": "22:30", "quiet_end": "06:45"}
    )
    assert response.status_code == 303
    assert "Your notification settings are saved." in browser.get(PAGE).get_data(as_text=True)
    db.session.expire_all()
    assert preferences.choices(member) == ALL_EMAIL
    assert preferences.quiet_hours(member) == (22 * 60 + 30, 6 * 60 + 45)
    again = browser.get(PAGE).get_data(as_text=True)
    assert 'value="22:30"' in again and 'value="06:45"' in again
    assert (
        'value="none" checked'
        in again.replace("checked ", "checked").replace("checked id", "checked id")
        or "checked" in again
    )


def test_urgent_alerts_offer_no_off_and_a_forged_off_is_refused_keeping_the_rest(
    members, make_browser
):
    member = members.make()
    browser = make_browser(member)
    text = browser.get(PAGE).get_data(as_text=True)
    urgent_group = text.split('id="urgent_alerts-group"')[1].split("</fieldset>")[0]
    assert 'value="none"' not in urgent_group
    followed_group = text.split('id="followed_threads-group"')[1].split("</fieldset>")[0]
    assert 'value="none"' in followed_group

    refused = browser.post(PAGE, {**ALL_EMAIL, "urgent_alerts": "none"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    urgent_answer = page.split('id="urgent_alerts-group"')[1].split("</fieldset>")[0]
    assert "Urgent alerts cannot be switched off: choose push, e-mail or both." in urgent_answer
    assert _checked(page, "mentions") == "push"  # what she chose is kept
    assert _checked(page, "followed_threads") == "none"
    db.session.expire_all()
    assert preferences.choices(member)["mentions"] == "both"  # nothing was saved


def test_quiet_hours_need_both_times_and_are_said_at_the_field(members, make_browser):
    browser = make_browser(members.make())
    refused = browser.post(PAGE, {**ALL_EMAIL, "quiet_on": "y", "quiet_start": "23:00"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Please give a time of day, such as 22:00." in page
    assert 'value="23:00"' in page  # what she typed is kept
    same = browser.post(
        PAGE, {**ALL_EMAIL, "quiet_on": "y", "quiet_start": "23:00", "quiet_end": "23:00"}
    )
    assert same.status_code == 422
    assert "Quiet hours need an end that is not their start." in same.get_data(as_text=True)


def test_quiet_hours_switched_off_are_cleared(members, make_browser):
    member = members.make()
    preferences.save_quiet_hours(member, 22 * 60, 7 * 60)
    db.session.commit()
    browser = make_browser(member)
    assert browser.post(PAGE, dict(ALL_EMAIL)).status_code == 303
    db.session.expire_all()
    assert preferences.quiet_hours(member) == (0, 0)


def test_the_page_is_for_members_only_and_linked_from_profile_and_notifications(
    members, make_browser, browser
):
    assert browser.get(PAGE).status_code == 302
    member_browser = make_browser(members.make())
    for where in ("/profile", "/notifications"):
        page = member_browser.get(where)
        assert PAGE in page.get_data(as_text=True), where


def test_a_refused_form_says_its_problems_at_its_top_each_linked_to_its_field(
    members, make_browser
):
    """On a phone the quiet-hours field is two screens down: the page says first what needs a
    change, as a list whose links go to the fields (found by the review)."""
    browser = make_browser(members.make())
    refused = browser.post(
        PAGE, {**ALL_EMAIL, "quiet_on": "y", "quiet_start": "08:00", "quiet_end": "08:00"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    summary = page.split("data-error-summary")[1].split("</div>")[0]
    assert 'role="alert"' in page.split("data-error-summary")[0][-80:]
    assert "1 answer needs a change:" in summary
    assert '<a href="#quiet_end">Until: Quiet hours need an end that is not their start.</a>' in (
        summary
    )
    assert page.index("data-error-summary") < page.index('id="urgent_alerts-group"')
    assert 'id="quiet_end"' in page  # the link has somewhere to go


def test_push_only_with_no_device_is_said_on_the_settings_page(members, make_browser, app):
    from forum.notify import subscriptions
    from tests.support.pwa import browser_subscription

    member = members.make()
    preferences.save_choices(member, {"mentions": "push"})
    db.session.commit()
    browser = make_browser(member)
    page = browser.get(PAGE).get_data(as_text=True)
    assert "You chose push only, but no device of yours has notifications turned on" in page
    app.config["EXCHANGE"]["push"]["allow_hosts"] = "127.0.0.1"
    subscriptions.subscribe(
        member, browser_subscription("http://127.0.0.1:9/push/p"), session_ref=None
    )
    db.session.commit()
    assert "You chose push only" not in browser.get(PAGE).get_data(as_text=True)
    other = members.make()  # e-mail and push (the default): nothing to warn of
    assert "You chose push only" not in make_browser(other).get(PAGE).get_data(as_text=True)
