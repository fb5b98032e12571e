"""The first hour of a new network, from an empty folder, in Chromium.

`exchange serve` as the README says → the setup link on the console → the first coordinator
joins with an authenticator → a thread in a default category with an attachment → one member
invited from the command line, another from the page → she joins → a TLP:RED thread she is not
on answers her 404 → a monthly call series → she subscribes to her calendar feed and an
independent reader puts every call at the right instant → an alert raised from a phone reaches
her open page → she answers with one tap → the alert is resolved → its banner is gone.
"""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.calendar_readers.readers import read_with_icaljs
from tests.journeys.people import choose_country, choose_option, join, sign_in, start_thread
from tests.support.axe import assert_accessible
from tests.support.journeys import PHONE, ServedExchange, overflow

PASSWORD_COORDINATOR = "amber lantern across 41 rivers"
PASSWORD_MEMBER = "violet quay beneath 17 bridges"
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_first_hour_of_a_new_network(served: ServedExchange, person: Any) -> None:
    # The console shows the setup link, on the address actually served.
    link = served.setup_link()
    assert urlsplit(link).netloc == urlsplit(served.url).netloc

    coordinator = person()
    coordinator_totp = join(
        coordinator,
        link,
        email="first.coordinator@example.org",
        name="Clara Coordinator",
        password=PASSWORD_COORDINATOR,
    )

    # A thread in one of the default categories, with an attachment.
    thread_url = start_thread(
        coordinator,
        title="Family liaison in the first 48 hours",
        body="What worked for us: one named liaison per family, reachable by phone.",
        category="Lessons learned",
        attachment={"name": "checklist.pdf", "mimeType": "application/pdf", "buffer": TINY_PDF},
    )
    expect(coordinator.get_by_role("link", name=re.compile("checklist.pdf"))).to_be_visible()
    coordinator.goto("/threads")
    expect(
        coordinator.get_by_role("link", name="Family liaison in the first 48 hours")
    ).to_be_visible()
    assert thread_url

    # One member invited from the command line: the link is on the served address.
    invited = served.exchange("invite", "samir.member@example.org", "--organisation", "Aide Paris")
    assert invited.returncode == 0, invited.stderr
    cli_link = re.search(r"http://\S+/invite/\S+", invited.stdout)
    assert cli_link and urlsplit(cli_link.group(0)).netloc == urlsplit(served.url).netloc

    # Another from the coordinators' page; the link arrives by e-mail.
    coordinator.goto("/")
    coordinator.get_by_role("navigation").get_by_role(
        "link", name=re.compile("admin|coordinat", re.I)
    ).first.click()
    coordinator.get_by_role("link", name=re.compile("invit", re.I)).first.click()
    coordinator.get_by_label("E-mail address").fill("marta.member@example.org")
    coordinator.get_by_label(re.compile("organisation", re.I)).fill("Opferhilfe Berlin")
    coordinator.get_by_role("button", name=re.compile("invite|send", re.I)).click()
    expect(coordinator.get_by_text("marta.member@example.org").first).to_be_visible()
    assert_accessible(coordinator, "invitations, one sent")
    mailed_link = served.mail_link("marta.member@example.org", r"http://\S+/invite/[A-Za-z0-9_\-]+")
    assert urlsplit(mailed_link).netloc == urlsplit(served.url).netloc

    member = person()
    join(
        member,
        mailed_link,
        email="marta.member@example.org",
        name="Marta Member",
        password=PASSWORD_MEMBER,
    )

    # A TLP:RED thread she is not on answers her exactly as a missing one does.
    red_url = start_thread(
        coordinator,
        title="Names of the injured (hospital list)",
        body="Only for the coordinators on this thread.",
        category="Urgent questions",
        label="TLP:RED",
        participants=[],  # the author is always on it
    )
    red = member.goto(red_url)
    missing = member.goto(served.link("/threads/t/" + "0" * 26))
    assert red is not None and red.status == 404
    assert missing is not None and missing.status == 404
    member.goto("/threads")
    expect(member.get_by_text("Names of the injured")).to_have_count(0)
    assert_accessible(member, "thread list")
    member.console_errors.clear()  # the two 404s above were asked for

    # A monthly call: the second Thursday at 14:00, Brussels time.
    coordinator.goto("/")
    coordinator.get_by_role("navigation").get_by_role("link", name="Calls").click()
    coordinator.get_by_role("link", name="New call series").click()
    assert_accessible(coordinator, "new call series")
    coordinator.get_by_label("Title").fill("INVICTM monthly call")
    choose_option(coordinator.get_by_label(re.compile("time zone", re.I)), "Europe/Brussels")
    choose_option(coordinator.get_by_label("How often"), "weekday of the month")
    choose_option(coordinator.get_by_label("Which one"), "second")
    choose_option(coordinator.get_by_label("Weekday"), "Thursday")
    coordinator.get_by_label("Time", exact=True).fill("14:00")
    coordinator.get_by_label("First possible date").fill(date.today().isoformat())
    coordinator.get_by_role("button", name="Save").click()
    expect(coordinator.get_by_role("heading", level=1)).to_contain_text("INVICTM monthly call")
    assert_accessible(coordinator, "call series")

    # She subscribes to her feed; an independent calendar reader puts every call right.
    member.goto("/")
    member.get_by_role("navigation").get_by_role("link", name="Calls").click()
    member.get_by_role("link", name=re.compile("subscribe in your calendar", re.I)).click()
    member.get_by_role("button", name=re.compile("make my feed address", re.I)).click()
    feed_url = member.locator("code").filter(has_text=".ics").first.inner_text().strip()
    assert_accessible(member, "calendar feed")
    assert urlsplit(feed_url).netloc == urlsplit(served.url).netloc
    with urllib.request.urlopen(feed_url, timeout=10) as answer:  # noqa: S310 - loopback
        feed = answer.read().decode()
    starts = sorted(read_with_icaljs(feed.encode()).values())
    expected = second_thursdays_at_two_in_brussels(len(starts))
    assert len(starts) >= 6  # the horizon the feed publishes ahead
    assert starts == expected

    # An attack: the coordinator raises an alert from her phone; it reaches Marta's open page.
    member.goto("/threads")
    phone = person(**PHONE)
    sign_in(
        phone,
        email="first.coordinator@example.org",
        password=PASSWORD_COORDINATOR,
        totp=coordinator_totp,
    )
    phone.get_by_role("link", name="Raise alert").first.click()
    phone.get_by_label("Short title").fill("Explosion at the central station")
    choose_country(phone, "France", code="FR")
    phone.get_by_label(re.compile("when it happened", re.I)).fill(
        datetime.now().strftime("%Y-%m-%dT%H:%M")
    )
    phone.get_by_label("What is needed").fill("Liaison officers for foreign families.")
    phone.get_by_role("button", name=re.compile("raise|send", re.I)).last.click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text(
        "Explosion at the central station"
    )
    alert_url = phone.url
    assert overflow(phone) <= 0  # the alert page fits the phone
    assert_accessible(phone, "raised alert, phone")

    banner = member.get_by_role("region", name=re.compile("urgent alert", re.I)).or_(
        member.locator(".live-banner")
    )
    expect(banner.get_by_text("Explosion at the central station")).to_be_visible()
    banner.get_by_role("button", name="I can help").click()
    expect(member.get_by_text(re.compile("your answer: I can help", re.I))).to_be_visible()
    assert_accessible(member, "banner answered")

    # Resolved from the phone: the banner leaves her page, and does not come back on the next.
    phone.goto(alert_url + "/board")
    assert overflow(phone) <= 0  # and so does the board
    assert_accessible(phone, "response board, phone")
    phone.goto(alert_url)
    phone.get_by_role("button", name="Resolve alert").click()
    expect(phone.get_by_text(re.compile("resolved", re.I)).first).to_be_visible()
    assert_accessible(phone, "resolved alert, phone")
    expect(member.get_by_text("Explosion at the central station")).to_have_count(0)
    member.goto("/")
    expect(member.get_by_text("Explosion at the central station")).to_have_count(0)

    for page in (coordinator, member, phone):
        assert not [e for e in page.console_errors if "favicon" not in e]


def second_thursdays_at_two_in_brussels(count: int) -> list[datetime]:
    """The UTC instants of the next `count` second Thursdays at 14:00 Europe/Brussels."""
    brussels = ZoneInfo("Europe/Brussels")
    found: list[datetime] = []
    month = date.today().replace(day=1)
    while len(found) < count:
        thursdays = [
            month + timedelta(days=d)
            for d in range(31)
            if (month + timedelta(days=d)).month == month.month
            and (month + timedelta(days=d)).weekday() == 3
        ]
        start = datetime(*thursdays[1].timetuple()[:3], 14, 0, tzinfo=brussels)
        if start.date() >= date.today():
            found.append(start.astimezone(UTC))
        month = (month + timedelta(days=32)).replace(day=1)
    return found
