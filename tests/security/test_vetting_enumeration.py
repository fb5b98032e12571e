"""Issue 9 item 16: the nomination form does not tell a member whether an address belongs to a
member (or is already nominated). The answer is the same, and so is the work the server does
(the same SQL statements, in the same order); coordinators see the duplicate in the queue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from forum.extensions import db
from forum.members.models import Nomination


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _nominate(browser: Any, address: str) -> tuple[Any, list[str]]:
    token = browser.csrf_token()  # fetched first, so only the POST is counted
    form = {
        "csrf_token": token,
        "email": address,
        "name": "Sam Example",
        "organisation": "Somewhere",
        "reason": "Known to me for years.",
    }
    with _statements() as seen:
        response = browser.post("/nominate", form)
    return response, seen


def test_nominating_a_members_address_looks_and_works_like_any_other(app, members, make_browser):
    existing = members.make(email="already.in@example.org", name="Existing Member")
    first, second = make_browser(members.make()), make_browser(members.make())
    on_member, work_member = _nominate(first, "already.in@example.org")
    on_stranger, work_stranger = _nominate(second, "stranger@example.org")
    assert on_member.status_code == on_stranger.status_code == 302
    assert on_member.headers["Location"] == on_stranger.headers["Location"]
    assert work_member == work_stranger  # the same statements, in the same order
    shown = [b.get("/nominate").get_data(as_text=True) for b in (first, second)]
    assert all("The coordinators will vet your nomination." in page for page in shown)
    # What the page says (its main part; the page's script texts mention "already" for push).
    said = [page[page.index("<main") : page.index("</main>")] for page in shown]
    assert all("already" not in page for page in said)
    assert len(db.session.scalars(select(Nomination)).all()) == 2
    queue = make_browser(members.coordinator()).get("/admin/vetting").get_data(as_text=True)
    assert f"This address already belongs to a member: {existing.display_name}" in queue


def test_nominating_an_address_already_nominated_gives_the_same_answer(app, members, make_browser):
    first, second, third = members.make(), members.make(), members.make()
    _nominate(make_browser(first), "wanted@example.org")
    again, work_again = _nominate(make_browser(second), "wanted@example.org")
    fresh, work_fresh = _nominate(make_browser(third), "someone.else@example.org")
    assert again.status_code == fresh.status_code == 302
    assert work_again == work_fresh
    queue = make_browser(members.coordinator()).get("/admin/vetting").get_data(as_text=True)
    assert queue.count("(the same address)") == 2  # each of the pair names the other
