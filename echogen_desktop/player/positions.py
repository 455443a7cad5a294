"""What the player remembers between runs: per-episode position and played state, and the speed."""

from __future__ import annotations

from PySide6.QtCore import QSettings

MIN_SPEED = 0.5
MAX_SPEED = 3.0


def clamp_speed(speed: float) -> float:
    """0.5–3.0 in steps of 0.1 (the only speeds the controls offer)."""
    return round(min(MAX_SPEED, max(MIN_SPEED, round(speed * 10) / 10)), 1)


class PositionStore:
    """A thin typed layer over QSettings; pass a settings object (tests use an ini file)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings if settings is not None else QSettings()

    @staticmethod
    def _key(kind: str, episode_id: str) -> str:
        return f"player/{kind}/{episode_id}"

    def position_ms(self, episode_id: str) -> int:
        value = self._settings.value(self._key("position", episode_id), 0)
        try:
            return max(0, int(str(value)))
        except ValueError:
            return 0

    def set_position_ms(self, episode_id: str, position_ms: int) -> None:
        self._settings.setValue(self._key("position", episode_id), max(0, int(position_ms)))

    def is_played(self, episode_id: str) -> bool:
        return str(self._settings.value(self._key("played", episode_id), "false")).lower() == "true"

    def set_played(self, episode_id: str, played: bool) -> None:
        self._settings.setValue(self._key("played", episode_id), "true" if played else "false")

    def speed(self) -> float:
        try:
            return clamp_speed(float(str(self._settings.value("player/speed", 1.0))))
        except ValueError:
            return 1.0

    def set_speed(self, speed: float) -> None:
        self._settings.setValue("player/speed", clamp_speed(speed))

    def sync(self) -> None:
        self._settings.sync()
