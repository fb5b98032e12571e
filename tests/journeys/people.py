"""What a person does on the Exchange's pages, written once for every journey: join with an
authenticator, sign in, start a thread. Every step finds its way by labels and button names."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
from playwright.sync_api import expect

from tests.support.axe import assert_accessible

KEY = re.compile(r"\b([A-Z2-7]{4}(?: [A-Z2-7]{4}){3,}|[A-Z2-7]{16,})\b")


def authenticator_key(page: Any) -> str:
    """The authenticator key as the page shows it to be typed by hand (spaces removed)."""
    text = page.locator("main").inner_text()
    found = KEY.search(text)
    assert found, "the authenticator page shows no key to type by hand"
    return found.group(1).replace(" ", "")


def join(page: Any, link: str, *, email: str, name: str, password: str) -> pyotp.TOTP:
    """Open an invitation link and register: details, authenticator, recovery codes."""
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Join")
    assert_accessible(page, "join")
    page.get_by_label(re.compile("e-mail address", re.I)).fill(email)
    page.get_by_label(re.compile("your name", re.I)).fill(name)
    page.get_by_label(re.compile("choose a password", re.I)).fill(password)
    page.get_by_label(re.compile("password again", re.I)).fill(password)
    page.get_by_role("button", name=re.compile("continue", re.I)).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("authenticator")
    assert_accessible(page, "join: authenticator")
    totp = pyotp.TOTP(authenticator_key(page))
    page.get_by_role("textbox", name=re.compile("code", re.I)).fill(totp.now())
    page.get_by_role("button", name=re.compile("confirm", re.I)).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    codes = page.get_by_role("list").filter(has=page.locator("code")).locator("code")
    assert codes.count() == 10, "ten recovery codes are shown once"
    assert_accessible(page, "join: recovery codes")
    page.get_by_role("link", name=re.compile("I have saved them", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Welcome, {name}")
    return totp


def sign_in(page: Any, *, email: str, password: str, totp: pyotp.TOTP) -> None:
    """Sign in with the password and the next authenticator code (a code is accepted once)."""
    page.goto("/sign-in")
    assert_accessible(page, "sign-in")
    page.get_by_label(re.compile("e-mail", re.I)).fill(email)
    page.get_by_label(re.compile("password", re.I)).fill(password)
    page.get_by_role("button", name=re.compile("sign in|continue", re.I)).click()
    assert_accessible(page, "sign-in: code")
    page.get_by_role("textbox", name=re.compile("code", re.I)).fill(totp.at(time.time() + 30))
    page.get_by_role("button", name=re.compile("sign in|confirm|continue", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def start_thread(
    page: Any,
    *,
    title: str,
    body: str,
    category: str,
    label: str = "TLP:AMBER",
    participants: list[str] | None = None,
    attachment: dict[str, Any] | None = None,
) -> str:
    """Start a thread from the Threads page; returns the new thread's address."""
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Threads").click()
    page.get_by_role("link", name=re.compile("start a thread", re.I)).first.click()
    assert_accessible(page, "new thread")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Category").select_option(label=category)
    choose_option(page.get_by_label(re.compile("TLP label", re.I)), label)
    for name in participants or []:
        choose_participant(page, name)
    page.get_by_label(re.compile("first post", re.I)).fill(body)
    if attachment:
        page.get_by_label(re.compile("attach a file", re.I)).set_input_files(attachment)
    page.get_by_role("button", name=re.compile("start thread", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    assert_accessible(page, "thread")
    return str(page.url)


def choose_participant(page: Any, name: str) -> None:
    """Pick a participant by name, whether the page shows a filterable picker or a plain list."""
    field = page.get_by_label(re.compile("participants", re.I)).first
    tag = field.evaluate("e => e.tagName.toLowerCase()")
    if tag == "select":
        choose_option(field, name)
    else:  # a filter box: type, then choose the offered name
        field.fill(name)
        page.get_by_role("option", name=re.compile(re.escape(name))).first.click()


def choose_option(select: Any, text: str) -> None:
    """Choose the option of a <select> whose visible text contains `text`."""
    labels = [label.strip() for label in select.locator("option").all_inner_texts()]
    matching = [label for label in labels if text in label]
    assert matching, f"no option like {text!r} among {labels}"
    select.select_option(label=matching[0])


def choose_country(page: Any, name: str, *, code: str) -> None:
    """Choose a country by its name (a picker) or, on a two-letter field, by its code."""
    field = page.get_by_label(re.compile("^country", re.I)).first
    if field.evaluate("e => e.tagName.toLowerCase()") == "select":
        choose_option(field, name)
    elif field.get_attribute("list") or field.get_attribute("role") == "combobox":
        field.fill(name)
        page.get_by_role("option", name=re.compile(name)).first.click()
    else:
        field.fill(code)
