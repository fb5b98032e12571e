"""Bounce reading from the outside: an alert e-mail leaves with a VERP envelope sender that
names its row (and nothing else), so a bounce report the relay sends back later can say which
e-mail it is about; a wrong bounce setting stops the start."""

from __future__ import annotations

from pathlib import Path

import pytest

from forum.notify.verp import Verp
from tests.platform.bounce_helpers import alert_by_email
from tests.platform.cli_helpers import STRONG_SECRET, exchange, write_config


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
    ],
    ids=["not-an-address", "plus", "local-part-too-long"],
)
def test_a_wrong_bounce_setting_stops_the_start_naming_the_key(tmp_path: Path, mail, key):
    body = f'[app]\nsecret_key = "{STRONG_SECRET}"\n[mail]\n{mail}\n'
    result = exchange(tmp_path, "--config", str(write_config(tmp_path, body)), "init")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], result.stderr
    assert "Traceback" not in result.stderr
