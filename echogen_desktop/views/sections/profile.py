"""Profile: full name, avatar upload, and what the providers cost, by provider and month."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCharts import QBarCategoryAxis, QBarSet, QChart, QChartView, QStackedBarSeries, QValueAxis
from PySide6.QtCore import QEvent, QMargins, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from echogen_desktop.colors import accent_color, is_dark
from echogen_desktop.controllers.actions import Actions
from echogen_desktop.models.usage import UsageSummary, summarize
from echogen_desktop.services.records import Profile, UsageEvent
from echogen_desktop.views.sections.base import Section
from echogen_desktop.views.widgets.detail_bits import heading

AVATAR_SIZE = 112


def money(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


class UsageChart(QChartView):
    """A stacked bar per month, one colour per provider."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usageChart")
        self.setAccessibleName(self.tr("Cost by provider and month"))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(260)
        self.summary = summarize(())
        self.set_summary(self.summary)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.set_summary(self.summary)  # follow a light/dark switch

    def set_summary(self, summary: UsageSummary) -> None:
        self.summary = summary
        chart = QChart()
        chart.setTitle(self.tr("Cost by month (USD)"))
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(0)
        palette = self.palette()
        dark = is_dark(palette)
        chart.setTheme(QChart.ChartTheme.ChartThemeDark if dark else QChart.ChartTheme.ChartThemeLight)
        chart.setBackgroundBrush(palette.color(QPalette.ColorRole.Base))
        series = QStackedBarSeries()
        series.setBarWidth(0.5 if len(summary.months) > 2 else 0.25)
        for provider in summary.providers:
            bar = QBarSet(provider)
            bar.append(list(summary.by_month[provider]))
            bar.setColor(accent_color(provider, dark))
            bar.setBorderColor(QColor(Qt.GlobalColor.transparent))
            series.append(bar)
        if summary.months:
            chart.addSeries(series)
            months = QBarCategoryAxis()
            months.append(list(summary.months))
            chart.addAxis(months, Qt.AlignmentFlag.AlignBottom)
            series.attachAxis(months)
            costs = QValueAxis()
            top = max(sum(summary.by_month[p][i] for p in summary.providers) for i in range(len(summary.months)))
            costs.setRange(0, top * 1.15 if top > 0 else 1)
            costs.setLabelFormat("$%.3f")
            costs.applyNiceNumbers()
            chart.addAxis(costs, Qt.AlignmentFlag.AlignLeft)
            series.attachAxis(costs)
        else:
            chart.setTitle(self.tr("No usage recorded yet"))
        self.setChart(chart)


