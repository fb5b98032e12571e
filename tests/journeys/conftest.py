"""Journeys: the Exchange started the way the README says, on an empty folder, and walked in
Debian's Chromium the way a person walks it — by labels, roles and button names, never by ids.

Nothing here builds rows through services or fixtures inside the application: the test only
runs `exchange …` commands in the folder, reads what a person would read (the console, the
e-mails the local SMTP server received, the pages) and clicks. The one concession is the SMTP
server: the README's environment override `EXCHANGE_MAIL_SMTP_HOST/PORT` points the instance at
the run's local aiosmtpd, so invitations are read as a member would read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.journeys import PAGE_TIMEOUT_MS, ServedExchange, empty_database, serve
from tests.support.mail import Mailbox


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every journey drives Chromium."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def served(
    tmp_path: Path, backend: str, smtp_server: tuple[Controller, Mailbox], mailbox: Mailbox
) -> Iterator[ServedExchange]:
    """`exchange serve --port P --coordinator-email …` on an empty folder; stopped by its pid.

    On SQLite (the embedded default) nothing but the SMTP server is configured; on PostgreSQL
    the only other setting is `EXCHANGE_DATABASE_URL`, a database made empty for this journey.
    """
    with empty_database(backend) as database_url:
        yield from serve(tmp_path, database_url, smtp_server[0].port, mailbox)


@pytest.fixture
def person(chromium: Any, served: ServedExchange) -> Iterator[Any]:
    """A factory of browser contexts: one per person (and device), all closed after the test."""
    contexts: list[Any] = []

    def open_browser(**options: Any) -> Any:
        context = chromium.new_context(base_url=served.url, **options)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []  # type: ignore[attr-defined]
        page.on(
            "console",
            lambda m: page.console_errors.append(m.text) if m.type == "error" else None,  # type: ignore[attr-defined]
        )
        page.on("dialog", lambda dialog: dialog.accept())  # a person answers "OK"
        return page

    try:
        yield open_browser
    finally:
        for context in contexts:
            context.close()
