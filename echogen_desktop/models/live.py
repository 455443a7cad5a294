"""Feeds a change feed into a PagedTableModel: rows update in place, never with a model reset.

The binding subscribes for one table, hands the feed the ids the model has loaded (so a
polling feed can notice deletes) and re-emits the feed's mode for the status bar. An UPDATE of
a row the model has not paged in yet is ignored: a later page brings it where it belongs,
whereas ``apply_upsert`` would have to guess its place.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Signal

from echogen_desktop.models.paged_table import PagedTableModel
from echogen_desktop.services.changefeed import Change, ChangeFeed, ChangeKind, FeedMode, Subscription
from echogen_desktop.services.tables import TableSpec


class LiveBinding(QObject):
    modeChanged = Signal(str)  # "realtime" | "polling"
    changeApplied = Signal(str, str)  # kind, record id: after the model has it

    def __init__(self, feed: ChangeFeed, spec: TableSpec, model: PagedTableModel) -> None:
        super().__init__(model)  # lives and dies with its model
        self._feed = feed
        self._model = model
        subscription = feed.subscribe(spec, self._apply, self._loaded_ids)
        self._subscription: Subscription | None = subscription
        listener = self._on_mode
        feed.add_mode_listener(listener)

        def release() -> None:  # a plain closure: the QObject is already gone when this runs
            subscription.cancel()
            feed.remove_mode_listener(listener)

        self.destroyed.connect(release)

    @property
    def mode(self) -> FeedMode:
        return self._feed.mode

    def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            subscription.cancel()
            self._feed.remove_mode_listener(self._on_mode)

    def _alive(self) -> bool:
        return self._subscription is not None and shiboken6.isValid(self) and shiboken6.isValid(self._model)

    def _loaded_ids(self) -> list[str]:
        if not self._alive():
            return []
        return [record.id for row in range(self._model.rowCount()) if (record := self._model.record_at(row))]

    def _apply(self, change: Change) -> None:
        if not self._alive():
            return
        if change.kind is ChangeKind.DELETE:
            applied = self._model.apply_delete(change.record_id)
        elif change.record is None or (
            change.kind is ChangeKind.UPDATE and self._model.row_of(change.record_id) is None
        ):
            applied = False
        else:
            self._model.apply_upsert(change.record)
            applied = True
        if applied:
            self.changeApplied.emit(change.kind.value, change.record_id)

    def _on_mode(self, mode: FeedMode) -> None:
        if shiboken6.isValid(self):
            self.modeChanged.emit(mode.value)
