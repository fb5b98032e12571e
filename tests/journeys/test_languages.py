"""The Exchange in the members' languages, from an empty folder, in Chromium.

A fresh `exchange serve` answers the sign-in page in each of the seven languages by the
browser's Accept-Language, with `<html lang>` set; the first coordinator joins, picks Polski with
the switcher at the foot of the page (by its label, as a person does), and from then on gets
Polish pages on every device and her e-mails in Polish. The expected words are read from the
catalogues with Babel's .po reader; the app serves the compiled .mo through gettext.
"""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from functools import cache
from typing import Any

from babel.messages.pofile import read_po
from playwright.sync_api import expect

from forum.i18n import LANGUAGES, TRANSLATIONS
from tests.journeys.people import join
from tests.support.axe import assert_accessible
from tests.support.journeys import ServedExchange

PASSWORD = "amber lantern across 41 rivers"
EMAIL = "first.coordinator@example.org"
# What Chromium sends as Accept-Language for each (its `locale` option).
BROWSER_LOCALES = {
    "en": "en-GB",
    "fr": "fr-BE",
    "de": "de-AT",
    "es": "es-ES",
    "it": "it-IT",
    "nl": "nl-NL",
    "pl": "pl-PL",
}


@cache
def _catalogue(code: str) -> dict[str, str]:
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {
            m.id: m.string
            for m in read_po(handle)
            if isinstance(m.id, str) and m.id and isinstance(m.string, str)
        }


def said(code: str, english: str) -> str:
    """The catalogue's words for an English message (English itself for "en")."""
    return english if code == "en" else _catalogue(code)[english]


def _lang(page: Any) -> str:
    return str(page.evaluate("() => document.documentElement.lang"))


def test_the_sign_in_page_speaks_each_browsers_language(
    served: ServedExchange, person: Any
) -> None:
    for code, browser_locale in BROWSER_LOCALES.items():
        page = person(locale=browser_locale)
        page.goto("/sign-in")
        assert _lang(page) == code
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_have_text(said(code, "Sign in"))
        switcher = page.get_by_label(said(code, "Language"))
        assert switcher.input_value() == code
        if code in {"de", "pl"}:  # two long-worded languages through axe as well
            assert_accessible(page, f"sign-in in {LANGUAGES[code]}")
        page.context.close()


def test_a_member_who_picks_polish_gets_polish_pages_and_e_mails(
    served: ServedExchange, person: Any
) -> None:
    link = served.setup_link()
    here = person(locale="en-GB")
    join(here, link, email=EMAIL, name="Clara Coordinator", password=PASSWORD)
    assert _lang(here) == "en"

    # The switcher at the foot of the page, by its label and its button.
    here.get_by_label("Language").select_option(label="Polski")
    here.get_by_role("button", name="Change language").click()
    assert _lang(here) == "pl"
    nav = here.get_by_role("navigation", name=said("pl", "Main"))
    expect(nav.get_by_role("link", name=said("pl", "Threads"))).to_be_visible()
    assert_accessible(here, "start page in Polish")

    # Another device of hers whose browser asks for German still gets Polish once signed in:
    # the choice is on her profile. Signed out, that browser is German.
    elsewhere = person(locale="de-DE")
    elsewhere.goto("/sign-in")
    assert _lang(elsewhere) == "de"

    # Her password-reset e-mail is in Polish, asked for from the German browser.
    elsewhere.get_by_role("link", name=said("de", "Forgot your password?")).click()
    elsewhere.get_by_label(re.compile("e-mail", re.I)).fill(EMAIL)
    elsewhere.locator("main").get_by_role("button").first.click()
    reset = served.mail_link(EMAIL, r"http://\S+/reset/\S+")
    message = next(
        m for m in reversed(served.mailbox.to(EMAIL)) if reset in m.get_body().get_content()
    )
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == said("pl", "%(app_name)s: set a new password") % {
        "app_name": "INVICTM Exchange"
    }
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert said("pl", "Someone asked to set a new password for your account.") in body
