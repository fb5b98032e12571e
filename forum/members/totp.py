"""Second factor: TOTP secrets (sealed), codes accepted once only, and single-use recovery codes."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Any, cast

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult

from forum.crypto import blind_index, envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.members.models import Member, RecoveryCode

STEP_SECONDS = 30
# Codes from the step before and after are accepted too: phones' clocks drift.
WINDOW = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i
RECOVERY_INDEX = "member.recovery-code"


def new_secret() -> str:
    """A fresh random TOTP secret (160 bits, base32)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of a URI as inline SVG markup, rendered on the server (no script)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    markup: str = image.to_string(encoding="unicode")
    # Drop the XML declaration: the markup is embedded in an HTML page.
    if markup.startswith("<?xml"):
        markup = markup[markup.index("?>") + 2 :]
    return markup


def grouped_secret(secret: str) -> str:
    """The secret in groups of four characters, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean_code(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


def matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time step whose code matches, or None (checks the neighbouring steps too)."""
    digits = _clean_code(code)
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int((now or utcnow()).timestamp()) // STEP_SECONDS
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), digits):
            return step
    return None


def seal_secret(member: Member, secret: str, column: str = "totp_secret") -> None:
    """Seal a TOTP secret into one of the member's columns (totp_secret or totp_pending)."""
    blob = envelope.seal(member.dek_id, envelope.context("member", member.id, column), secret)
    setattr(member, f"{column}_sealed", blob)


def open_secret(member: Member, column: str = "totp_secret") -> str | None:
    """The member's TOTP secret (or the one being enrolled), opened; None when there is none."""
    blob = getattr(member, f"{column}_sealed")
    if blob is None:
        return None
    return envelope.open_text(blob, envelope.context("member", member.id, column))


def claim_step(member: Member, step: int) -> bool:
    """Record a used time step; False when it (or a later one) was used already (a replay)."""
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(Member)
            .where(Member.id == member.id, Member.totp_last_step < step)
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount == 1:
        member.totp_last_step = step
        return True
    return False


def verify_totp(member: Member, code: str, now: datetime | None = None) -> bool:
    """True for a current code from the member's app that was not accepted before."""
    secret = open_secret(member)
    if secret is None:
        return False
    step = matching_step(secret, code, now)
    return step is not None and claim_step(member, step)


def _recovery_hash(member: Member, code: str) -> bytes:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return blind_index(RECOVERY_INDEX, f"{member.id}:{cleaned}")


def new_recovery_codes(member: Member) -> list[str]:
    """Replace the member's recovery codes with ten fresh ones; only their keyed hashes are kept."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    codes = []
    now = utcnow()
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.session.add(
            RecoveryCode(
                id=new_id(),
                member_id=member.id,
                code_hash=_recovery_hash(member, code),
                created_at=now,
            )
        )
    db.session.flush()
    return codes


def use_recovery_code(member: Member, code: str) -> bool:
    """Spend one of the member's unused recovery codes; False when it is wrong or already spent."""
    digest = _recovery_hash(member, code)
    row_id = db.session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.member_id == member.id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None),
        )
    )
    if row_id is None:
        return False
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.id == row_id, RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount == 1


def recovery_codes_left(member: Member) -> int:
    """How many unused recovery codes the member has."""
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )
