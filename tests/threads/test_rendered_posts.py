"""The in-memory cache of rendered post lists (forum/threads/rendered.py): what a member sees is
never another session's list, and every change shows on the next view."""

from __future__ import annotations

import re
import sys

from forum.extensions import db
from forum.members.services import set_sealed
from forum.threads import rendered
from forum.threads.models import Post
from forum.threads.posts import delete_post, edit_post

DELETE_FORM = re.compile(
    r'action="/threads/posts/(?P<post>[^"/]+)/delete"[^>]*>'
    r'<input type="hidden" name="csrf_token" value="(?P<token>[^"]+)"'
)


def _page(browser, thread) -> str:
    response = browser.get(f"/threads/{thread.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _own_delete_token(page: str, post_id: str) -> str:
    found = {m["post"]: m["token"] for m in DELETE_FORM.finditer(page)}
    assert post_id in found, "the author's own post carries its delete form"
    return found[post_id]


def test_a_second_device_of_the_same_member_gets_forms_of_its_own_session(
    app, members, threads, make_browser
):
    author = members.make()
    thread = threads.start(author, body="First post")
    mine = threads.reply(author, thread, "My reply, to delete later")
    phone, laptop = make_browser(author), make_browser(author)
    _page(phone, thread)
    _page(phone, thread)  # now in the cache, with the phone session's tokens
    assert len(app.extensions[rendered.EXTENSION_KEY]) >= 1
    laptop_page = _page(laptop, thread)
    token = _own_delete_token(laptop_page, mine.id)
    # The laptop's token is the laptop session's: the delete from the laptop is accepted ...
    answer = laptop.post(f"/threads/posts/{mine.id}/delete", {"csrf_token": token})
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, mine.id).is_deleted


def test_a_token_from_one_session_is_refused_in_another(app, members, threads, make_browser):
    author = members.make()
    thread = threads.start(author, body="First post")
    mine = threads.reply(author, thread, "A reply that stays")
    phone, laptop = make_browser(author), make_browser(author)
    _page(phone, thread)
    phone_token = _own_delete_token(_page(phone, thread), mine.id)
    answer = laptop.post(f"/threads/posts/{mine.id}/delete", {"csrf_token": phone_token})
    assert answer.status_code == 400
    db.session.expire_all()
    assert not db.session.get(Post, mine.id).is_deleted


def test_another_member_never_sees_the_authors_tools(members, threads, make_browser):
    author, reader = members.make(), members.make()
    thread = threads.start(author, body="First post")
    mine = threads.reply(author, thread, "The author's reply")
    author_browser = make_browser(author)
    _page(author_browser, thread)
    _own_delete_token(_page(author_browser, thread), mine.id)
    reader_page = _page(make_browser(reader), thread)
    assert "The author's reply" in reader_page
    assert f"/threads/posts/{mine.id}/delete" not in reader_page
    assert f"/threads/posts/{mine.id}/edit" not in reader_page


def test_an_edit_a_hidden_post_and_a_new_name_show_on_the_next_view(members, threads, make_browser):
    author, reader, coordinator = members.make(), members.make(), members.coordinator()
    thread = threads.start(author, body="First post")
    post = threads.reply(author, thread, "Before the edit")
    browser = make_browser(reader)
    assert "Before the edit" in _page(browser, thread)
    assert "Before the edit" in _page(browser, thread)

    edit_post(editor=author, post=post, body="After the edit", pii_confirmed=True)
    db.session.commit()
    page = _page(browser, thread)
    assert "After the edit" in page and "Before the edit" not in page

    set_sealed(author, "name", "Renamed Author")
    db.session.commit()
    assert "Renamed Author" in _page(browser, thread)

    assert make_browser(coordinator).post(f"/threads/posts/{post.id}/hide").status_code == 302
    page = _page(browser, thread)
    assert "After the edit" not in page and "hidden by a coordinator" in page


def test_the_list_follows_the_readers_language(members, threads, make_browser):
    reader = members.make()
    thread = threads.start(members.make(), body="First post")
    browser = make_browser(reader)
    assert "Flag" in _page(browser, thread)
    assert browser.post("/language", {"language": "de", "next": "/"}).status_code == 303
    page = _page(browser, thread)
    assert 'lang="de"' in page and ">Melden<" in page


def test_the_cache_is_bounded_in_bytes_as_held_and_in_age():
    one = rendered.RenderedPosts.cost(rendered.Markup("x" * 30))
    cache = rendered.RenderedPosts(max_bytes=3 * one, max_age=600)
    for n in range(10):
        cache.put(bytes([n]), "t", rendered.Markup("x" * 30))
    assert cache.size <= cache.max_bytes and len(cache) == 3
    assert cache.get(bytes([9])) is not None and cache.get(bytes([0])) is None
    cache.put(b"big", "t", rendered.Markup("x" * 4 * one))  # larger than the whole cache
    assert cache.get(b"big") is None
    old = rendered.RenderedPosts(max_bytes=10_000, max_age=0)
    old.put(b"k", "t", rendered.Markup("x"))
    assert old.get(b"k") is None and old.size == 0


def test_a_text_with_an_emoji_is_counted_at_the_bytes_python_holds():
    plain = rendered.Markup("x" * 50_000)
    emoji = rendered.Markup("x" * 49_999 + "\N{SMILING FACE WITH SMILING EYES}")
    assert rendered.RenderedPosts.cost(emoji) > 3 * rendered.RenderedPosts.cost(plain)
    cache = rendered.RenderedPosts(max_bytes=1_000_000)
    for n in range(10):
        cache.put(bytes([n]), "t", rendered.Markup(emoji + str(n)))
    held = sum(sys.getsizeof(entry[2]) for entry in cache._entries.values())
    assert held <= cache.max_bytes


def test_a_deleted_posts_text_leaves_memory_when_the_delete_commits(
    app, members, threads, make_browser
):
    author = members.make()
    thread = threads.start(author, body="First post")
    post = threads.reply(author, thread, "The family lives at 12 Canary Street")
    browser = make_browser(members.make())
    assert "12 Canary Street" in _page(browser, thread)
    cache = app.extensions[rendered.EXTENSION_KEY]
    assert any("12 Canary Street" in e[2] for e in cache._entries.values())
    delete_post(actor=author, post=post)
    db.session.commit()
    assert not any("12 Canary Street" in e[2] for e in cache._entries.values())
    assert "12 Canary Street" not in _page(browser, thread)


def test_a_hidden_post_leaves_memory_at_once(app, members, threads, make_browser):
    author, coordinator = members.make(), members.coordinator()
    thread = threads.start(author, body="First post")
    post = threads.reply(author, thread, "A name that should not be here")
    assert "should not be here" in _page(make_browser(members.make()), thread)
    assert make_browser(coordinator).post(f"/threads/posts/{post.id}/hide").status_code == 302
    cache = app.extensions[rendered.EXTENSION_KEY]
    assert not any("should not be here" in e[2] for e in cache._entries.values())


def test_nobody_reading_again_does_not_keep_an_old_list(monkeypatch):
    cache = rendered.RenderedPosts(max_bytes=1_000_000, max_age=120)
    cache.put(b"k", "t", rendered.Markup("opened text"))
    later = rendered.time.monotonic() + 121
    monkeypatch.setattr(rendered.time, "monotonic", lambda: later)
    cache.sweep()  # what the sweeper thread does every SWEEP_SECONDS
    assert len(cache) == 0 and cache.size == 0
