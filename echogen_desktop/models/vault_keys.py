"""The Key Vault list: one row per stored key, and a proxy that searches provider and alias.

The model never holds a plaintext key. While the vault is unlocked the section hands it the last
four characters of each key for the masked column (``••••abcd``); ``clear()`` on lock drops them
together with the rows.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QIcon

from echogen_desktop.i18n import translate
from echogen_desktop.models.roles import Role
from echogen_desktop.services.vault_service import VaultEntry

ModelIndex = QModelIndex | QPersistentModelIndex
MASK = "\u2022" * 4
TAIL_CHARS = 4
MIN_LENGTH_FOR_TAIL = 12  # a short key would be mostly revealed by its last four characters
WARN_RATIO = 0.8
_USER = int(Qt.ItemDataRole.UserRole)



def tail_of(secret: str) -> str:
    """What the masked column may show of a key: its last four characters, if it is long enough."""
    return secret[-TAIL_CHARS:] if len(secret) >= MIN_LENGTH_FOR_TAIL else ""


class Column(enum.IntEnum):
    PROVIDER = 0
    ALIAS = 1
    KEY = 2
    SCOPES = 3
    USAGE = 4
    UPDATED = 5


class VaultRole(enum.IntEnum):
    ENTRY = Role.RECORD  # the VaultEntry of the row
    ID = Role.ID
    RAW = Role.RAW  # sort key of the cell
    USAGE_RATIO = _USER + 200  # this month's cost / monthly cap (float), or None without a cap
    USAGE_LEVEL = _USER + 201  # UsageLevel value (str)


class UsageLevel(enum.Enum):
    NONE = "none"  # no monthly cap
    OK = "ok"
    WARN = "warn"  # >= 80% of the cap
    OVER = "over"  # >= 100% of the cap


def usage_level(ratio: float | None) -> UsageLevel:
    if ratio is None:
        return UsageLevel.NONE
    if ratio >= 1.0:
        return UsageLevel.OVER
    return UsageLevel.WARN if ratio >= WARN_RATIO else UsageLevel.OK


def _headers() -> dict[Column, str]:
    return {
        Column.PROVIDER: translate("VaultKeysModel", "Provider"),
        Column.ALIAS: translate("VaultKeysModel", "Alias"),
        Column.KEY: translate("VaultKeysModel", "Key"),
        Column.SCOPES: translate("VaultKeysModel", "Scopes"),
        Column.USAGE: translate("VaultKeysModel", "Usage this month / cap"),
        Column.UPDATED: translate("VaultKeysModel", "Updated"),
    }


class VaultKeysModel(QAbstractTableModel):
    def __init__(self, icon_for: Callable[[str], QIcon] | None = None, parent: QObject | None = None,
                 *, label_for: Callable[[str], str] | None = None) -> None:
        super().__init__(parent)
        self._icon_for = icon_for
        self._label_for = label_for  # provider id -> display name ("openai" -> "OpenAI")
        self._entries: list[VaultEntry] = []
        self._tails: dict[str, str] = {}
        self._usage: dict[str, float] = {}

    # ------------------------------------------------------------ updating
    def set_entries(self, entries: Sequence[VaultEntry], tails: Mapping[str, str]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self._tails = dict(tails)
        self.endResetModel()

    def upsert(self, entry: VaultEntry, tail: str) -> None:
        self._tails[entry.id] = tail
        row = self.row_of(entry.id)
        if row < 0:
            self.beginInsertRows(QModelIndex(), len(self._entries), len(self._entries))
            self._entries.append(entry)
            self.endInsertRows()
            return
        self._entries[row] = entry
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    def remove(self, entry_id: str) -> None:
        row = self.row_of(entry_id)
        if row < 0:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._entries[row]
        self._tails.pop(entry_id, None)
        self.endRemoveRows()

    def set_usage(self, usage: Mapping[str, float]) -> None:
        """This month's cost per provider (casefolded names), from usage_events."""
        self._usage = dict(usage)
        if self._entries:
            self.dataChanged.emit(self.index(0, Column.USAGE), self.index(len(self._entries) - 1, Column.USAGE))

    def clear(self) -> None:
        """Forget rows, masks and usage (the vault locked)."""
        self.beginResetModel()
        self._entries = []
        self._tails = {}
        self._usage = {}
        self.endResetModel()

    # ------------------------------------------------------------ reading
    def entries(self) -> list[VaultEntry]:
        return list(self._entries)

    def entry(self, row: int) -> VaultEntry | None:
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def row_of(self, entry_id: str) -> int:
        return next((row for row, e in enumerate(self._entries) if e.id == entry_id), -1)

    def masked(self, entry_id: str) -> str:
        return (MASK + self._tails[entry_id]) if entry_id in self._tails else ""

    def provider_label(self, provider: str) -> str:
        return self._label_for(provider) if self._label_for is not None else provider

    def usage_of(self, entry: VaultEntry) -> float:
        return self._usage.get(entry.provider.strip().casefold(), 0.0)

    def ratio_of(self, entry: VaultEntry) -> float | None:
        cap = entry.caps.monthly_usd
        return self.usage_of(entry) / cap if cap else None

    # ------------------------------------------------------------ Qt API
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(
                Column):
            return _headers()[Column(section)]
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries) or not 0 <= index.column() < len(Column):
            return None
        entry, column = self._entries[index.row()], Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(entry, column)
        if role == Qt.ItemDataRole.DecorationRole and column is Column.PROVIDER and self._icon_for is not None:
            return self._icon_for(entry.provider)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry, column)
        if role == Qt.ItemDataRole.AccessibleTextRole and column is Column.KEY:
            tail = self._tails.get(entry.id)
            if tail:
                return translate("VaultKeysModel", "Key ending in %1").replace("%1", tail)
            return translate("VaultKeysModel", "Hidden key")
        if role == VaultRole.ENTRY:
            return entry
        if role == VaultRole.ID:
            return entry.id
        if role == VaultRole.RAW:
            return self._raw(entry, column)
        if role == VaultRole.USAGE_RATIO and column is Column.USAGE:
            return self.ratio_of(entry)
        if role == VaultRole.USAGE_LEVEL and column is Column.USAGE:
            return usage_level(self.ratio_of(entry)).value
        return None

    def _display(self, entry: VaultEntry, column: Column) -> str:
        if column is Column.PROVIDER:
            return self.provider_label(entry.provider)
        if column is Column.ALIAS:
            return entry.alias
        if column is Column.KEY:
            return self.masked(entry.id)
        if column is Column.SCOPES:
            return ", ".join(entry.scopes)
        if column is Column.USAGE:
            return self._usage_text(entry)
        return entry.updated_at.astimezone().strftime("%Y-%m-%d %H:%M") if entry.updated_at else ""

    def _usage_text(self, entry: VaultEntry) -> str:
        caps = entry.caps
        used = f"${self.usage_of(entry):,.2f}"
        if caps.monthly_usd:
            text = f"{used} / ${caps.monthly_usd:,.2f}"
        else:
            text = translate("VaultKeysModel", "%1, no cap").replace("%1", used)
        if caps.requests_per_day:
            text += " · " + translate("VaultKeysModel", "%1 req/day").replace("%1", f"{caps.requests_per_day:,}")
        return text

    def _tooltip(self, entry: VaultEntry, column: Column) -> str | None:
        if column is not Column.USAGE:
            return None
        level = usage_level(self.ratio_of(entry))
        if level is UsageLevel.OVER:
            return translate("VaultKeysModel", "Over the monthly cap")
        if level is UsageLevel.WARN:
            return translate("VaultKeysModel", "80% or more of the monthly cap used")
        return None

    def _raw(self, entry: VaultEntry, column: Column) -> Any:
        if column is Column.PROVIDER:
            return (self.provider_label(entry.provider).casefold(), entry.alias.casefold())
        if column is Column.ALIAS:
            return entry.alias.casefold()
        if column is Column.KEY:
            return self._tails.get(entry.id, "")
        if column is Column.SCOPES:
            return ", ".join(entry.scopes).casefold()
        if column is Column.USAGE:
            ratio = self.ratio_of(entry)
            return ratio if ratio is not None else -1.0
        return entry.updated_at.timestamp() if entry.updated_at else 0.0


class VaultFilterProxy(QSortFilterProxyModel):
    """Search by provider or alias (case-insensitive substring), sort by each column's raw value."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._term = ""
        self.setSortRole(VaultRole.RAW)
        self.setDynamicSortFilter(True)

    @property
    def term(self) -> str:
        return self._term

    def set_search(self, term: str) -> None:
        self.beginFilterChange()
        self._term = term.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        if not self._term:
            return True
        model = self.sourceModel()
        entry = model.index(source_row, 0, source_parent).data(VaultRole.ENTRY) if model is not None else None
        if not isinstance(entry, VaultEntry):
            return False
        label = str(model.index(source_row, Column.PROVIDER, source_parent).data() or "")
        return any(self._term in text.casefold() for text in (entry.provider, label, entry.alias))

    def lessThan(self, left: ModelIndex, right: ModelIndex) -> bool:
        a, b = left.data(VaultRole.RAW), right.data(VaultRole.RAW)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)
