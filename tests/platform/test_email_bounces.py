"""Bounce reading from the outside: an alert e-mail leaves with a VERP envelope sender that
names its row; the relay later sends a bounce report to that address, the Exchange's bounce
receiver reads it, and the response board tells the coordinator the e-mail bounced."""

from __future__ import annotations

import re
import smtplib
import threading
from pathlib import Path

import pytest

from forum import create_app
from forum.extensions import db
from forum.notify.verp import Verp
from forum.scheduling.leader import LeaderLock, run_as_leader
from forum.scheduling.runtime import DeliveryRuntime
from tests.platform.bounce_helpers import BOUNCE_ADDRESS, alert_by_email, email_row
from tests.platform.cli_helpers import STRONG_SECRET, exchange, write_config
from tests.support.app import make_test_config
from tests.support.bounces import deliver, exim_report, gmail_report, postfix_report
from tests.support.net import free_port


def _row_of(html: str, name: str) -> str:
    """The board's table row of the member with this display name."""
    (row,) = [row for row in re.findall(r"<tr.*?</tr>", html, re.S) if f">{name}</td>" in row]
    return row


def _listening(port: int) -> bool:
    """Whether an SMTP server answers on the port (greeted, then a polite QUIT)."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as probe:
            probe.noop()
    except OSError:
        return False
    return True


def test_an_alert_email_leaves_from_a_verp_address_that_names_only_its_row(
    app, members, mailbox, bounce_address
):
    mailed = alert_by_email(members, mailbox, "hanna.lind@member.invictm.test")
    verp = Verp.from_settings(app.config["EXCHANGE"])
    assert verp is not None
    assert mailed.envelope == verp.address_for(mailed.row_id)
    local, domain = mailed.envelope.split("@")
    assert domain == "exchange.invictm.test" and local.startswith("bounces+")
    assert verp.row_of(mailed.envelope) == mailed.row_id
    # The token names the row and nothing else: no member, address or alert in it.
    for secret in (mailed.member.id, mailed.alert.id, "hanna", "lind", "member.invictm"):
        assert secret not in mailed.envelope
    # The From: header the member sees is unchanged; only the envelope carries the token.
    assert b"From: INVICTM Exchange <exchange@invictm.test>" in mailed.raw
    assert mailed.envelope.encode() not in mailed.raw


def test_without_a_bounce_address_the_envelope_sender_is_the_from_address(app, members, mailbox):
    mailed = alert_by_email(members, mailbox, "no.verp@member.invictm.test")
    assert mailed.envelope == "exchange@invictm.test"


@pytest.mark.parametrize(
    ("mail", "key"),
    [
        ('bounce_address = "not an address"', "mail.bounce_address"),
        ('bounce_address = "bounces+x@exchange.example.org"', "mail.bounce_address"),
        (f'bounce_address = "{"b" * 30}@exchange.example.org"', "mail.bounce_address"),
        ('bounce_address = "b@exchange.example.org"\nbounce_listen = "8026"', "mail.bounce_listen"),
        ('bounce_listen = "127.0.0.1:8026"', "mail.bounce_listen"),
    ],
    ids=["not-an-address", "plus", "local-part-too-long", "listen-no-port", "listen-no-address"],
)
def test_a_wrong_bounce_setting_stops_the_start_naming_the_key(tmp_path: Path, mail, key):
    body = f'[app]\nsecret_key = "{STRONG_SECRET}"\n[mail]\n{mail}\n'
    result = exchange(tmp_path, "--config", str(write_config(tmp_path, body)), "init")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_postfix_bounce_shows_on_the_board_as_bounced(
    app, members, mailbox, bounce_receiver, make_browser
):
    mailed = alert_by_email(members, mailbox, "ines.duarte@member.invictm.test")
    name = mailed.member.display_name
    board = make_browser(mailed.coordinator).get(f"/alerts/{mailed.alert.id}/board")
    assert "E-mail: accepted" in _row_of(board.get_data(as_text=True), name)

    report = postfix_report(envelope=mailed.envelope, recipient=mailed.address, original=mailed.raw)
    deliver(bounce_receiver.address[1], mailed.envelope, report)

    row = email_row(mailed.row_id)
    assert (row.status, row.bounce_code) == ("bounced", "5.1.1")
    assert row.bounced_at is not None and row.sent_at is not None
    page = make_browser(mailed.coordinator).get(f"/alerts/{mailed.alert.id}/board")
    row_html = _row_of(page.get_data(as_text=True), name)
    assert "E-mail: bounced" in row_html and "E-mail: accepted" not in row_html
    # Styled as a delivery that did not reach her, like "not accepted".
    assert '<span class="badge reach-email reach-failed">E-mail: bounced</span>' in row_html


@pytest.mark.parametrize(
    ("shape", "code"), [(exim_report, "5.0.0"), (gmail_report, "5.1.1")], ids=["exim", "gmail"]
)
def test_an_exim_or_gmail_bounce_marks_the_row_bounced(
    app, members, mailbox, bounce_receiver, shape, code
):
    mailed = alert_by_email(members, mailbox, "piet.claes@member.invictm.test")
    report = shape(envelope=mailed.envelope, recipient=mailed.address, original=mailed.raw)
    deliver(bounce_receiver.address[1], mailed.envelope, report)
    row = email_row(mailed.row_id)
    assert (row.status, row.bounce_code) == ("bounced", code)


def test_a_second_bounce_for_the_same_row_changes_nothing(app, members, mailbox, bounce_receiver):
    mailed = alert_by_email(members, mailbox, "twice@member.invictm.test")
    first = postfix_report(envelope=mailed.envelope, recipient=mailed.address, original=mailed.raw)
    deliver(bounce_receiver.address[1], mailed.envelope, first)
    before = email_row(mailed.row_id)
    bounced_at, code = before.bounced_at, before.bounce_code
    again = exim_report(envelope=mailed.envelope, recipient=mailed.address, original=mailed.raw)
    deliver(bounce_receiver.address[1], mailed.envelope, again)
    after = email_row(mailed.row_id)
    assert (after.status, after.bounced_at, after.bounce_code) == ("bounced", bounced_at, code)


def test_the_french_board_says_bounced_in_french(
    app, members, mailbox, bounce_receiver, make_browser
):
    mailed = alert_by_email(members, mailbox, "claire.roux@member.invictm.test")
    mailed.coordinator.locale = "fr"
    db.session.commit()
    report = postfix_report(envelope=mailed.envelope, recipient=mailed.address, original=mailed.raw)
    deliver(bounce_receiver.address[1], mailed.envelope, report)
    html = make_browser(mailed.coordinator).get(f"/alerts/{mailed.alert.id}/board")
    row_html = _row_of(html.get_data(as_text=True), mailed.member.display_name)
    assert "revenu non distribué" in row_html


# --- where the receiver runs -----------------------------------------------------------------


class _NeverLeader(LeaderLock):
    """Another process holds the scheduler lock: this one stands by."""

    def acquire(self) -> bool:
        return False

    def still_held(self) -> bool:
        return False

    def release(self) -> None:
        pass


def _bounce_settings(app) -> int:
    port = free_port()
    app.config["EXCHANGE"]["mail"]["bounce_address"] = BOUNCE_ADDRESS
    app.config["EXCHANGE"]["mail"]["bounce_listen"] = f"127.0.0.1:{port}"
    return port


def test_the_receiver_listens_while_the_scheduler_runs_and_stops_with_it(app):
    port = _bounce_settings(app)
    runtime = DeliveryRuntime(app)
    runtime.start()
    try:
        assert _listening(port)
    finally:
        runtime.stop()
    assert not _listening(port)


def test_a_standby_process_does_not_listen_for_bounces(app):
    port = _bounce_settings(app)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_as_leader, args=(app, stop), kwargs={"lock": _NeverLeader()}
    )
    thread.start()
    try:
        assert not stop.wait(0.5)
        assert not _listening(port)
    finally:
        stop.set()
        thread.join(timeout=10)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_building_the_app_starts_no_receiver(instance, backend):
    port = free_port()
    config = make_test_config(instance, backend, None)
    config["mail"].update(bounce_address=BOUNCE_ADDRESS, bounce_listen=f"127.0.0.1:{port}")
    application = create_app(config, check_keyring=False)
    assert application.config["EXCHANGE"]["mail"]["bounce_listen"].endswith(str(port))
    assert not _listening(port)
    with application.app_context():
        db.engine.dispose()
