"""A table model that pages a server-side list in lazily: the one model behind every section list.

It knows nothing about HTTP: it calls ``fetch(PageQuery) -> Page`` (in the app
``functools.partial(backend.fetch_page, spec)``) through a TaskRunner, so the UI never waits.
Ordering, searching and filtering are the server's job; the model only remembers what it asked
for. Every request carries the generation it was made for, and a page that arrives after the
order, search or filters changed is dropped. Live changes (``apply_upsert``/``apply_delete``)
and ``refresh`` move rows with insert/remove/dataChanged, never a reset, so views keep their
selection and scroll position.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    Property,
    QAbstractTableModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from echogen_desktop.models.columns import Column, columns_for
from echogen_desktop.models.roles import Role
from echogen_desktop.services.backend import PageQuery
from echogen_desktop.services.errors import ServiceError
from echogen_desktop.services.records import Page
from echogen_desktop.services.tables import TableSpec
from echogen_desktop.tasks import TaskRunner

FetchPage = Callable[[PageQuery], Awaitable[Page]]
AnyIndex = QModelIndex | QPersistentModelIndex
Reloaded = tuple[list[Any], int | None, bool]

# After a failed page, views' automatic fetchMore (on scroll) pauses this long so a dead server
# is not hammered; an explicit fetchMore() or refresh() retries at once.
RETRY_PAUSE = 2.0


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending row numbers grouped into (first, last) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class PagedTableModel(QAbstractTableModel):
    loadingChanged = Signal(bool)
    totalCountChanged = Signal(int)  # -1 while unknown
    loadFailed = Signal(str)  # a user-facing message; the model stays usable
    pageLoaded = Signal(int, int)  # server offset of the page, rows it added
    refreshed = Signal(bool)  # a refresh finished; True if it had to reset the model
    sortChanged = Signal(int, Qt.SortOrder)  # the effective sort, after every sort() call

    def __init__(
        self,
        fetch: FetchPage,
        runner: TaskRunner,
        columns: Sequence[Column],
        *,
        page_size: int = 100,
        default_order: str = "created_at",
        search_columns: Sequence[str] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if page_size < 1:
            raise ValueError("page_size must be positive")
        self._fetch = fetch
        self._runner = runner
        self._columns = tuple(columns)
        self._page_size = page_size
        self._default_order = default_order
        self._search_columns = tuple(search_columns)
        self._order = default_order
        self._descending = True
        self._search = ""
        self._filters: tuple[tuple[str, str], ...] = ()
        self._records: list[Any] = []
        self._rows_by_id: dict[str, int] | None = {}
        self._generation = 0
        self._next_offset = 0  # server offset of the next page (live inserts/deletes shift it)
        self._exhausted = False
        self._in_flight = False
        self._loading = False
        self._total: int | None = None
        self._failed_at: float | None = None

    @classmethod
    def for_spec(
        cls,
        fetch_page: Callable[[TableSpec, PageQuery], Awaitable[Page]],
        spec: TableSpec,
        runner: TaskRunner,
        *,
        page_size: int = 100,
        parent: QObject | None = None,
    ) -> PagedTableModel:
        """The section list for ``spec``: e.g. ``PagedTableModel.for_spec(backend.fetch_page, CONTENT, runner)``."""
        return cls(
            functools.partial(fetch_page, spec), runner, columns_for(spec), page_size=page_size,
            default_order=spec.default_order, search_columns=spec.search_columns, parent=parent,
        )

    # ------------------------------------------------------------ read access
    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def page_size(self) -> int:
        return self._page_size

    @property
    def search_text(self) -> str:
        return self._search

    @property
    def filters(self) -> dict[str, str]:
        return dict(self._filters)

    def is_loading(self) -> bool:
        return self._loading

    def total_count(self) -> int:
        """The server's count for the current search and filters, -1 until the first page says."""
        return -1 if self._total is None else self._total

    loading = Property(bool, is_loading, notify=loadingChanged)
    totalCount = Property(int, total_count, notify=totalCountChanged)

    def record_at(self, row: int) -> Any | None:
        return self._records[row] if 0 <= row < len(self._records) else None

    def row_of(self, record_id: str) -> int | None:
        if self._rows_by_id is None:
            self._rows_by_id = {record.id: row for row, record in enumerate(self._records)}
        return self._rows_by_id.get(record_id)

    def column_of(self, key: str) -> int:
        return next((i for i, column in enumerate(self._columns) if column.key == key), -1)

    def sort_column(self) -> int:
        """The column showing the current server order (for the header's sort indicator), or -1."""
        return next((i for i, c in enumerate(self._columns) if c.server_column == self._order), -1)

    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    # ------------------------------------------------------------ Qt model API
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemNeverHasChildren if index.isValid() else base

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._records) or index.column() >= len(self._columns):
            return None
        record = self._records[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(record) if column.tooltip is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.alignment
        if role == Role.RECORD:
            return record
        if role == Role.ID:
            return record.id
        if role == Role.SORT_KEY:
            return column.server_column or ""
        if role == Role.RAW:
            return column.raw(record) if column.raw is not None else column.text(record)
        if role == Role.STATUS:
            return column.status(record) if column.status is not None else None
        if role == Role.STATUS_COLOR:
            return column.color(record)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return super().headerData(section, orientation, role)
        column = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header()
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.header_tooltip()
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.alignment
        if role == Role.SORT_KEY:
            return column.server_column or ""
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        extra = {Role.RECORD: b"record", Role.ID: b"recordId", Role.STATUS: b"status",
                 Role.STATUS_COLOR: b"statusColor", Role.RAW: b"raw", Role.SORT_KEY: b"sortKey"}
        names.update({int(role): QByteArray(name) for role, name in extra.items()})
        return names

    # ------------------------------------------------------------ paging
    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() or not self._has_more():
            return False
        return self._failed_at is None or time.monotonic() - self._failed_at >= RETRY_PAUSE

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._in_flight or not self._has_more():
            return
        generation = self._generation
        query = self._query(self._next_offset, with_count=self._next_offset == 0 or self._total is None)
        self._in_flight = True
        self._set_loading(True)
        self._runner.run(
            self._fetch_page(query),
            on_done=lambda page: self._on_page(generation, page),
            on_error=lambda error: self._on_failed(generation, error),
            owner=self,
        )

    def _has_more(self) -> bool:
        return not self._exhausted and (self._total is None or len(self._records) < self._total)

    def _query(self, offset: int, *, with_count: bool) -> PageQuery:
        return PageQuery(
            offset=offset, limit=self._page_size, order_column=self._order, descending=self._descending,
            search=self._search, filters=self._filters, with_count=with_count,
        )

    async def _fetch_page(self, query: PageQuery) -> Page:
        return await self._fetch(query)

    def _on_page(self, generation: int, page: Page) -> None:
        if generation != self._generation:
            return  # asked for under an older order/search/filter: not these rows any more
        # All state first: a view (or qtmodeltester) may call fetchMore from inside rowsInserted.
        self._in_flight = False
        self._failed_at = None
        self._next_offset = page.offset + len(page.records)
        if len(page.records) < self._page_size:
            self._exhausted = True
        if page.total is not None:
            self._set_total(page.total)
        self._set_loading(False)
        # A row can arrive twice when the server list shifted under us (a live insert): keep the first.
        seen: set[str] = set()
        fresh: list[Any] = []
        for record in page.records:
            if record.id not in seen and self.row_of(record.id) is None:
                seen.add(record.id)
                fresh.append(record)
        if fresh:
            first = len(self._records)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._records.extend(fresh)
            if self._rows_by_id is not None:
                self._rows_by_id.update((record.id, first + i) for i, record in enumerate(fresh))
            self.endInsertRows()
        if self._total is not None and len(self._records) > self._total:
            self._set_total(len(self._records))
        self.pageLoaded.emit(page.offset, len(fresh))

    def _on_failed(self, generation: int, error: ServiceError) -> None:
        if generation != self._generation:
            return
        self._in_flight = False
        self._failed_at = time.monotonic()
        self._set_loading(False)
        self.loadFailed.emit(error.message)

    # ------------------------------------------------------------ query changes
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        server_column = self._columns[column].server_column if 0 <= column < len(self._columns) else None
        descending = order == Qt.SortOrder.DescendingOrder
        if server_column is not None and (server_column, descending) != (self._order, self._descending):
            self._order, self._descending = server_column, descending
            self._restart()
        self.sortChanged.emit(self.sort_column(), self.sort_order())

    def set_search(self, text: str) -> None:
        """Server-side ilike over the spec's search columns; debouncing keystrokes is the view's job."""
        term = text.strip()
        if term != self._search:
            self._search = term
            self._restart()

    def set_filters(self, filters: Mapping[str, str | None]) -> None:
        """Exact-match filters (column -> value); None or "" drops a filter."""
        normalized = tuple(sorted((column, value) for column, value in filters.items() if value))
        if normalized != self._filters:
            self._filters = normalized
            self._restart()

    def _restart(self) -> None:
        """Forget the rows and load the first page again under the new query."""
        self._generation += 1
        self.beginResetModel()
        self._records = []
        self._rows_by_id = {}
        self._in_flight = False
        self._next_offset = 0
        self._exhausted = False
        self._failed_at = None
        self._set_total(None)
        self._set_loading(False)
        self.endResetModel()  # an attached view may already ask for the first page here
        self.fetchMore()

    # ------------------------------------------------------------ refresh
    def refresh(self) -> None:
        """Reload as many rows as are loaded now, then merge: unchanged rows keep their identity.

        Rows gone from the server are removed, new ones inserted and changed ones updated in
        place. Only if the server reordered rows that stay is the model reset; ``refreshed``
        reports which happened (the view restores its selection by id with ``row_of``).
        """
        self._generation += 1
        generation = self._generation
        count = max(len(self._records), self._page_size)
        self._in_flight = True
        self._set_loading(True)
        self._runner.run(
            self._reload(count),
            on_done=lambda result: self._on_reloaded(generation, result),
            on_error=lambda error: self._on_failed(generation, error),
            owner=self,
        )

    async def _reload(self, count: int) -> Reloaded:
        records: list[Any] = []
        total: int | None = None
        while len(records) < count:
            page = await self._fetch(self._query(len(records), with_count=not records))
            total = page.total if total is None else total
            records.extend(page.records)
            if len(page.records) < self._page_size:
                return records, total, True
        return records, total, False

    def _on_reloaded(self, generation: int, result: Reloaded) -> None:
        if generation != self._generation:
            return
        loaded, total, exhausted = result
        unique: dict[str, Any] = {}
        for record in loaded:
            unique.setdefault(record.id, record)
        records = list(unique.values())
        self._in_flight = False
        self._failed_at = None
        self._next_offset = len(loaded)
        self._exhausted = exhausted
        self._set_total(total if total is not None else len(records) if exhausted else self._total)
        self._set_loading(False)
        reset = self._merge(records)
        if self._total is not None and len(self._records) > self._total:
            self._set_total(len(self._records))
        self.refreshed.emit(reset)

    def _merge(self, records: list[Any]) -> bool:
        """Turn the loaded rows into ``records`` with removes, inserts and dataChanged; True if reset."""
        new_ids = [record.id for record in records]
        new_set = set(new_ids)
        gone = [row for row, record in enumerate(self._records) if record.id not in new_set]
        for first, last in reversed(_runs(gone)):
            self._remove_rows(first, last)
        kept = {record.id for record in self._records}
        if [i for i in new_ids if i in kept] != [record.id for record in self._records]:
            self.beginResetModel()
            self._records = records
            self._rows_by_id = None
            self.endResetModel()
            return True
        added = [row for row, record_id in enumerate(new_ids) if record_id not in kept]
        for first, last in _runs(added):
            # Rows before ``first`` already match the new list, so the run goes in at ``first``.
            self.beginInsertRows(QModelIndex(), first, last)
            self._records[first:first] = records[first : last + 1]
            self._rows_by_id = None
            self.endInsertRows()
        changed = [row for row, record in enumerate(records) if self._records[row] != record]
        for row in changed:
            self._records[row] = records[row]
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self._columns) - 1), [])
        return False

    def touch_column(self, key: str) -> None:
        """Repaint one column in every row, for values that change with time (a running job's run time)."""
        column = self.column_of(key)
        if column >= 0 and self._records:
            self.dataChanged.emit(self.index(0, column), self.index(len(self._records) - 1, column), [])

    # ------------------------------------------------------------ live changes
    def apply_upsert(self, record: Any) -> int | None:
        """A row was inserted or updated on the server: update it in place or put it on top.

        Returns the row it is shown at, or None when it is not shown. A new row goes on top
        only under the default newest-first order, when it visibly matches the search and the
        filters; otherwise the count goes up and a later page may bring it.
        """
        row = self.row_of(record.id)
        if row is not None:
            if not self._matches_filters(record):
                self._remove_rows(row, row)
                self._next_offset = max(0, self._next_offset - 1)
                self._bump_total(-1)
                return None
            self._records[row] = record
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self._columns) - 1), [])
            return row
        if not self._matches_filters(record):
            return None
        if self._order == self._default_order and self._descending and self._matches_search(record):
            self.beginInsertRows(QModelIndex(), 0, 0)
            self._records.insert(0, record)
            self._rows_by_id = None
            self.endInsertRows()
            self._next_offset += 1
            self._bump_total(1)
            return 0
        if not self._search:
            # Its place under this order is unknown here: count it and let paging bring it.
            self._exhausted = False
            self._bump_total(1)
        return None

    def apply_delete(self, record_id: str) -> bool:
        """A row was deleted on the server; True if it was shown (unknown ids are ignored:
        a realtime DELETE carries only the key and may not even be the caller's row)."""
        row = self.row_of(record_id)
        if row is None:
            return False
        self._remove_rows(row, row)
        self._next_offset = max(0, self._next_offset - 1)
        self._bump_total(-1)
        return True

    def _matches_filters(self, record: Any) -> bool:
        for column, value in self._filters:
            actual = getattr(record, column, None)
            if actual is not None and str(actual) != value:
                return False
        return True

    def _matches_search(self, record: Any) -> bool:
        """Whether the record's own fields contain the term (columns the list did not fetch count as no)."""
        if not self._search:
            return True
        term = self._search.casefold()
        for column in self._search_columns:
            value = getattr(record, column, None)
            if isinstance(value, str) and term in value.casefold():
                return True
        return False

    def _remove_rows(self, first: int, last: int) -> None:
        self.beginRemoveRows(QModelIndex(), first, last)
        del self._records[first : last + 1]
        self._rows_by_id = None
        self.endRemoveRows()

    def _bump_total(self, delta: int) -> None:
        if self._total is not None:
            self._set_total(max(len(self._records), self._total + delta))

    # ------------------------------------------------------------ notifications
    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loadingChanged.emit(loading)

    def _set_total(self, total: int | None) -> None:
        if total != self._total:
            self._total = total
            self.totalCountChanged.emit(self.total_count())
