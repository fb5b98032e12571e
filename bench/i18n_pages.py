"""What speaking the member's language costs a page: the signed-in start page and a thread page of
20 posts rendered in Polish (the catalogue with the most plural forms) and in German, against the
same pages in English (gettext returns the msgid), measured interleaved in the same run,
in-process (the Flask test client), so the figure is the catalogue lookups and CLDR formatting
and nothing of the network.

Goal (issue 13): within 1.1x of English.
Run: python bench/i18n_pages.py   (about 30 s; no network; temporary files removed)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median, prepare_instance, session_cookie  # noqa: E402
from _threads_data import bodies, make_members  # noqa: E402
from figures import figure  # noqa: E402

from forum.extensions import db  # noqa: E402
from forum.threads import services  # noqa: E402

ROUNDS = 15
PER_ROUND = 20
POSTS = 20


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-i18n-") as tmp:
        instance = prepare_instance(Path(tmp) / "instance", ratelimit_enabled=False)
        app = instance.app()
        with app.app_context():
            people = make_members(5)
            category = services.ensure_default_categories()[0]
            thread = services.start_thread(
                author=people[0],
                category=category,
                title="Liaison",
                body="First post.",
                label="AMBER",
            )
            for body in bodies(POSTS - 1):
                services.reply(author=people[1], thread=thread, body=body, pii_confirmed=True)
            cookies = {}
            for code, member in zip(("en", "pl", "de"), people[2:], strict=True):
                member.locale = code
                cookies[code] = session_cookie(app, member)
            thread_path = f"/threads/{thread.id}"
            db.session.commit()
        clients = {}
        for code, cookie in cookies.items():
            client = app.test_client()
            client.set_cookie(cookie.split("=", 1)[0], cookie.split("=", 1)[1])
            clients[code] = client
        timings: dict[tuple[str, str], list[float]] = {}
        for path in ("/", thread_path):
            for client in clients.values():  # warm every cache once
                warm = client.get(path)
                assert warm.status_code == 200, (
                    path,
                    warm.status_code,
                    warm.headers.get("Location"),
                )
        for _ in range(ROUNDS):  # interleaved: each round measures every language
            for path in ("/", thread_path):
                for code, client in clients.items():
                    started = time.perf_counter()
                    for _ in range(PER_ROUND):
                        response = client.get(path)
                    elapsed = (time.perf_counter() - started) / PER_ROUND * 1000
                    assert response.status_code == 200
                    timings.setdefault((path, code), []).append(elapsed)
    for path, name in (("/", "start page"), (thread_path, "thread page, 20 posts")):
        english = median(timings[(path, "en")])
        for code, language in (("pl", "Polish"), ("de", "German")):
            figure(
                f"i18n: {name} in {language}",
                median(timings[(path, code)]),
                "the same page in English",
                english,
                "ms",
                goal="within 1.1x",
                higher_is_better=False,
            )


if __name__ == "__main__":
    main()
