"""Two answers at once from one member, on PostgreSQL: both find no answer yet and insert one;
the second meets uq_alert_answers_member and is applied to the first's row by the same rule.
PostgreSQL only (this module's backend): on SQLite the write lock orders the two first."""

from __future__ import annotations

from typing import Any

import pytest

from forum.alerts import services
from forum.extensions import db
from tests.push.test_device_answers import _answer_of, _at_once, _tap
from tests.support.alerts import raise_alert
from tests.support.app import backends


@pytest.fixture(params=[p for p in backends() if p.id == "postgresql"])
def backend(request: pytest.FixtureRequest) -> Any:
    return request.param


def test_two_taps_at_once_from_two_devices_both_answer_without_a_500(
    app, members, add_device, backend
):
    """ "Seen" on the phone and "I can help" on the laptop at the same moment: both find no
    answer yet and insert one; the second's insert meets uq_alert_answers_member and is
    applied to the first's row by the same rule ("I can help" replaces "Seen", never the
    other way). PostgreSQL only: on SQLite the write lock orders them first."""
    member = members.make()
    _phone, on_phone = add_device(member)
    _laptop, on_laptop = add_device(member)
    codes: list[int] = []
    for _round in range(5):
        alert_id = raise_alert(members.make()).id
        _at_once(
            lambda a=alert_id: codes.append(_tap(app, a, on_phone, "seen").status_code),
            lambda a=alert_id: codes.append(_tap(app, a, on_laptop, "can_help").status_code),
        )
        assert _answer_of(member.id, alert_id) == "can_help", codes
    assert codes == [204] * 10


def test_an_answer_on_the_page_and_a_tap_at_once_both_count_without_an_error(
    app, members, add_device, backend
):
    """The same race on the page's path: the page's answer and a tap on the phone."""
    member = members.make()
    _phone, on_phone = add_device(member)
    errors: list[BaseException] = []
    codes: list[int] = []

    def on_the_page(alert_id: str) -> None:
        with app.app_context():
            try:
                services.answer_alert(db.session.merge(member), alert_id, "can_help")
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)
            finally:
                db.session.remove()

    for _round in range(5):
        alert_id = raise_alert(members.make()).id
        _at_once(
            lambda a=alert_id: on_the_page(a),
            lambda a=alert_id: codes.append(_tap(app, a, on_phone, "seen").status_code),
        )
        assert _answer_of(member.id, alert_id) in ("can_help", "seen")
    assert errors == [] and codes == [204] * 5
