"""The Web Push foundations: the VAPID key lives in the keyring file, and quiet hours end when
the member's own clock says so (summer time included)."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from forum.crypto.keyring import Keyring, KeyringError, create_keyring, load_keyring
from forum.notify.preferences import quiet_until


def test_a_new_keyring_holds_a_p256_vapid_key_in_its_0600_file(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_keyring(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_keyring(path)
    assert loaded.vapid_key is not None
    key = serialization.load_der_private_key(loaded.vapid_key, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"


def test_a_keyring_made_before_web_push_gets_a_vapid_key_once(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    old = Keyring.generate()
    old.vapid_key = None
    old.save(path)
    assert "vapid" not in json.loads(path.read_text())
    keyring = load_keyring(path)
    assert keyring.ensure_vapid() is True
    first = load_keyring(path).vapid_key
    assert first is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_keyring(path)
    assert again.ensure_vapid() is False
    assert load_keyring(path).vapid_key == first


def test_a_damaged_vapid_key_is_refused_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_keyring(path)
    data = json.loads(path.read_text())
    data["vapid"] = "bm90IGEga2V5"
    path.write_text(json.dumps(data))
    with pytest.raises(KeyringError, match="damaged"):
        load_keyring(path)


@pytest.mark.parametrize(
    ("now", "zone", "start", "end", "expected"),
    [
        # 23:30 in Paris in winter (UTC+1), quiet 22:00–07:00: ends 07:00 Paris = 06:00 UTC.
        (
            datetime(2026, 1, 15, 22, 30, tzinfo=UTC),
            "Europe/Paris",
            22 * 60,
            7 * 60,
            datetime(2026, 1, 16, 6, 0, tzinfo=UTC),
        ),
        # 02:00 in Paris in summer (UTC+2): ends 07:00 Paris = 05:00 UTC the same day.
        (
            datetime(2026, 7, 15, 0, 0, tzinfo=UTC),
            "Europe/Paris",
            22 * 60,
            7 * 60,
            datetime(2026, 7, 15, 5, 0, tzinfo=UTC),
        ),
        # The night summer time starts (29 March 2026): 07:00 is already UTC+2.
        (
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            "Europe/Paris",
            22 * 60,
            7 * 60,
            datetime(2026, 3, 29, 5, 0, tzinfo=UTC),
        ),
        # Outside the quiet hours: nothing is held.
        (datetime(2026, 1, 15, 12, 0, tzinfo=UTC), "Europe/Paris", 22 * 60, 7 * 60, None),
        # A daytime period in Warsaw, 12:00–14:00, at 12:30 local.
        (
            datetime(2026, 1, 15, 11, 30, tzinfo=UTC),
            "Europe/Warsaw",
            12 * 60,
            14 * 60,
            datetime(2026, 1, 15, 13, 0, tzinfo=UTC),
        ),
        # start == end: no quiet hours.
        (datetime(2026, 1, 15, 22, 30, tzinfo=UTC), "Europe/Paris", 0, 0, None),
    ],
)
def test_quiet_hours_end_by_the_members_own_clock(
    now: datetime, zone: str, start: int, end: int, expected: datetime | None
) -> None:
    assert quiet_until(start, end, zone, now) == expected
