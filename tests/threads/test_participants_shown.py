"""A TLP:RED thread shows who is on it — names and organisations — to those who may read it,
and to nobody else; other labels list nobody (every member may read them)."""

from __future__ import annotations


def test_red_thread_page_lists_its_participants_with_their_organisations(
    members, threads, make_browser
):
    police = members.organisation("Federal Police", "BE")
    ngo = members.organisation("Ligue d'aide aux victimes", "FR")
    author = members.make(name="Alma Author", organisation=police)
    named = members.make(name="Nina Named", organisation=ngo)
    outsider = members.make(name="Otto Outsider")
    thread = threads.start(author, label="RED", participants=[named])
    page = make_browser(named).get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "On this thread (2)" in page
    assert "<strong>Alma Author</strong>, Federal Police" in page
    assert "<strong>Nina Named</strong>, Ligue d&#39;aide aux victimes" in page
    assert "Otto Outsider" not in page
    hidden = make_browser(outsider).get(f"/threads/{thread.id}")
    assert hidden.status_code == 404 and "Nina Named" not in hidden.get_data(as_text=True)


def test_a_coordinator_who_only_sees_a_red_thread_exists_is_not_told_who_is_on_it(
    members, threads, make_browser
):
    author = members.make(name="Alma Author")
    named = members.make(name="Nina Named")
    thread = threads.start(author, label="RED", participants=[named])
    page = make_browser(members.coordinator()).get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "A TLP:RED thread" in page and "Nina Named" not in page


def test_an_amber_thread_lists_no_participants(members, threads, make_browser):
    author = members.make(name="Alma Author")
    thread = threads.start(author, label="AMBER")
    page = make_browser(members.make()).get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "On this thread" not in page
