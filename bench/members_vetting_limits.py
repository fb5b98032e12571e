"""One member's burst of 50 urgent alerts (the attack of issue 9 item 10), with and without the
per-member limits, through the Flask test client on the embedded default (SQLite).

Figures, each against a baseline measured in the same run:
1. e-mails queued by the burst with limits on, vs the same burst with limits off;
2. alerts created with limits on, vs limits off;
3. mean time of a refused raise (the count query and the form), vs an accepted raise.

Bounded: 2 x 50 requests, 100 members, in-process (no network at all); well under a minute.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.figures import figure  # noqa: E402
from forum import create_app  # noqa: E402
from forum.alerts.models import Alert  # noqa: E402
from forum.crypto.envelope import ensure_keyring_matches  # noqa: E402
from forum.crypto.keyring import create_keyring  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.notify.models import OutboxMessage  # noqa: E402
from tests.conftest import Browser, Members, make_test_config  # noqa: E402

MEMBERS = 100
BURST = 50
ALERT = {
    "kind": "attack",
    "severity": "critical",
    "title": "Burst",
    "city": "Lyon",
    "country": "fr",
    "occurred_at": "2026-11-28T15:00",
    "needs": "x",
}


def burst(limits_on: bool) -> tuple[int, int, list[float], list[float]]:
    """Alerts and e-mails a 50-alert burst leaves, and the times of accepted and refused raises."""
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder) / "instance"
        instance.mkdir()
        create_keyring(instance / "keyring.json")
        config = make_test_config(instance, "sqlite", None)
        if not limits_on:
            config["limits"] = {"alerts_per_hour": 0}
        app = create_app(config, check_keyring=False)
        app.config["TESTING"] = True
        with app.app_context():
            db.create_all()
            ensure_keyring_matches()
            db.session.commit()
            people = Members()
            raiser = people.make(commit=False)
            for _ in range(MEMBERS - 1):
                people.make(commit=False)
            db.session.commit()
            browser = Browser(app.test_client()).sign_in_as(raiser)
            token = browser.csrf_token()
            accepted: list[float] = []
            refused: list[float] = []
            for n in range(BURST):
                started = time.perf_counter()
                status = browser.post(
                    "/alerts/new", {**ALERT, "title": f"Burst {n}", "csrf_token": token}
                ).status_code
                (accepted if status == 302 else refused).append(time.perf_counter() - started)
            alerts = int(db.session.scalar(select(func.count()).select_from(Alert)) or 0)
            mails = int(
                db.session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.channel == "email")
                )
                or 0
            )
            db.session.remove()
            db.engine.dispose()
        return alerts, mails, accepted, refused


def main() -> None:
    on_alerts, on_mails, on_accepted, on_refused = burst(limits_on=True)
    off_alerts, off_mails, _off_accepted, _ = burst(limits_on=False)
    figure(
        "members: e-mails queued by a 50-alert burst, limits on",
        on_mails,
        "the same burst, limits off",
        off_mails,
        "e-mails",
        goal="3 alerts' worth",
        higher_is_better=False,
    )
    figure(
        "members: alerts created by a 50-alert burst, limits on",
        on_alerts,
        "the same burst, limits off",
        off_alerts,
        "alerts",
        higher_is_better=False,
    )
    figure(
        "members: mean time of a refused raise (limit reached)",
        statistics.mean(on_refused) * 1000,
        "an accepted raise, same run",
        statistics.mean(on_accepted) * 1000,
        "ms",
        goal="well under 1x",
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
