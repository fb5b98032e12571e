"""Regenerate the initial revision from the current models: `python migrations/regenerate.py`.

For use before the first release only, while there is a single revision: it deletes
versions/*_0001_*.py, autogenerates revision 0001 against an empty SQLite database, and appends
what autogenerate cannot see (the audit log's append-only triggers, per dialect).
After the first release, schema changes are new revisions: `exchange db migrate -m "…"`.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import flask_migrate  # noqa: E402

from forum import create_app  # noqa: E402
from forum.crypto.keyring import create_keyring  # noqa: E402
from forum.security.audit import APPEND_ONLY_TRIGGERS  # noqa: E402

REVISION = "0001"

TRIGGERS = '''

# The audit log is append-only in the database itself (as forum/security/audit.py creates it
# for create_all): autogenerate cannot see triggers, so they are written here per dialect.
AUDIT_APPEND_ONLY = {statements}


def create_audit_triggers() -> None:
    """Make audit_events refuse UPDATE and DELETE."""
    for statement in AUDIT_APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def drop_audit_function() -> None:
    """Dropping the table drops its triggers; PostgreSQL keeps the function."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
'''


def main() -> None:
    """Delete and regenerate revision 0001."""
    versions = HERE / "versions"
    others = [p for p in versions.glob("*.py") if f"_{REVISION}_" not in p.name]
    if others:
        sys.exit(
            f"Other revisions exist ({', '.join(p.name for p in others)}); add a new one instead."
        )
    for old in versions.glob(f"*_{REVISION}_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        create_keyring(instance / "keyring.json")
        app = create_app(
            {
                "app": {"secret_key": secrets.token_urlsafe(48), "instance_path": str(instance)},
                "database": {"url": f"sqlite:///{instance / 'schema.db'}"},
            },
            check_keyring=False,
        )
        with app.app_context():
            flask_migrate.migrate(directory=str(HERE), message="initial schema", rev_id=REVISION)
    (generated,) = versions.glob(f"*_{REVISION}_*.py")
    text = generated.read_text(encoding="utf-8")
    text = text.replace(
        "    # ### end Alembic commands ###\n\n\ndef downgrade",
        "    # ### end Alembic commands ###\n    create_audit_triggers()\n\n\ndef downgrade",
        1,
    )
    assert "create_audit_triggers()" in text, "upgrade() has the shape autogenerate writes"
    # The statements are copied in, not imported: a migration stays as it was written.
    triggers = TRIGGERS.replace("{statements}", repr(APPEND_ONLY_TRIGGERS))
    text = text.rstrip("\n") + "\n    drop_audit_function()\n" + triggers
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    generated.write_text(text, encoding="utf-8")
    ruff = shutil.which("ruff")
    if ruff:  # keep the generated file in the project's style
        subprocess.run([ruff, "check", "--fix", "--quiet", str(generated)], check=False)  # noqa: S603
        subprocess.run([ruff, "format", "--quiet", str(generated)], check=False)  # noqa: S603
    print(f"Wrote {generated.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
