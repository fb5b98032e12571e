"""Search finds words, phrases, authors, categories, tags, labels and dates in the threads a
member may read — never in others — and keeps up with writes made by other processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.markup import tlp
from forum.threads import services
from forum.threads.models import Category, Post, SearchChange
from forum.threads.search import Query, SearchIndex, search


def _titles(member, **query) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.title for r in search(member, Query(**query)).items]


def test_words_phrases_and_highlighted_excerpts(members, threads):
    reader = members.make()
    threads.start(
        members.make(),
        title="Reunification centre",
        body="The reunification centre "
        "opened within two hours of the blast; families waited in the sports hall.",
    )
    threads.start(members.make(), title="Hall logistics", body="The hall was booked for sports.")
    results = search(reader, Query(text="sports hall"))
    assert {r.title for r in results.items} == {"Reunification centre", "Hall logistics"}
    phrase = search(reader, Query(text='"sports hall"'))
    assert [r.title for r in phrase.items] == ["Reunification centre"]
    assert "<mark>sports</mark> <mark>hall</mark>" in str(phrase.items[0].excerpt)
    assert search(reader, Query(text="Réunification")).total >= 1  # accents and case fold
    assert search(reader, Query(text="nonexistentword")).total == 0


def test_search_never_returns_threads_the_member_cannot_read(members, threads):
    author, named, outsider = members.make(), members.make(), members.make()
    coordinator = members.coordinator()
    threads.start(
        author,
        label=tlp.RED,
        participants=[named],
        title="Redroom plans",
        body="redroom detail",
        tags=["redroom"],
    )
    assert _titles(named, text="redroom") == ["Redroom plans"]  # one result per thread
    for member in (outsider, coordinator):
        assert _titles(member, text="redroom") == []
        assert _titles(member, tag="redroom") == []
        assert _titles(member, label=tlp.RED) == []


def test_filters_author_category_tag_label_and_dates(members, threads):
    ana, ben = members.make(), members.make()
    reader = members.make()
    category = threads.category()
    other = db.session.scalar(select(Category).where(Category.slug == "symposium"))
    threads.start(
        ana,
        title="Alpha",
        body="common word",
        tags=["psychology"],
        label=tlp.GREEN,
        category=category,
    )
    threads.start(
        ben, title="Beta", body="common word", tags=["logistics"], label=tlp.CLEAR, category=other
    )
    assert set(_titles(reader, text="common", author_id=ana.id)) == {"Alpha"}
    assert set(_titles(reader, text="common", category_id=other.id)) == {"Beta"}
    assert set(_titles(reader, tag="psychology")) == {"Alpha"}
    assert set(_titles(reader, text="common", label=tlp.CLEAR)) == {"Beta"}
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert _titles(reader, text="common", date_from=tomorrow) == []
    assert len(_titles(reader, text="common", date_to=tomorrow)) == 2


def test_edits_deletions_and_hidden_posts_are_reflected(members, threads):
    author, reader, coordinator = members.make(), members.make(), members.coordinator()
    thread = threads.start(author, title="T", body="oldword")
    assert search(reader, Query(text="oldword")).total == 1
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    services.edit_post(editor=author, post=post, body="newword", pii_confirmed=True)
    db.session.commit()
    assert search(reader, Query(text="oldword")).total == 0
    assert search(reader, Query(text="newword")).total == 1
    reply = threads.reply(author, thread, "hideme")
    from forum.threads import moderation

    moderation.set_hidden(coordinator=coordinator, post=reply, hidden=True)
    db.session.commit()
    assert search(reader, Query(text="hideme")).total == 0
    services.delete_thread(actor=author, thread=thread)
    db.session.commit()
    assert search(reader, Query(text="newword")).total == 0


def test_an_index_in_another_process_catches_up_from_the_change_counter(members, threads):
    reader, author = members.make(), members.make()
    other_process = SearchIndex()
    other_process.catch_up()  # built (empty) before anything was written
    thread = threads.start(author, title="Written elsewhere", body="crossprocessword")
    before = other_process.last_change
    assert other_process.search(reader, Query(text="crossprocessword")).total == 1
    assert other_process.last_change > before
    threads.reply(author, thread, "secondcrossword")
    assert other_process.search(reader, Query(text="secondcrossword")).total == 1
    assert db.session.scalar(select(SearchChange.thread_id).limit(1)) == thread.id


def test_label_change_to_red_is_picked_up_by_search(members, threads):
    author, reader = members.make(), members.make()
    thread = threads.start(author, label=tlp.GREEN, body="soontobered")
    assert search(reader, Query(text="soontobered")).total == 1
    services.change_label(actor=author, thread=thread, label=tlp.RED, confirm_lowering=False)
    db.session.commit()
    assert search(reader, Query(text="soontobered")).total == 0
    assert search(reader, Query(text="soontobered", label=tlp.GREEN)).total == 0


def test_search_page_through_the_web(members, threads, make_browser):
    threads.start(members.make(), title="Webfindable title", body="webfindable body")
    page = make_browser(members.make()).get("/threads/search?q=webfindable").get_data(as_text=True)
    assert "1 result, one per thread" in page and "<mark>webfindable</mark>" in page.lower()


def test_pruned_change_rows_make_a_lagging_process_rebuild(members, threads):
    from forum.threads.jobs import prune_search_changes

    reader, author = members.make(), members.make()
    lagging = SearchIndex()
    lagging.catch_up()
    threads.start(author, body="beforeprune")
    lagging.catch_up()
    threads.start(author, body="afterprune")
    for row in db.session.scalars(select(SearchChange)):
        row.created_at = datetime.now(UTC) - timedelta(days=30)
    db.session.commit()
    assert prune_search_changes() > 0
    db.session.commit()
    assert lagging.search(reader, Query(text="afterprune")).total == 1
    assert lagging.search(reader, Query(text="beforeprune")).total == 1
