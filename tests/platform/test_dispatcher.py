"""Delivery: nothing lost, nothing twice, nothing confidential in an e-mail."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import select, update

from forum.db import utcnow
from forum.extensions import db
from forum.notify import dispatcher
from forum.notify.dispatcher import backoff_seconds, dispatch_due, dispatch_ids
from forum.notify.models import OutboxMessage
from forum.notify.outbox import enqueue_external
from tests.platform.helpers import closed_port, make_due_now, notify_by_email, rows


def test_dispatch_leaves_the_callers_unit_of_work_alone(app, members, mailbox):
    alice = members.make(email="alice@example.org")
    notify_by_email([alice])
    alice.is_email_notifications = not alice.is_email_notifications  # not flushed, not committed
    assert dispatch_due().sent == 1
    assert alice in db.session.dirty  # the dispatcher neither committed nor dropped it
    db.session.rollback()
    assert len(mailbox.to("alice@example.org")) == 1


def test_due_email_is_sent_once_over_smtp(app, members, mailbox):
    alice = members.make(email="alice@example.org")
    notify_by_email([alice])
    first = dispatch_due()
    second = dispatch_due()
    assert (first.sent, second.claimed) == (1, 0)
    assert len(mailbox.to("alice@example.org")) == 1
    (row,) = rows()
    assert row.status == "sent" and row.sent_at is not None and row.lease_until is None


def test_notifying_the_same_event_twice_sends_one_email(app, members, mailbox):
    alice = members.make(email="alice@example.org")
    notify_by_email([alice], event="same")
    notify_by_email([alice], event="same")
    dispatch_due()
    assert len(mailbox.to("alice@example.org")) == 1


def test_one_smtp_connection_carries_a_whole_batch(app, members, mailbox, monkeypatch):
    people = [members.make() for _ in range(5)]
    notify_by_email(people)
    connections = []
    real_connect = dispatcher.EmailChannel._connect

    def counting_connect(self):
        connections.append(1)
        return real_connect(self)

    monkeypatch.setattr(dispatcher.EmailChannel, "_connect", counting_connect)
    assert dispatch_due().sent == 5
    assert len(connections) == 1
    assert len(mailbox.messages) == 5


def test_email_says_what_happened_and_links_to_it_without_confidential_content(
    app, members, mailbox
):
    alice = members.make(email="alice@example.org", name="Alice Canary-Name")
    notify_by_email([alice])
    dispatch_due()
    (message,) = mailbox.to("alice@example.org")
    raw = mailbox.raw[0].decode()
    body = message.get_body().get_content()
    assert message["Subject"] == "New reply in a thread you follow"
    assert "http://127.0.0.1:5000/threads/abc123" in body
    assert "Canary-7f3a" not in raw and "555 0199" not in raw
    assert "Canary-Name" not in raw


def test_recipient_address_is_never_stored_in_the_outbox(app, members):
    alice = members.make(email="canary-address@example.org")
    notify_by_email([alice])
    db.session.commit()
    (row,) = rows()
    stored = " ".join(str(getattr(row, c.key)) for c in OutboxMessage.__table__.columns)
    assert "canary-address" not in stored


def test_message_id_is_stable_across_retries(app, members, mailbox):
    alice = members.make(email="alice@example.org")
    notify_by_email([alice])
    mail = app.config["EXCHANGE"]["mail"]
    port = mail["smtp_port"]
    mail["smtp_port"] = closed_port()
    assert dispatch_due().retrying == 1
    mail["smtp_port"] = port
    make_due_now()
    assert dispatch_due().sent == 1
    (row,) = rows()
    (message,) = mailbox.to("alice@example.org")
    assert message["Message-ID"] == row.message_id == f"<{row.id}@invictm-exchange>"
    assert row.attempts == 2


def test_smtp_server_down_means_retry_later_with_backoff(app, members, mailbox):
    alice = members.make()
    notify_by_email([alice])
    app.config["EXCHANGE"]["mail"]["smtp_port"] = closed_port()
    before = utcnow()
    result = dispatch_due()
    (row,) = rows()
    base = app.config["EXCHANGE"]["delivery"]["retry_base_seconds"]
    assert result.retrying == 1
    assert row.status == "pending" and row.attempts == 1 and row.lease_until is None
    assert row.last_error == "connection refused"
    assert row.due_at >= before + timedelta(seconds=base / 2)
    # Not due yet: a sweep now sends nothing and does not count an attempt.
    assert dispatch_due().claimed == 0
    assert mailbox.messages == []


def test_backoff_grows_exponentially_with_jitter():
    delays = [backoff_seconds(n, 30) for n in range(1, 8)]
    for n, delay in enumerate(delays, start=1):
        full = 30 * 2 ** (n - 1)
        assert full / 2 <= delay <= full
    assert backoff_seconds(50, 30) <= dispatcher.MAX_BACKOFF_SECONDS


def test_delivery_fails_after_max_attempts_and_coordinators_see_it(
    app, members, mailbox, make_browser
):
    coordinator = members.coordinator()
    alice = members.make()
    notify_by_email([alice], event="lost")
    app.config["EXCHANGE"]["delivery"]["max_attempts"] = 3
    app.config["EXCHANGE"]["mail"]["smtp_port"] = closed_port()
    outcomes = []
    for _ in range(3):
        outcomes.append(dispatch_due())
        make_due_now()
    assert [o.retrying for o in outcomes] == [1, 1, 0]
    assert outcomes[-1].failed == 1
    (row,) = rows()
    assert row.status == "failed" and row.attempts == 3
    page = make_browser(coordinator).get("/notifications/failed")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert row.id in text and "connection refused" in text
    assert make_browser(alice).get("/notifications/failed").status_code == 403


def test_coordinator_retries_a_failed_delivery_and_it_goes_out(app, members, mailbox, make_browser):
    coordinator = members.coordinator()
    alice = members.make(email="alice@example.org")
    notify_by_email([alice])
    app.config["EXCHANGE"]["delivery"]["max_attempts"] = 1
    smtp = app.config["EXCHANGE"]["mail"]
    port, smtp["smtp_port"] = smtp["smtp_port"], closed_port()
    assert dispatch_due().failed == 1
    smtp["smtp_port"] = port
    (row,) = rows()
    member_says = make_browser(alice).post(f"/notifications/failed/{row.id}/retry")
    assert member_says.status_code == 403
    response = make_browser(coordinator).post(f"/notifications/failed/{row.id}/retry")
    assert response.status_code == 302
    assert dispatch_due().sent == 1
    assert len(mailbox.to("alice@example.org")) == 1


def test_without_smtp_host_mail_is_written_as_eml_files(app, members, mailbox):
    app.config["EXCHANGE"]["mail"]["smtp_host"] = ""
    alice = members.make(email="alice@example.org")
    notify_by_email([alice])
    assert dispatch_due().sent == 1
    (row,) = rows()
    path = os.path.join(app.instance_path, "outbox-mail", f"{row.id}.eml")
    assert os.stat(path).st_mode & 0o777 == 0o600
    with open(path, "rb") as handle:
        message = message_from_bytes(handle.read(), policy=default_policy)
    assert message["To"] == "alice@example.org"
    assert message["Message-ID"] == row.message_id
    assert "Canary-7f3a" not in message.as_string()
    assert mailbox.messages == []


def test_a_leased_row_is_not_sent_twice_but_an_expired_lease_is_taken_over(app, members, mailbox):
    alice = members.make(email="alice@example.org")
    notify_by_email([alice])
    # Another process claimed it a moment ago and is still sending.
    db.session.execute(update(OutboxMessage).values(lease_until=utcnow() + timedelta(seconds=60)))
    db.session.commit()
    assert dispatch_due().claimed == 0
    # That process died: its lease runs out and the sweep sends the row.
    db.session.execute(update(OutboxMessage).values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert dispatch_due().sent == 1
    assert len(mailbox.to("alice@example.org")) == 1


def test_urgent_rows_are_claimed_before_older_ordinary_ones(app, members, mailbox):
    people = [members.make() for _ in range(3)]
    notify_by_email(people, event="ordinary")
    urgent = notify_by_email([people[0]], event="urgent", urgent=True)
    dispatch_due(limit=1)
    (sent,) = [r for r in rows() if r.status == "sent"]
    assert sent.id == urgent[0]


def test_dispatch_ids_sends_only_those_rows(app, members, mailbox):
    alice, bob = members.make(email="alice@example.org"), members.make(email="bob@example.org")
    alice_ids = notify_by_email([alice], event="a")
    notify_by_email([bob], event="b")
    assert dispatch_ids(alice_ids).sent == 1
    assert len(mailbox.to("alice@example.org")) == 1 and mailbox.to("bob@example.org") == []


def test_mail_to_a_suspended_member_is_cancelled_not_sent(app, members, mailbox):
    alice = members.make(email="alice@example.org")
    notify_by_email([alice])
    alice.status = "suspended"
    db.session.commit()
    assert dispatch_due().cancelled == 1
    assert mailbox.messages == []
    assert rows()[0].status == "cancelled"


def test_invite_mail_opens_the_sealed_address_and_link(app, members, mailbox):
    from forum.crypto import envelope

    key = envelope.new_data_key("invite")
    enqueue_external(
        idempotency_key="invite:x:email",
        channel="email",
        kind="invite",
        subject="Your invitation",
        body="You have been invited.",
        link="/join",
        recipient="newcomer@example.org",
        recipient_key=key,
        secret_link="http://127.0.0.1:5000/invite/SECRET-TOKEN",
    )
    db.session.commit()
    (row,) = rows()
    assert b"newcomer" not in (row.recipient_sealed or b"") and "SECRET" not in row.link
    assert dispatch_due().sent == 1
    (message,) = mailbox.to("newcomer@example.org")
    assert "http://127.0.0.1:5000/invite/SECRET-TOKEN" in message.get_body().get_content()


def test_concurrent_dispatchers_send_every_message_exactly_once(app, members, mailbox):
    people = [members.make() for _ in range(12)]
    for n in range(3):
        notify_by_email(people, event=f"burst-{n}")
    results = []
    errors = []

    def run() -> None:
        with app.app_context():
            try:
                for _ in range(10):
                    result = dispatch_due(limit=5)
                    results.append(result.sent)
                    if result.claimed == 0:
                        break
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(results) == 36
    ids = [m["Message-ID"] for m in mailbox.messages]
    assert len(ids) == 36 and len(set(ids)) == 36
    assert {r.status for r in rows()} == {"sent"}


@pytest.mark.parametrize("status", ["sent", "bounced", "cancelled"])
def test_purge_deletes_old_delivered_rows_but_keeps_failed_ones(app, members, status):
    from forum.notify.jobs import purge_delivered

    alice = members.make()
    notify_by_email([alice], event="old")
    notify_by_email([alice], event="failed")
    old, failed = rows()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == old.id)
        .values(status=status, created_at=utcnow() - timedelta(days=40))
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == failed.id)
        .values(status="failed", created_at=utcnow() - timedelta(days=40))
    )
    db.session.commit()
    assert purge_delivered() == 1
    db.session.commit()
    assert [r.id for r in db.session.scalars(select(OutboxMessage))] == [failed.id]
