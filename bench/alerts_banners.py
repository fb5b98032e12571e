"""What the server-rendered alert banners cost a page (in-process test client, SQLite).

Figure: median time to render /threads for a member with 5 open alerts waiting for her answer
(5 banners, among 2,000 older notifications of hers), against the same page for a member with
none in the same run. Bounded: 200 requests each, well under a minute.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench._common import prepare_instance, session_cookie  # noqa: E402
from bench.figures import figure  # noqa: E402
from forum.alerts import services  # noqa: E402
from forum.alerts.models import Alert  # noqa: E402
from forum.crypto import envelope  # noqa: E402
from forum.db import utcnow  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from forum.notify.outbox import notify  # noqa: E402
from tests.alerts.bulk import bulk_members  # noqa: E402

REQUESTS = 200


def _medians_ms(app, first: str, second: str) -> tuple[float, float]:  # noqa: ANN001
    """Median page times for two members, their requests interleaved (the load drifts alike)."""
    clients = []
    for cookie in (first, second):
        client = app.test_client()
        client.set_cookie("exchange_session", cookie.split("=", 1)[1])
        client.get("/threads")  # warm
        clients.append(client)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(REQUESTS):
        for client, bucket in zip(clients, times, strict=True):
            started = time.perf_counter()
            response = client.get("/threads")
            bucket.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    """Measure the page with five banners against the same page with none."""
    folder = Path(tempfile.mkdtemp(prefix="alerts-banners-"))
    app = prepare_instance(folder, ratelimit_enabled=False).app()
    with app.app_context():
        raiser, waiting, quiet = bulk_members(3, hash_password("bench password 0123456789"))
        db.session.commit()
        for n in range(5):
            services.raise_alert(
                raiser,
                kind="attack",
                title=f"Bench alert {n}",
                city="Brussels",
                country="BE",
                occurred_at=utcnow() - timedelta(minutes=n),
                needs="Nothing: a benchmark",
                severity="high",
            )
        key = envelope.new_data_key("bench")
        db.session.flush()
        for n in range(2000):  # an old inbox: the banner query must not read all of it
            notify(
                [waiting],
                event_key=f"bench:{n}",
                kind="thread.reply",
                text="x",
                key=key,
                link="/threads",
            )
        db.session.commit()
        with_banners = session_cookie(app, waiting)
        # The quiet member answers every alert: same page, no banner.
        for alert_id in list(db.session.scalars(select(Alert.id))):
            services.answer_alert(quiet, alert_id, "seen")
        db.session.commit()
        without = session_cookie(app, quiet)
    value, baseline = _medians_ms(app, with_banners, without)
    figure(
        "alerts banners: /threads with 5 banners, median",
        value,
        "the same page with no banner",
        baseline,
        "ms",
        goal="within 1.3x",
        higher_is_better=False,
    )
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
