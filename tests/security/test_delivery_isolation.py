"""One bad webhook never stalls, repeats or leaks other deliveries (issue 9, item 12).

An address with a space used to be accepted; at send time its InvalidURL escaped, the whole
dispatch batch stopped before it recorded anything, e-mails already sent went out again on the
next sweep, and the traceback wrote the (sealed) address into the log.
"""

from __future__ import annotations

import logging

import pytest

from forum.extensions import db
from forum.notify import webhooks
from forum.notify.dispatcher import dispatch_due
from forum.notify.urgent import UrgentDispatch
from forum.notify.webhooks import WebhookError, enqueue_webhooks, register_endpoint
from tests.platform.helpers import make_due_now, notify_by_email, rows

CANARY = "canary-7f3a91"


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.org/a b",
        "https://hooks.example.org/tab\there",
        "https://hooks.example.org/nul\x00",
        "https://hooks .example.org/",
        "https://hooks.example.org:99999/",
        "https://hooks..example.org/",
        "https://-hooks.example.org/",
        "https://hooks.example.org/\u00e9t\u00e9",
    ],
)
def test_a_malformed_address_is_refused_when_saved(app, members, url):
    with pytest.raises(WebhookError):
        register_endpoint(members.coordinator(), members.organisation(), url)


def _plant_bad_endpoint(monkeypatch: pytest.MonkeyPatch, coordinator, organisation) -> None:
    """An endpoint saved before addresses were checked (an older Exchange accepted it)."""
    with monkeypatch.context() as lax:
        lax.setattr(webhooks, "url_problem", lambda *_args: None)
        register_endpoint(coordinator, organisation, f"https://hooks.example.org/{CANARY} x")


def test_a_broken_webhook_neither_stops_nor_repeats_the_e_mails_of_its_batch(
    app, members, mailbox, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    coordinator = members.coordinator()
    _plant_bad_endpoint(monkeypatch, coordinator, members.organisation())
    readers = [members.make() for _ in range(3)]
    notify_by_email(readers, event="batch")
    enqueue_webhooks(event_key="alert:1", kind="alert.raised", subject="An alert", link="/a/1")
    db.session.commit()

    dispatch_due()
    make_due_now()
    db.session.commit()
    dispatch_due()

    assert len(mailbox.messages) == 3  # each e-mail once, though the webhook failed
    by_channel = {row.channel: row for row in rows()}
    assert by_channel["email"].status == "sent"
    assert by_channel["webhook"].status == "failed"
    assert CANARY not in caplog.text


def test_the_urgent_path_logs_no_webhook_address(app, members, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    _plant_bad_endpoint(monkeypatch, members.coordinator(), members.organisation())
    ids = enqueue_webhooks(
        event_key="alert:2", kind="alert.raised", subject="An alert", link="/a/2", urgent=True
    )
    db.session.commit()
    UrgentDispatch(app)._run(ids)  # as the web process runs it right after a commit
    assert rows()[0].status == "failed"
    assert CANARY not in caplog.text
    assert all(CANARY not in (row.last_error or "") for row in rows())
