"""A serving process builds its search index as it starts, on a thread of its own, so the first
search after a restart finds the index ready instead of paying the cold start."""

from __future__ import annotations

import pytest

from forum.extensions import db
from forum.ops import asgi
from forum.threads import search as search_module
from forum.threads.search import Query


def test_serving_starts_the_index_build_and_the_first_search_finds_it_ready(
    app, members, threads, monkeypatch: pytest.MonkeyPatch
):
    threads.start(members.make(), title="Interpreters roster", body="The interpreters rota.")
    db.session.commit()
    started = []
    monkeypatch.setattr(asgi, "settle_heap", lambda: None)  # no gc.freeze in the test process
    app.extensions[asgi.SERVING_STARTS] = [
        lambda a: started.append(search_module.warm_in_background(a))
    ]
    asgi.create_asgi(app)
    assert len(started) == 1
    started[0].join(timeout=60)
    index = search_module.index()
    assert index.ready.is_set() and index.built and index.size() >= 1
    built_at = index.build_seconds
    reader = members.make()
    results = search_module.search(reader, Query(text="interpreters"))
    assert [r.title for r in results.items] == ["Interpreters roster"]
    assert index.build_seconds == built_at  # the search did not build again


def test_every_app_asks_serving_to_warm_its_search_index(app):
    assert search_module.warm_in_background in app.extensions[asgi.SERVING_STARTS]


def test_a_failed_background_build_leaves_the_first_search_to_build(
    app, members, threads, monkeypatch: pytest.MonkeyPatch, caplog
):
    threads.start(members.make(), title="Shelter rota", body="Shelter volunteers by shift.")
    db.session.commit()
    real_build = search_module.SearchIndex.build
    calls = []

    def failing_once(self):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real_build(self)

    monkeypatch.setattr(search_module.SearchIndex, "build", failing_once)
    search_module.warm_in_background(app).join(timeout=60)
    assert "could not be built in the background" in caplog.text
    assert not search_module.index().ready.is_set()
    results = search_module.search(members.make(), Query(text="shelter"))
    assert [r.title for r in results.items] == ["Shelter rota"] and len(calls) == 2
