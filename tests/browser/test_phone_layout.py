"""Every page made for a phone (issue 12): at 390×844 and 360×740 in Chromium no page scrolls
sideways, the header folds into "Menu", and the controls in the menu are touch-sized.

The pages hold what makes a phone layout break: three open alerts with long titles, a thread
with a long URL and a code block, wide tables (the register, the response board)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import url_for

from forum.alerts.answers import answer_alert
from forum.calls import minutes as call_minutes
from forum.calls import services as call_services
from forum.db import utcnow
from forum.extensions import db
from forum.members.sessions import start_session
from forum.threads import services as thread_services
from tests.browser.test_alerts_live import _sign_in
from tests.support.alerts import raise_alert
from tests.support.live import PAGE_TIMEOUT_MS, LiveServer

PHONES = [(390, 844), (360, 740)]
LONG_WORD = "Unterstützungskoordinationszentrumsbereitschaftsdienstleistungen"
LONG_URL = "https://incident.example.org/" + "very-long-path-segment-" * 8 + "?q=" + "x" * 60
CODE = "```\n" + "tail -f /var/log/exchange/" + "a" * 120 + ".log | grep alert\n```"


def _world(live_server: LiveServer, live_members: Any) -> dict[str, Any]:
    """A coordinator in the audience of three open alerts, a thread and a call with minutes."""
    coordinator = live_members.coordinator(name="Carla Coordinator-" + LONG_WORD, country="BE")
    raiser = live_members.make(name="Rolf Raiser", country="BE")
    answerer = live_members.make(name="Anne Answerer", country="BE")
    for n in range(3):
        alert = raise_alert(
            raiser,
            title=f"Alert {n}: explosion near {LONG_WORD} station, many injured, families waiting",
            countries=["BE"],
        )
    # An answer, so the response board shows its table "By country".
    answer_alert(answerer, alert.id, "nationals_affected")
    thread = thread_services.start_thread(
        author=raiser,
        category=thread_services.ensure_default_categories()[0],
        title=f"Lessons on {LONG_WORD}",
        body=f"See {LONG_URL} for the report.\n\n{CODE}\n\nAnd {LONG_WORD} again.",
        label="AMBER",
    )
    occurrence = call_services.create_adhoc_call(
        organiser=coordinator,
        title=f"Coordination call on {LONG_WORD}",
        starts_at=utcnow() + timedelta(hours=2),
        duration_minutes=60,
        joining_details=LONG_URL,
    )
    call_minutes.write_minutes(
        occurrence,
        actor=coordinator,
        body="Short minutes.",
        label="AMBER",
        action_items=[call_minutes.ActionInput(text=f"Write to {LONG_URL}", owner=coordinator)],
    )
    start_session(coordinator)  # a second browser: the sessions page offers to sign it out
    db.session.commit()
    with live_server.app.test_request_context():
        pages = {
            "start page": url_for("home.index"),
            "alert register": url_for("alerts.index"),
            "alert page": url_for("alerts.show", alert_id=alert.id),
            "response board": url_for("alerts.board", alert_id=alert.id),
            "thread list": url_for("threads.index"),
            "thread": url_for("threads.show", thread_id=thread.id),
            "calls": url_for("calls.index"),
            "call page": url_for("calls.occurrence", occurrence_id=occurrence.id),
            "call: manage": url_for("calls.manage", occurrence_id=occurrence.id),
            "call: minutes": url_for("calls.edit_minutes", occurrence_id=occurrence.id),
            "call: attendance": url_for("calls.attendance", occurrence_id=occurrence.id),
            "members": url_for("members.directory"),
            "profile": url_for("members.profile"),
            "sessions": url_for("members.sessions"),
            "notifications": url_for("notify.index"),
            "raise form": url_for("alerts.new"),
            "new thread": url_for("threads.new"),
            "search": url_for("threads.search", q=LONG_WORD),
            "ad-hoc call form": url_for("calls.new_adhoc"),
            "coordinate: members": url_for("members.admin"),
            "coordinate: invitations": url_for("members.admin_invites"),
            "coordinate: audit log": url_for("members.admin_audit"),
        }
    return {"member": coordinator, "pages": pages}


def _phone(chromium: Any, live_server: LiveServer, member: Any, size: tuple[int, int]) -> Any:
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": size[0], "height": size[1]}
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    _sign_in(context, live_server, member)
    return context


WIDTHS = "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


@pytest.mark.parametrize("size", PHONES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_main_page_fits_a_phone_without_sideways_scrolling(
    chromium: Any, live_server: LiveServer, live_members: Any, size: tuple[int, int]
) -> None:
    world = _world(live_server, live_members)
    context = _phone(chromium, live_server, world["member"], size)
    try:
        page = context.new_page()
        overflowing = {}
        for name, path in world["pages"].items():
            response = page.goto(path)
            assert response is not None and response.status == 200, name
            widths = page.evaluate(WIDTHS)
            if widths["scroll"] > widths["inner"]:
                overflowing[name] = (widths, page.evaluate(WIDEST))
            header = page.locator("header.topbar").bounding_box()
            assert header is not None and header["height"] < 70, f"{name}: the header is one line"
        assert overflowing == {}
    finally:
        context.close()


def test_at_390_the_header_is_a_menu_with_touch_sized_links_and_three_alerts_leave_the_page(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    world = _world(live_server, live_members)
    context = _phone(chromium, live_server, world["member"], (390, 844))
    try:
        page = context.new_page()
        page.goto(world["pages"]["thread list"])
        header = page.locator("header.topbar")
        summary = header.locator("summary", has_text="Menu")
        nav = header.get_by_role("navigation", name="Main")
        assert summary.is_visible()
        assert not nav.is_visible()
        header_box = header.bounding_box()
        assert header_box is not None and header_box["height"] < 70  # one line, not four

        summary.click()
        assert nav.is_visible()
        targets = header.locator("a:visible, button:visible, summary:visible")
        assert targets.count() >= 9  # brand, bell, menu, raise, 4 features, profile, sign out
        for i in range(targets.count()):
            box = targets.nth(i).bounding_box()
            assert box is not None and box["height"] >= 44, targets.nth(i).inner_text()
        nav.get_by_role("link", name="Calls").click()
        page.wait_for_url("**/calls")

        banner = page.get_by_role("region", name="Urgent alerts")
        summary_text = banner.evaluate("e => getComputedStyle(e, '::after').content")
        # "Open alerts: 3": the page's (translated) words and a CSS counter of the banners.
        assert "attr(data-open-label)" in summary_text or "Open alerts:" in summary_text
        assert banner.get_attribute("data-open-label") == "Open alerts:"
        assert banner.get_by_role("region").count() == 3
        box = banner.bounding_box()
        assert box is not None and box["height"] < 844 / 2  # the page stays in sight
        page.get_by_role("heading", name="Calls").wait_for()
        heading = page.get_by_role("heading", name="Calls").bounding_box()
        assert heading is not None and heading["y"] + heading["height"] < 844
    finally:
        context.close()


def test_on_a_wide_screen_the_nav_shows_without_the_menu(
    page: Any, live_server: LiveServer, live_members: Any
) -> None:
    member = live_members.make()
    _sign_in(page.context, live_server, member)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/threads")
    header = page.locator("header.topbar")
    assert not header.locator("summary").is_visible()
    assert (
        header.get_by_role("navigation", name="Main")
        .get_by_role("link", name="Alerts")
        .is_visible()
    )
    assert header.get_by_role("button", name="Sign out").is_visible()


# What a thumb has to hit: every visible control, and every link that stands alone (a link in
# running text, beside words of its own block, is exempt as WCAG 2.5.8 exempts it).
SMALL_TARGETS = """() => {
  const controls = 'button, input[type=submit], input[type=button], input[type=file], select, textarea,'
    + ' input[type=text], input[type=email], input[type=password], input[type=search], input[type=url],'
    + ' input[type=number], input[type=date], input[type=time], input[type=datetime-local], a[href]';
  const inRunningText = a => [...a.parentNode.childNodes].some(
    n => n.nodeType === Node.TEXT_NODE && /[\\p{L}\\p{N}]/u.test(n.textContent));
  return [...document.querySelectorAll(controls)].filter(e => {
    const box = e.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.bottom + window.scrollY <= 0) { return false; }
    if (getComputedStyle(e).visibility === 'hidden') { return false; }
    if (e.closest('header.topbar')) { return false; }  // the header has its own test
    if (e.tagName === 'A' && inRunningText(e)) { return false; }
    return box.height < 44;
  }).map(e => e.tagName.toLowerCase() + (e.type ? '[' + e.type + ']' : '') + ' "'
    + (e.innerText || e.value || e.name || '').trim().slice(0, 30) + '" '
    + Math.round(e.getBoundingClientRect().height) + 'px');
}"""


def test_at_360_every_control_and_stand_alone_link_is_touch_sized(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    world = _world(live_server, live_members)
    context = _phone(chromium, live_server, world["member"], (360, 740))
    try:
        page = context.new_page()
        small = {}
        for name, path in world["pages"].items():
            response = page.goto(path)
            assert response is not None and response.status == 200, name
            offenders = page.evaluate(SMALL_TARGETS)
            if offenders:
                small[name] = offenders
        assert small == {}, "smaller than 44 px on a phone: " + repr(small)
    finally:
        context.close()


# How many characters of a banner's title a member reads: the width its lines give, against the
# width of the title's first 25 characters in the same font.
BANNER_READ = """e => {
  const probe = document.createElement('span');
  probe.style.whiteSpace = 'nowrap';  // CSSOM, allowed by the strict CSP
  probe.style.position = 'absolute';
  probe.textContent = e.textContent.trim().slice(0, 25);
  e.appendChild(probe);
  const needed = probe.getBoundingClientRect().width;
  probe.remove();
  const style = getComputedStyle(e);
  const text = e.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  const lines = Math.max(1, Math.floor(text / parseFloat(style.lineHeight) + 0.25));
  return {needed, width: e.clientWidth, lines, height: e.getBoundingClientRect().height};
}"""


def test_at_360_a_banner_title_shows_at_least_25_characters_and_stays_compact(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    world = _world(live_server, live_members)
    context = _phone(chromium, live_server, world["member"], (360, 740))
    try:
        page = context.new_page()
        page.goto(world["pages"]["start page"])
        page.wait_for_selector("body[data-live='open']")
        # In one evaluation: live.js may swap a banner's head for a fresh copy at any moment.
        reads = page.evaluate(
            "() => [...document.querySelectorAll('#live-banner .banner-link')].map("
            + BANNER_READ
            + ")"
        )
        assert len(reads) == 3
        for read in reads:
            assert read["width"] * read["lines"] >= read["needed"], read
            assert read["lines"] <= 2, read  # several banners stay compact
        box = page.locator("#live-banner").bounding_box()
        assert box is not None and box["height"] < 740 / 2
    finally:
        context.close()


def test_at_360_a_thread_title_takes_the_cards_full_width(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    world = _world(live_server, live_members)
    context = _phone(chromium, live_server, world["member"], (360, 740))
    try:
        page = context.new_page()
        page.goto(world["pages"]["thread list"])
        card = page.locator(".thread-list tbody tr").first.bounding_box()
        title = page.locator(".thread-list tbody tr").first.locator("td").first.bounding_box()
        link = page.get_by_role("link", name=f"Lessons on {LONG_WORD}").bounding_box()
        assert card is not None and title is not None and link is not None
        assert title["x"] - card["x"] < 16  # the card's padding, no label column
        assert link["width"] > card["width"] * 0.6
    finally:
        context.close()


def test_at_360_an_alert_register_card_leads_with_the_title(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    world = _world(live_server, live_members)
    context = _phone(chromium, live_server, world["member"], (360, 740))
    try:
        page = context.new_page()
        page.goto(world["pages"]["alert register"])
        row = page.locator("table.register tbody tr").first
        title = row.get_by_role("link").first.bounding_box()
        date = row.locator("td").first.bounding_box()
        assert title is not None and date is not None
        assert title["y"] < date["y"]  # the title first, the date below it
    finally:
        context.close()


def test_at_360_the_board_by_country_labels_do_not_run_into_each_other(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    world = _world(live_server, live_members)
    context = _phone(chromium, live_server, world["member"], (360, 740))
    try:
        page = context.new_page()
        page.goto(world["pages"]["response board"])
        # Each cell is at least as tall as its label (the cell's ::before): the label's words
        # set in a probe of the label's width and font.
        cells = page.locator("table.board-countries td[data-label]")
        assert cells.count() >= 5  # the country and one cell per answer
        short = cells.evaluate_all(
            """cells => cells.filter(td => {
                 const label = getComputedStyle(td, '::before');
                 const probe = document.createElement('div');
                 for (const p of ['width', 'fontSize', 'fontWeight', 'lineHeight', 'fontFamily']) {
                   probe.style[p] = label[p];
                 }
                 probe.style.position = 'absolute';
                 probe.textContent = td.dataset.label;
                 document.body.appendChild(probe);
                 const needed = probe.getBoundingClientRect().height;
                 probe.remove();
                 return td.getBoundingClientRect().height + 0.5 < needed;
               }).map(td => td.dataset.label)"""
        )
        assert short == []
        pill = page.locator(".board-counts .pill").first
        size = pill.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 14  # readable, not 12 px
    finally:
        context.close()


def test_on_a_phone_the_skip_link_is_hidden_until_focused_and_sessions_spaced(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    world = _world(live_server, live_members)
    context = _phone(chromium, live_server, world["member"], (360, 740))
    try:
        page = context.new_page()
        page.goto(world["pages"]["sessions"])
        skip = page.locator(".skip-link")
        box = skip.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 0  # not one pixel of it shows
        page.keyboard.press("Tab")
        box = skip.bounding_box()
        assert box is not None and box["y"] >= 0  # focused, it shows

        button = page.get_by_role("button", name="Sign out everywhere else").bounding_box()
        after = page.locator("form.spaced + *").bounding_box()
        assert button is not None and after is not None
        assert after["y"] - (button["y"] + button["height"]) >= 8
    finally:
        context.close()


def test_on_the_call_page_each_answer_is_a_touch_sized_choice_under_one_heading(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    world = _world(live_server, live_members)
    context = _phone(chromium, live_server, world["member"], (360, 740))
    try:
        page = context.new_page()
        page.goto(world["pages"]["call page"])
        rsvp = page.locator("#rsvp")
        shown = rsvp.get_by_text("Will you join?", exact=True).evaluate_all(
            "els => els.filter(e => e.getBoundingClientRect().height > 1).length"
        )
        assert shown == 1  # one heading on screen (the legend stays for screen readers)
        labels = rsvp.locator(".choice-list label")
        assert labels.count() == 3
        for i in range(3):
            box = labels.nth(i).bounding_box()
            assert box is not None and box["height"] >= 44, labels.nth(i).inner_text()
        save = rsvp.locator("input[type=submit]")
        colour = save.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(31, 78, 140)"  # styled as the other buttons (--accent)
    finally:
        context.close()
