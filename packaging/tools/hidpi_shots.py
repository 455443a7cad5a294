"""Pictures of the main window (signed-out page and workspace) and the sign-in dialog at QT_SCALE_FACTOR=2.

Usage: QT_SCALE_FACTOR=2 QT_QPA_PLATFORM=offscreen python packaging/tools/hidpi_shots.py OUT_DIR
Prints one line per picture: name, device pixel ratio, logical size, pixel size. Used by
tests/test_packaging_hidpi.py and to look at the rendering by eye.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget


def main(out_dir: str) -> int:
    app = QApplication(sys.argv[:1])
    from echogen_desktop.icons import app_icon
    from echogen_desktop.views.main_window import MainWindow
    from echogen_desktop.views.sign_in_dialog import SignInDialog

    app.setWindowIcon(app_icon())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="echogen-hidpi-")
    window = MainWindow(QSettings(str(Path(folder) / "s.ini"), QSettings.Format.IniFormat))
    window.resize(1000, 640)
    window.show()
    dialog = SignInDialog("https://abcdefgh.supabase.co")
    dialog.show()

    def shoot(name: str, widget: QWidget) -> None:
        app.processEvents()
        picture = widget.grab()
        picture.save(str(out / f"{name}.png"))
        print(name, picture.devicePixelRatio(), widget.width(), widget.height(), picture.width(), picture.height())

    shoot("main-window-signed-out", window)
    window.pages.setCurrentIndex(1)
    window.show_section(2)
    shoot("main-window-workspace", window)
    shoot("sign-in-dialog", dialog)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "hidpi"))
