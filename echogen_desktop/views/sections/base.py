"""What every section shares: the contract with the main window, and the list + detail layout.

A ListSection shows one paged server list (search field, "N items", sortable table) beside a
detail pane in a splitter. It owns no network code: the model pages through the Actions'
fetcher, and the detail pane asks Actions for the full record.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QItemSelectionModel, QModelIndex, QSettings, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.controllers.actions import Actions
from echogen_desktop.models.paged_table import PagedTableModel
from echogen_desktop.services.tables import TableSpec
from echogen_desktop.views.widgets.search_field import SearchField


class Section(QWidget):
    """A page of the main window. Subclasses fill in the hooks they support."""

    key = "section"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller: Actions | None = None

    def title(self) -> str:
        return self.key

    def bind(self, actions: Actions) -> None:
        self.controller = actions

    def unbind(self) -> None:
        self.controller = None

    def refresh(self) -> None:
        """Ctrl+R / F5."""

    def focus_search(self) -> None:
        """Ctrl+F."""

    def delete_selected(self) -> None:
        """The Delete key on the list."""

    def activated(self) -> None:
        """The user switched to this section."""

    def save_state(self, settings: QSettings) -> None:
        """Remember splitter positions and column widths."""

    def restore_state(self, settings: QSettings) -> None:
        """Called once the section exists; header state is restored again once a model is set."""


class ListSection(Section):
    spec: TableSpec
    currentRecordChanged = Signal(object)  # the selected list record, or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: PagedTableModel | None = None
        self._header_state: QByteArray | None = None
        self._selected_id: str | None = None

        self.search = SearchField()
        self.count_label = QLabel()
        self.count_label.setObjectName("itemCount")
        self.count_label.setAccessibleName(self.tr("Number of items"))
        self.filter_bar = QHBoxLayout()
        self.filter_bar.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addLayout(self.filter_bar)
        top.addWidget(self.count_label)

        self.table = QTableView()
        self.table.setObjectName(f"{self.key}Table")
        self.table.setAccessibleName(self.tr("%1 list").replace("%1", self.title()))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setDefaultSectionSize(140)
        # Delete acts on the list only when the list has focus, so text fields keep their Delete key.
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.delete_selected)

        list_side = QWidget()
        list_layout = QVBoxLayout(list_side)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addLayout(top)
        list_layout.addWidget(self.table, 1)

        self.detail = self.build_detail()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName(f"{self.key}Splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(list_side)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.splitter)
        self.search.searchChanged.connect(self._on_search)
        self._show_count()

    # ------------------------------------------------------------ subclass hooks
    def build_detail(self) -> QWidget:
        raise NotImplementedError

    def show_record(self, record: Any | None) -> None:
        """Show the selected list record in the detail pane (None: nothing selected)."""
        raise NotImplementedError

    def initial_sort(self) -> tuple[str, Qt.SortOrder]:
        return self.spec.default_order, Qt.SortOrder.DescendingOrder

    # ------------------------------------------------------------ binding
    def bind(self, actions: Actions) -> None:
        self.unbind()
        super().bind(actions)
        model = PagedTableModel(
            actions.fetcher(self.spec), actions.runner, self.columns(), default_order=self.spec.default_order,
            search_columns=self.spec.search_columns, parent=self,
        )
        self.model = model
        model.totalCountChanged.connect(lambda _count: self._show_count())
        model.loadingChanged.connect(lambda _loading: self._show_count())
        model.loadFailed.connect(actions.failed)
        model.refreshed.connect(lambda _reset: self._reselect())
        model.rowsRemoved.connect(lambda *_: self._check_selection())
        model.modelReset.connect(self._reselect)
        model.dataChanged.connect(self._on_data_changed)
        model.set_search(self.search.text())
        self.configure_model(model)
        header = self.table.horizontalHeader()
        self.table.setSortingEnabled(False)
        self.table.setModel(model)
        self.configure_view()
        if not (self._header_state is not None and header.restoreState(self._header_state)):
            key, order = self.initial_sort()
            header.setSortIndicator(max(0, model.column_of(key)), order)
            if model.column_of("title") >= 0:
                header.resizeSection(model.column_of("title"), 260)
        # Enabling sorting calls model.sort() with the indicator: the restored order is the server's order.
        self.table.setSortingEnabled(True)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        model.fetchMore()

    def columns(self) -> Any:
        from echogen_desktop.models.columns import columns_for

        return columns_for(self.spec)

    def configure_model(self, model: PagedTableModel) -> None:
        """Filters and the like, before the first page is asked for."""

    def configure_view(self) -> None:
        """Delegates and column tweaks once the model is on the view."""

    def unbind(self) -> None:
        if self.model is not None:
            self._header_state = self.table.horizontalHeader().saveState()
            self.table.setModel(None)
            self.model.deleteLater()
            self.model = None
        self._selected_id = None
        self.show_record(None)
        self._show_count()
        super().unbind()

    # ------------------------------------------------------------ commands
    def refresh(self) -> None:
        if self.model is not None:
            self.model.refresh()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def current_record(self) -> Any | None:
        if self.model is None:
            return None
        index = self.table.currentIndex()
        return self.model.record_at(index.row()) if index.isValid() else None

    def select_id(self, record_id: str) -> bool:
        if self.model is None:
            return False
        row = self.model.row_of(record_id)
        if row is None:
            return False
        self.table.selectionModel().setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(self.model.index(row, 0))
        return True

    # ------------------------------------------------------------ state
    def save_state(self, settings: QSettings) -> None:
        settings.setValue(f"sections/{self.key}/splitter", self.splitter.saveState())
        if self.model is not None:
            self._header_state = self.table.horizontalHeader().saveState()
        if self._header_state is not None:
            settings.setValue(f"sections/{self.key}/header", self._header_state)

    def restore_state(self, settings: QSettings) -> None:
        splitter = settings.value(f"sections/{self.key}/splitter")
        if not (isinstance(splitter, QByteArray) and self.splitter.restoreState(splitter)):
            self.splitter.setSizes([640, 480])
        header = settings.value(f"sections/{self.key}/header")
        if isinstance(header, QByteArray):
            self._header_state = header

    # ------------------------------------------------------------ internals
    def _on_search(self, text: str) -> None:
        if self.model is not None:
            self.model.set_search(text)

    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        record = self.model.record_at(current.row()) if self.model is not None and current.isValid() else None
        new_id = None if record is None else str(record.id)
        if new_id == self._selected_id:
            if record is not None:
                self.show_record(record)  # same row, newer data (live update)
            return
        self._selected_id = new_id
        self.show_record(record)
        self.currentRecordChanged.emit(record)

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, _roles: object = None) -> None:
        current = self.table.currentIndex()
        if current.isValid() and top_left.row() <= current.row() <= bottom_right.row() and self.model is not None:
            self.show_record(self.model.record_at(current.row()))  # the selected row changed on the server

    def _reselect(self) -> None:
        """After a reset, put the selection back on the same record if it is still listed."""
        if self._selected_id is not None and not self.select_id(self._selected_id):
            self._check_selection()

    def _check_selection(self) -> None:
        if self._selected_id is not None and (self.model is None or self.model.row_of(self._selected_id) is None):
            self._selected_id = None
            self.show_record(None)
            self.currentRecordChanged.emit(None)

    def _show_count(self) -> None:
        model = self.model
        if model is None:
            self.count_label.setText("")
        elif model.total_count() < 0:
            self.count_label.setText(self.tr("Loading…") if model.is_loading() else "")
        else:
            count = model.total_count()
            text = self.tr("1 item") if count == 1 else self.tr("%1 items").replace("%1", f"{count:,}")
            self.count_label.setText(text)
