"""One way to seal a model's columns: the `SealedColumns` mixin.

A sealed column is `<name>_sealed` (AES-256-GCM, `forum.crypto.envelope`), bound to its row and
column by the associated data `<table>:<row id>:<column>`, so a value copied to another row or
column does not open. The data key is the row's own (`dek_id`), unless the model names another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from forum.crypto import envelope


class SealedColumns:
    """Mixin: `open(column)` and `seal(column, text)` for a model's `*_sealed` columns."""

    # The table word of the associated data (kept stable: changing it orphans every value).
    __sealed_table__: ClassVar[str] = ""
    if TYPE_CHECKING:
        id: str

    def sealing_key_id(self) -> str:
        """The data key this row's columns are sealed under (the row's own `dek_id`)."""
        return str(getattr(self, "dek_id"))  # noqa: B009 - a column the subclass defines

    def sealed_context(self, column: str) -> str:
        """The associated data that binds a value to this row and column."""
        return envelope.context(self.__sealed_table__, self.id, column)

    def open(self, column: str) -> str:
        """Open one sealed text column ('' when it holds nothing)."""
        blob = getattr(self, f"{column}_sealed")
        if not blob:
            return ""
        return envelope.open_text(blob, self.sealed_context(column))

    def open_bytes(self, column: str) -> bytes:
        """Open one sealed binary column (b'' when it holds nothing)."""
        blob = getattr(self, f"{column}_sealed")
        if not blob:
            return b""
        return envelope.open_bytes(blob, self.sealed_context(column))

    def seal(self, column: str, value: str | bytes, *, key_id: str | None = None) -> None:
        """Seal a value into one column (None for an empty value)."""
        blob = (
            envelope.seal(key_id or self.sealing_key_id(), self.sealed_context(column), value)
            if value
            else None
        )
        setattr(self, f"{column}_sealed", blob)
