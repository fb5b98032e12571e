"""The service worker's links, run in Node on the shipped static/sw.js: whatever a payload says,
an answer (with its credential) and an opened window stay on this site; and a previous
member's waiting answers leave a shared browser with her device (found by the review)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static"
ORIGIN = "https://exchange.invictm.test"


def _function(source: str, name: str) -> str:
    start = source.index(f"function {name}(")
    depth, i = 0, source.index("{", start)
    while True:
        depth += {"{": 1, "}": -1}.get(source[i], 0)
        i += 1
        if depth == 0:
            return source[start:i]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (README: two commands)")
@pytest.mark.parametrize(
    "url",
    [
        "/.//evil.example/x",
        "/..//evil.example/x",
        "/a/..//evil.example",
        "//evil.example/x",
        "https://evil.example/alerts/1",
        "javascript:alert(1)",
        "/alerts/abc123",
    ],
)
def test_a_payload_url_never_makes_the_answer_or_the_window_leave_the_site(url: str) -> None:
    worker = (STATIC / "sw.js").read_text()
    script = (
        _function(worker, "inAppUrl")
        + _function(worker, "onThisSite")
        + f"""
var self = {{ location: {{ origin: {json.dumps(ORIGIN)} }} }};
var kept = inAppUrl({json.dumps(url)});
var answer = onThisSite(kept.replace(/\\/$/, "") + "/device-answer");
var opened = onThisSite(kept);
console.log(JSON.stringify([new URL(answer).origin, new URL(opened).origin, kept]));
"""
    )
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    answer_origin, opened_origin, kept = json.loads(out.stdout)
    assert (answer_origin, opened_origin) == (ORIGIN, ORIGIN)
    if url == "/alerts/abc123":
        assert kept == url


def test_a_released_device_takes_the_previous_members_waiting_answers_with_it() -> None:
    forget = _function((STATIC / "pwa.js").read_text(), "forgetDevice")
    assert re.search(r'delete\("credential"\)', forget)
    assert re.search(r'IDBKeyRange\.bound\("answer:"', forget)
    # A waiting tap goes with the credential it was made under, never a later one.
    send = _function((STATIC / "sw.js").read_text(), "sendAnswer")
    assert "tap.credential" in send and "readCredential" not in send
