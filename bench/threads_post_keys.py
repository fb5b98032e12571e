"""What a data key per post costs a cold reader: opening N post bodies with an empty key cache,
sealed (1) all under one thread key, as before issue 9 item 4, and (2) each under its own key —
one by one in creation order (as the search index's cold build opens them; a miss reads the next
keys ahead) and a page at a time with envelope.preload (as a thread page does). Same run.

Run: python bench/threads_post_keys.py   (a few seconds; SQLite in a temporary folder)
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure  # noqa: E402

from forum import create_app  # noqa: E402
from forum.crypto import envelope  # noqa: E402
from forum.crypto.envelope import ensure_keyring_matches  # noqa: E402
from forum.crypto.keyring import create_keyring  # noqa: E402
from forum.extensions import db  # noqa: E402

N = 3000
PAGE = 20


def _cold(app) -> None:  # type: ignore[no-untyped-def]
    app.extensions["exchange.envelope"].cache = type(app.extensions["exchange.envelope"].cache)()


def main() -> None:
    """Print the time to open N sealed bodies with a cold cache, per layout, and the ratios."""
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        create_keyring(instance / "keyring.json")
        app = create_app(
            {
                "app": {"secret_key": secrets.token_urlsafe(48), "instance_path": folder},
                "database": {"url": f"sqlite:///{instance / 'bench.db'}"},
                "scheduler": {"enabled": False},
            },
            check_keyring=False,
        )
        with app.app_context():
            db.create_all()
            ensure_keyring_matches()
            shared = envelope.new_data_key("thread")
            body = "A lesson about the first 48 hours after an attack. " * 10
            one_key = [envelope.seal(shared, f"post:{i}:body", body) for i in range(N)]
            keys = [envelope.new_data_key("post").id for _ in range(N)]
            own_keys = [envelope.seal(k, f"post:{i}:body", body) for i, k in enumerate(keys)]
            db.session.commit()
            figures = {}
            _cold(app)
            started = time.perf_counter()
            for i, blob in enumerate(one_key):
                envelope.open_text(blob, f"post:{i}:body")
            figures["one thread key"] = time.perf_counter() - started
            _cold(app)
            started = time.perf_counter()
            for i, blob in enumerate(own_keys):
                envelope.open_text(blob, f"post:{i}:body")
            figures["a key per post, one by one"] = time.perf_counter() - started
            _cold(app)
            started = time.perf_counter()
            for low in range(0, N, PAGE):
                envelope.preload(set(keys[low : low + PAGE]))
                for i in range(low, min(low + PAGE, N)):
                    envelope.open_text(own_keys[i], f"post:{i}:body")
            figures["a key per post, pages of 20 preloaded"] = time.perf_counter() - started
    base = figures["one thread key"]
    print(f"opening {N} post bodies with a cold key cache (SQLite):")
    for name, seconds in list(figures.items())[1:]:
        figure(
            f"threads: cold open of a post, {name}",
            seconds / N * 1e6,
            "one thread key",
            base / N * 1e6,
            "µs/post",
            goal="under 10x",
            higher_is_better=False,
        )


if __name__ == "__main__":
    main()
