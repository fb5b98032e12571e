"""The board tells coordinators how the alert reached each member: seen in the app, pushed to
a device, e-mail accepted — and it is theirs alone."""

from __future__ import annotations

from forum.alerts import services
from forum.extensions import db
from forum.notify import preferences
from forum.notify.dispatcher import dispatch_due
from tests.support.alerts import raise_alert


def test_the_board_shows_per_member_how_the_alert_reached_them(
    app, members, push_service, add_device, make_browser
):
    raiser = members.make()
    coordinator = members.coordinator()
    phone_user, mail_user, gone_user = members.make(), members.make(), members.make()
    add_device(phone_user)
    preferences.save_choices(phone_user, {"urgent_alerts": "push"})
    preferences.save_choices(mail_user, {"urgent_alerts": "email"})
    gone, _ = add_device(gone_user)
    preferences.save_choices(gone_user, {"urgent_alerts": "push"})
    push_service.answers[gone.path] = 410
    db.session.commit()

    alert = raise_alert(raiser)
    before = {row.member.id: row.reached for row in services.board(coordinator, alert.id).waiting}
    assert before[phone_user.id].push == "sending" and before[mail_user.id].email == "waiting"
    dispatch_due()
    db.session.commit()
    services.answer_alert(mail_user, alert.id, "seen")  # answering marks her notice read
    db.session.commit()

    board = services.board(coordinator, alert.id)
    reached = {row.member.id: row.reached for row in board.answered + board.waiting}
    assert reached[phone_user.id].push == "accepted"
    assert reached[phone_user.id].email is None and not reached[phone_user.id].seen_in_app
    assert reached[mail_user.id].email == "accepted" and reached[mail_user.id].push is None
    assert reached[mail_user.id].seen_in_app
    assert reached[gone_user.id].push == "not delivered"

    page = make_browser(coordinator).get(f"/alerts/{alert.id}/board").get_data(as_text=True)
    assert "Phone: accepted" in page and "E-mail: accepted" in page and "Seen in app" in page
    assert make_browser(phone_user).get(f"/alerts/{alert.id}/board").status_code == 404
    raisers_view = make_browser(raiser).get(f"/alerts/{alert.id}/board").get_data(as_text=True)
    assert "Reached by" not in raisers_view and "Phone:" not in raisers_view  # members' choices
