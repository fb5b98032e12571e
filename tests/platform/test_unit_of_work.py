"""The request owns its unit of work, and a domain error becomes a page once, at app level.

A route that answers below 400 is committed by the app; one that answers 400 or more, or whose
service raises NotFound / NotAllowed / Invalid, is rolled back. A refused form comes back with
the person's text and the message at its field. Work queued with `after_commit` runs only after
a commit. These are exercised through real routes on the real app, as a browser would."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask, render_template_string
from sqlalchemy import func, select
from wtforms import StringField

from forum import db as uow
from forum.errors import Invalid, NotAllowed, NotFound
from forum.extensions import db
from forum.forms import Form
from forum.members import services as members
from forum.members.models import Organisation

FORM_PAGE = """<form method="post">{{ form.csrf_token }}
<label for="title">Title</label>{{ form.title() }}
{% for error in form.title.errors %}<p class="error">{{ error }}</p>{% endfor %}
{% for error in form.form_errors %}<p class="form-error">{{ error }}</p>{% endfor %}
</form>"""

ran: list[str] = []


class TitleForm(Form):
    title = StringField("Title")


def _organisation(name: str) -> None:
    members.get_or_create_organisation(name, country="BE", sector="ngo")


def _count(name: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).where(Organisation.name == name)) or 0


@pytest.fixture
def routes(app: Flask) -> Flask:
    bp = Blueprint("uow_probe", __name__)

    @bp.post("/probe/write")
    def write() -> Any:
        _organisation("Written")
        uow.after_commit(lambda: ran.append("committed"))
        return "ok"

    @bp.post("/probe/refused")
    def refused() -> Any:
        _organisation("Refused")
        uow.after_commit(lambda: ran.append("refused"))
        raise NotAllowed("Only coordinators may do this.")

    @bp.get("/probe/missing")
    def missing() -> Any:
        raise NotFound()

    @bp.post("/probe/bad-answer")
    def bad_answer() -> Any:
        _organisation("Bad answer")
        return "no", 409

    @bp.post("/probe/kept")
    def kept() -> Any:
        _organisation("Kept")
        uow.keep_on_refusal()
        return "counted", 401

    @bp.route("/probe/form", methods=["GET", "POST"])
    def form() -> Any:
        page = TitleForm()
        if page.validate_on_submit():
            _organisation(page.title.data)
            if page.title.data.startswith("Taken"):
                raise Invalid("That title is taken; please choose another.", field="title")
            if page.title.data.startswith("Odd"):
                raise Invalid("That cannot be done now.")
            return "saved", 201
        return render_template_string(FORM_PAGE, form=page)

    app.register_blueprint(bp)
    ran.clear()
    return app


def test_a_successful_request_is_committed_by_the_app_and_then_runs_its_after_commit_work(
    routes, browser
):
    assert browser.post("/probe/write").status_code == 200
    assert _count("Written") == 1
    assert ran == ["committed"]


def test_a_refused_request_is_rolled_back_and_its_after_commit_work_forgotten(routes, browser):
    response = browser.post("/probe/refused")
    assert response.status_code == 403
    assert "Only coordinators may do this." in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert _count("Refused") == 0
    assert ran == []


def test_not_found_from_a_service_is_the_friendly_404_page(routes, browser):
    response = browser.get("/probe/missing")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_an_answer_of_400_or_more_rolls_back_what_the_view_wrote(routes, browser):
    assert browser.post("/probe/bad-answer").status_code == 409
    assert _count("Bad answer") == 0


def test_writes_kept_on_purpose_stand_although_the_answer_is_a_refusal(routes, browser):
    assert browser.post("/probe/kept").status_code == 401
    assert _count("Kept") == 1


def test_a_form_a_service_refused_comes_back_with_the_text_kept_and_the_message_at_its_field(
    routes, browser
):
    response = browser.post("/probe/form", data={"title": "Taken: lessons from Brussels"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Taken: lessons from Brussels"' in page
    assert '<p class="error">That title is taken; please choose another.</p>' in page
    assert _count("Taken: lessons from Brussels") == 0


def test_a_refusal_for_no_field_is_shown_with_the_form(routes, browser):
    response = browser.post("/probe/form", data={"title": "Odd one"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="form-error">That cannot be done now.</p>' in page
    assert 'value="Odd one"' in page


def test_the_same_form_accepted_is_committed(routes, browser):
    assert browser.post("/probe/form", data={"title": "Accepted"}).status_code == 201
    assert _count("Accepted") == 1


def test_after_commit_once_queues_a_named_step_once_and_a_rollback_forgets_it(app):
    calls: list[str] = []
    uow.after_commit(lambda: calls.append("a"), once="wake")
    uow.after_commit(lambda: calls.append("b"), once="wake")
    db.session.commit()
    assert calls == ["a"]
    uow.after_commit(lambda: calls.append("c"))
    db.session.rollback()
    db.session.commit()
    assert calls == ["a"]


def test_after_commit_work_runs_with_the_requests_connection_back_in_the_pool(app):
    # A follow-up that opens a connection of its own (the read marker does) must not need a
    # second one while the first is still held: sixteen page threads on a pool of fifteen
    # then waited on each other until the pool's 30 s timeout and every page failed.
    held: list[int] = []
    db.session.execute(select(Organisation.id).limit(1)).all()  # the session holds a connection
    assert db.engine.pool.checkedout() == 1
    uow.after_commit(lambda: held.append(db.engine.pool.checkedout()))
    db.session.commit()
    assert held == [0]


def test_a_follow_up_that_writes_on_its_own_connection_needs_only_one_from_the_pool(app):
    engine = db.engine
    db.session.execute(select(Organisation.id).limit(1)).all()
    peak: list[int] = []

    def own_write() -> None:
        with engine.connect() as connection:
            peak.append(engine.pool.checkedout())
            connection.execute(select(1))

    uow.after_commit(own_write)
    db.session.commit()
    assert peak == [1]


def test_pending_scratch_lives_for_one_transaction(app):
    first = uow.pending("ids", list)
    first.append("x")
    assert uow.pending("ids", list) == ["x"]
    db.session.commit()
    assert uow.pending("ids", list) == []


def test_releasing_the_write_lock_with_unflushed_changes_refuses_rather_than_losing_them(app):
    db.session.add(Organisation(id="0" * 32, name="Unflushed", country="BE", sector="ngo"))
    with pytest.raises(RuntimeError, match="lose them"):
        with uow.write_lock_released():
            pass
    db.session.rollback()
