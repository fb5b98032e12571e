"""A full disk for attachments, for real: the attachment store is a 64 KB tmpfs. Uploading a file
that does not fit gives a clear error with the reply's text kept, and leaves nothing half-written."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from forum.extensions import db
from forum.threads import services as threads
from forum.threads.models import Attachment, Post
from tests.support.members import Members

pytestmark = pytest.mark.slow


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB tmpfs mounted for this test (needs root, as CI and this machine run)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    folder = tmp_path / "attachments"
    folder.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"this sandbox does not allow mounting a tmpfs: {result.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_an_attachment_that_does_not_fit_on_the_disk_fails_clearly_and_leaves_nothing(
    app: Flask, tiny_disk: Path, make_browser: object
) -> None:
    app.config["EXCHANGE"]["uploads"]["path"] = str(tiny_disk)
    author = Members().make()
    thread = threads.start_thread(
        author=author,
        category=None,
        title="After-action report",
        body="The report follows.",
        label="AMBER",
    )
    db.session.commit()
    posts_before = db.session.scalar(select(func.count()).select_from(Post))
    report = b"%PDF-1.4\n" + os.urandom(200 * 1024) + b"\n%%EOF\n"  # 200 KB: larger than the disk
    browser = make_browser(author)  # type: ignore[operator]
    response = browser.post(
        f"/threads/{thread.id}/posts",
        {
            "body": "Our after-action report is attached.",
            "attachment": (io.BytesIO(report), "report.pdf"),
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code in (422, 507)
    assert "Our after-action report is attached." in page  # the reply's text is kept
    assert "Traceback" not in page
    assert "space" in page.lower() or "room" in page.lower()
    assert [p for p in tiny_disk.rglob("*") if p.is_file()] == []  # nothing half-written
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert db.session.scalar(select(func.count()).select_from(Post)) == posts_before
