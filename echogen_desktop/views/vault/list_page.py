"""The unlocked vault: a searchable table of keys, the actions on them, and the vault's options."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal, SignalInstance
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.models.vault_keys import Column, VaultFilterProxy, VaultKeysModel, VaultRole
from echogen_desktop.services.vault_service import VaultEntry
from echogen_desktop.views.theme import set_error_text
from echogen_desktop.views.vault.usage_delegate import UsageBarDelegate
from echogen_desktop.views.widgets.search_field import SearchField


class KeyListPage(QWidget):
    addRequested = Signal()
    editRequested = Signal(object)  # VaultEntry
    deleteRequested = Signal(object)
    copyRequested = Signal(object)
    changePassphraseRequested = Signal()
    lockRequested = Signal()

    def __init__(self, model: VaultKeysModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vaultListPage")
        self.model = model
        self.proxy = VaultFilterProxy(self)
        self.proxy.setSourceModel(model)

        self.search = SearchField()
        self.search.setPlaceholderText(self.tr("Search provider or alias (Ctrl+F)"))
        self.search.searchChanged.connect(self.proxy.set_search)
        self.actions_: dict[str, QAction] = {}
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.search, 1)
        # A QToolBar folds buttons into an overflow menu, so a narrow window stays possible.
        bar = QToolBar()
        bar.setObjectName("vaultToolbar")
        toolbar.addWidget(bar)
        for name, text, shortcut, signal in (
            ("add", self.tr("&Add key"), "Ctrl+N", self.addRequested),
            ("edit", self.tr("&Edit"), "Return", None),
            ("copy", self.tr("&Copy key"), "Ctrl+Shift+C", None),
            ("delete", self.tr("&Delete"), "Delete", None),
            ("passphrase", self.tr("Change &passphrase…"), "", self.changePassphraseRequested),
            ("lock", self.tr("&Lock"), "Ctrl+L", self.lockRequested),
        ):
            action = QAction(text, self)
            action.setObjectName(f"vault_{name}")
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                action.setToolTip(f"{text.replace('&', '')} ({shortcut})")
            if signal is not None:
                action.triggered.connect(signal)
            self.addAction(action)
            bar.addAction(action)
            self.actions_[name] = action
        self.actions_["edit"].triggered.connect(lambda: self._emit_selected(self.editRequested))
        self.actions_["copy"].triggered.connect(lambda: self._emit_selected(self.copyRequested))
        self.actions_["delete"].triggered.connect(lambda: self._emit_selected(self.deleteRequested))

        self.table = QTableView()
        self.table.setObjectName("vaultTable")
        self.table.setAccessibleName(self.tr("API keys"))
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(Column.PROVIDER, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setItemDelegateForColumn(Column.USAGE, UsageBarDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in ((Column.PROVIDER, 140), (Column.ALIAS, 120), (Column.KEY, 110),
                              (Column.SCOPES, 130), (Column.USAGE, 230)):
            header.resizeSection(column, width)
        self.table.doubleClicked.connect(lambda _index: self._emit_selected(self.editRequested))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())

        self.empty = QLabel(self.tr("No keys yet. Add your first provider key with “Add key” (Ctrl+N)."))
        self.empty.setObjectName("vaultEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("vaultStatus")
        self.status.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("vaultError")
        self.error.setWordWrap(True)
        set_error_text(self.error)

        self.auto_lock = QDoubleSpinBox()
        self.auto_lock.setObjectName("autoLockMinutes")
        self.auto_lock.setAccessibleName(self.tr("Lock after idle minutes"))
        self.auto_lock.setDecimals(0)
        self.auto_lock.setRange(1, 240)
        self.auto_lock.setSuffix(self.tr(" min"))
        self.clipboard_seconds = QDoubleSpinBox()
        self.clipboard_seconds.setObjectName("clipboardSeconds")
        self.clipboard_seconds.setAccessibleName(self.tr("Clear the clipboard after seconds"))
        self.clipboard_seconds.setDecimals(0)
        self.clipboard_seconds.setRange(5, 600)
        self.clipboard_seconds.setSuffix(self.tr(" s"))
        self.remember = QCheckBox(self.tr("Remember the vault on this device (OS keychain)"))
        self.remember.setObjectName("rememberOnDevice")
        options = QHBoxLayout()
        options.addWidget(QLabel(self.tr("Lock after")))
        options.addWidget(self.auto_lock)
        options.addWidget(QLabel(self.tr("idle · clear copied keys after")))
        options.addWidget(self.clipboard_seconds)
        options.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addLayout(toolbar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addLayout(options)
        layout.addWidget(self.remember)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._update_actions)
        self._update_actions()

    def selected_entry(self) -> VaultEntry | None:
        rows = self.table.selectionModel().selectedRows()
        entry = rows[0].data(VaultRole.ENTRY) if rows else None
        return entry if isinstance(entry, VaultEntry) else None

    def select_id(self, entry_id: str) -> bool:
        source_row = self.model.row_of(entry_id)
        if source_row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(source_row, 0))
        if not index.isValid():
            return False
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    def _emit_selected(self, signal: SignalInstance) -> None:
        entry = self.selected_entry()
        if entry is not None:
            signal.emit(entry)

    def _update_actions(self, *_args: object) -> None:
        has = self.selected_entry() is not None
        for name in ("edit", "copy", "delete"):
            self.actions_[name].setEnabled(has)
        self.empty.setVisible(self.model.rowCount(QModelIndex()) == 0)
