"""High-DPI: at QT_SCALE_FACTOR=2 the windows render at twice the pixels (not upscaled), and the icons too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QColor, QImage

ROOT = Path(__file__).resolve().parent.parent


def test_windows_render_at_twice_the_pixels(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "tools" / "hidpi_shots.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert [r[0] for r in rows] == ["main-window-signed-out", "main-window-workspace", "sign-in-dialog"]
    for name, ratio, width, height, pixel_width, pixel_height in rows:
        assert float(ratio) == 2.0, name
        assert (int(pixel_width), int(pixel_height)) == (2 * int(width), 2 * int(height)), name
        image = QImage(str(tmp_path / f"{name}.png"))
        assert image.width() == int(pixel_width)
        # Text was drawn at full resolution: many distinct grey levels from antialiasing, not a flat fill.
        greys = {image.pixelColor(x, y).lightness() for x in range(0, image.width(), 3)
                 for y in range(0, image.height(), 3)}
        assert len(greys) > 20, name


def test_action_icons_are_sharp_at_ratio_two(qapp: object) -> None:
    from echogen_desktop.icons import render

    pixmap = render("play", QColor("#202020"), 24, 2.0)
    assert (pixmap.width(), pixmap.height(), pixmap.devicePixelRatio()) == (48, 48, 2.0)
