"""In Debian's Chromium at a phone's size (390×844): the notification settings have touch-sized
controls, take a member's choices and quiet hours by their labels, and raise no script error or
policy violation. (Adapted from the choices helper's test.)"""

from __future__ import annotations

from typing import Any

from forum.extensions import db
from forum.notify import preferences
from tests.browser.test_threads_red import _sign_in
from tests.support.live import LiveServer
from tests.support.members import Members

TOUCH_PX = 44


def test_settings_on_a_phone_have_touch_sized_controls_and_save(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    member = live_members.make(timezone="Europe/Madrid")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, live_server, member)
    page.goto(live_server.link("/notifications/settings"))
    assert page.get_by_text("Europe/Madrid").count() >= 1

    form = page.locator("form.settings-form")
    controls = form.locator("label.choice, label.check, input[type=time], button[type=submit]")
    assert controls.count() > len(preferences.CATEGORIES) * 3
    heights = [box["height"] for box in (c.bounding_box() for c in controls.all()) if box]
    assert min(heights) >= TOUCH_PX, heights
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    urgent = page.get_by_role("group", name="Urgent alerts")
    assert urgent.get_by_label("Neither (in the Exchange only)").count() == 0  # never off
    urgent.get_by_label("Push only").check()
    page.get_by_role("group", name="Minutes of calls").get_by_label(
        "Neither (in the Exchange only)"
    ).check()
    page.get_by_label("Hold notifications during quiet hours").check()
    page.get_by_label("Quiet from").fill("22:30")
    page.get_by_label("Until").fill("06:45")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_selector("text=Your notification settings are saved.")

    db.session.commit()  # a fresh transaction sees what the server committed
    assert preferences.choices(member)["urgent_alerts"] == "push"
    assert preferences.choices(member)["minutes"] == "none"
    assert preferences.quiet_hours(member) == (22 * 60 + 30, 6 * 60 + 45)
    assert not problems, problems
