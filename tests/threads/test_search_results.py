"""Search answers one result per thread with its best excerpt, as plain escaped text with the
matched words highlighted, and finds words by their beginning (three letters or more)."""

from __future__ import annotations

from forum.threads.search import Query, search


def test_one_result_per_thread_with_its_best_excerpt(members, threads):
    author, reader = members.make(), members.make()
    thread = threads.start(author, title="Hotline after the blast", body="The hotline opened.")
    threads.reply(author, thread, "We staffed the hotline with volunteers.")
    threads.reply(author, thread, "Interpreters joined the hotline volunteers on day two.")
    threads.reply(author, thread, "Nothing about that here.")
    threads.start(author, title="Other", body="Volunteers for the hotline in Lyon.")
    results = search(reader, Query(text="hotline volunteers"))
    assert [r.title for r in results.items].count("Hotline after the blast") == 1
    assert results.total == 2 and len(results.items) == 2
    first = next(r for r in results.items if r.thread.id == thread.id)
    assert first.seq == 3  # the newest post holding both words
    assert "<mark>hotline</mark>" in str(first.excerpt)
    assert "<mark>volunteers</mark>" in str(first.excerpt)


def test_excerpts_are_plain_text_without_markdown_marks_and_escaped(members, threads):
    author, reader = members.make(), members.make()
    threads.start(
        author,
        title="Formatting",
        body=(
            "## Debrief\n\n**Trauma** support _first_, see [the guide](https://example.org/g) "
            "and `<script>alert(1)</script>` never runs.\n\n> quoted trauma line"
        ),
    )
    result = search(reader, Query(text="trauma")).items[0]
    shown = str(result.excerpt)
    for mark in ("**", "##", "_first_", "](", "`", "> quoted"):
        assert mark not in shown, mark
    assert "<mark>Trauma</mark> support first, see the guide and" in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "<script>" not in shown
    assert "https://example.org" not in shown


def test_a_word_is_found_by_its_first_letters(members, threads):
    author, reader = members.make(), members.make()
    threads.start(author, title="Police liaison officers", body="Each family had a liaison.")
    threads.start(author, title="Lists", body="A list of contacts.")
    found = search(reader, Query(text="liais"))
    assert [r.title for r in found.items] == ["Police liaison officers"]
    assert "<mark>liaison</mark>" in str(found.items[0].excerpt)
    assert search(reader, Query(text="li")).total == 0  # two letters: the whole word only
    assert {r.title for r in search(reader, Query(text="lis")).items} == {"Lists"}
    assert [r.title for r in search(reader, Query(text="police liais")).items] == [
        "Police liaison officers"
    ]


def test_the_search_page_shows_one_result_per_thread(members, threads, make_browser):
    author = members.make()
    thread = threads.start(author, title="Liaison desk", body="The *liaison* desk opened.")
    threads.reply(author, thread, "A second liaison post.")
    page = make_browser(members.make()).get("/threads/search?q=liais").get_data(as_text=True)
    assert page.count("Liaison desk</a>") == 1 and "1 result, one per thread" in page
    assert "*liaison*" not in page