class ProfileSection(Section):
    key = "profile"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profile: Profile | None = None
        self.events: list[UsageEvent] | None = None

        self.avatar = QLabel()
        self.avatar.setObjectName("avatar")
        self.avatar.setAccessibleName(self.tr("Avatar"))
        self.avatar.setFixedSize(AVATAR_SIZE, AVATAR_SIZE)
        self.avatar.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.avatar.setFrameShape(QFrame.Shape.StyledPanel)
        self.avatar_button = QPushButton(self.tr("Upload &avatar…"))
        self.avatar_button.setObjectName("uploadAvatar")
        self.avatar_button.setToolTip(self.tr("PNG, JPEG or WebP, up to 10 MB"))
        self.avatar_button.clicked.connect(self.choose_avatar)
        self.email_label = QLabel()
        self.email_label.setObjectName("profileEmail")
        self.email_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("fullName")
        self.name_edit.setAccessibleName(self.tr("Full name"))
        self.name_edit.setPlaceholderText(self.tr("Your name as shown in EchoGen"))
        self.name_edit.textEdited.connect(lambda _text: self._update_buttons())
        self.name_edit.returnPressed.connect(self.save_name)
        self.save_button = QPushButton(self.tr("&Save"))
        self.save_button.setObjectName("saveProfile")
        self.save_button.clicked.connect(self.save_name)
        name_row = QHBoxLayout()
        name_row.addWidget(self.name_edit, 1)
        name_row.addWidget(self.save_button)
        form = QFormLayout()
        form.addRow(self.tr("Email:"), self.email_label)
        name_label = QLabel(self.tr("&Full name:"))
        name_label.setBuddy(self.name_edit)
        form.addRow(name_label, name_row)
        avatar_column = QVBoxLayout()
        avatar_column.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignHCenter)
        avatar_column.addWidget(self.avatar_button)
        avatar_column.addStretch(1)
        card = QHBoxLayout()
        card.addLayout(avatar_column)
        card.addSpacing(16)
        card.addLayout(form, 1)

        self.total_label = QLabel()
        self.total_label.setObjectName("usageTotal")
        self.chart = UsageChart()
        self.provider_table = QTableWidget(0, 3)
        self.provider_table.setObjectName("usageByProvider")
        self.provider_table.setAccessibleName(self.tr("Cost by provider"))
        self.provider_table.setHorizontalHeaderLabels([self.tr("Provider"), self.tr("Events"), self.tr("Cost")])
        self.provider_table.verticalHeader().hide()
        self.provider_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.provider_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.provider_table.setMaximumWidth(320)
        usage = QGridLayout()
        usage.addWidget(self.chart, 0, 0, 2, 1)
        usage.addWidget(self.provider_table, 0, 1)
        usage.setColumnStretch(0, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(heading(self.tr("Profile")))
        layout.addLayout(card)
        layout.addSpacing(12)
        layout.addWidget(heading(self.tr("Usage"), 1.15))
        layout.addWidget(self.total_label)
        layout.addLayout(usage, 1)
        self._saving = False
        self._show_avatar(None)
        self._update_buttons()

    def title(self) -> str:
        return self.tr("Profile")

    # ------------------------------------------------------------ loading
    def bind(self, actions: Actions) -> None:
        super().bind(actions)
        self.profile, self.events = None, None
        actions.profileChanged.connect(self._on_profile)
        self.email_label.setText(actions.backend.user.email if actions.backend.user else "")
        self.refresh()

    def unbind(self) -> None:
        if self.controller is not None:
            self.controller.profileChanged.disconnect(self._on_profile)
        super().unbind()
        self.profile, self.events = None, None
        self.name_edit.clear()
        self.chart.set_summary(summarize(()))
        self._show_usage([])
        self._show_avatar(None)

    def refresh(self) -> None:
        if self.controller is None:
            return
        self.controller.load_profile(self._on_profile, owner=self)
        self.controller.load_usage(self._on_usage, owner=self)

    def focus_search(self) -> None:
        self.name_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_profile(self, profile: Profile) -> None:
        avatar_changed = self.profile is None or self.profile.avatar_url != profile.avatar_url
        self.profile = profile
        if not self._saving:
            self.name_edit.setText(profile.full_name)
        self._update_buttons()
        if avatar_changed and self.controller is not None:
            self._show_avatar(None)
            self.controller.load_avatar(profile, self._show_avatar, owner=self)

    def _on_usage(self, events: list[UsageEvent]) -> None:
        self.events = events
        self._show_usage(events)

    def _show_usage(self, events: list[UsageEvent]) -> None:
        summary = summarize(events)
        self.chart.set_summary(summary)
        self.total_label.setText(self.tr("%1 in %2 events since you joined.").replace(
            "%1", money(summary.total)).replace("%2", str(len(events))) if events else self.tr(
            "No provider costs recorded yet."))
        self.provider_table.setRowCount(len(summary.providers))
        for row, provider in enumerate(summary.providers):
            cost = QTableWidgetItem(money(summary.totals[provider]))
            cost.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            count = QTableWidgetItem(str(summary.counts[provider]))
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.provider_table.setItem(row, 0, QTableWidgetItem(provider))
            self.provider_table.setItem(row, 1, count)
            self.provider_table.setItem(row, 2, cost)

    def _show_avatar(self, data: bytes | None) -> None:
        pixmap = QPixmap()
        if data and pixmap.loadFromData(data):
            self.avatar.setPixmap(pixmap.scaled(
                AVATAR_SIZE, AVATAR_SIZE, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation,
            ))
        else:
            self.avatar.setPixmap(QPixmap())
            self.avatar.setText(self.tr("No avatar"))

    # ------------------------------------------------------------ editing
    def save_name(self) -> None:
        if self.controller is None or not self._name_changed():
            return
        self._saving = True
        self._update_buttons()
        self.controller.update_profile(self.name_edit.text(), self._saved, owner=self, on_error=self._save_failed)

    def _saved(self, profile: Profile) -> None:
        self._saving = False
        self._on_profile(profile)

    def _save_failed(self, _error: object) -> None:
        self._saving = False
        self._update_buttons()

    def choose_avatar(self) -> None:
        dialog = QFileDialog(self, self.tr("Choose an avatar"))
        dialog.setObjectName("avatarDialog")
        dialog.setNameFilter(self.tr("Pictures (*.png *.jpg *.jpeg *.webp)"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda name: self.upload_avatar_file(Path(name)))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def upload_avatar_file(self, file: Path) -> None:
        if self.controller is None:
            return
        self.avatar_button.setEnabled(False)
        self.controller.upload_avatar(file, lambda _profile: self.avatar_button.setEnabled(True), owner=self,
                                      on_error=lambda _error: self.avatar_button.setEnabled(True))

    def _name_changed(self) -> bool:
        return self.profile is not None and self.name_edit.text().strip() != self.profile.full_name

    def _update_buttons(self) -> None:
        self.save_button.setEnabled(self.controller is not None and not self._saving and self._name_changed())
        self.avatar_button.setEnabled(self.controller is not None)
