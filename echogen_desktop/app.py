"""Entry point: the QApplication, the qasync event loop and the main window."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from echogen_desktop import APP_NAME, ORG_NAME, __version__


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="echogen-desktop", description=APP_NAME)
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--url", help="Supabase project URL")
    parser.add_argument("--anon-key", help="Supabase anon (publishable) key")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS", help="close the window after SECONDS")
    parser.add_argument("--screenshot", metavar="PNG", help="save a picture of the main window once it is shown")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("QT_API", "pyside6")  # qasync must never pick another binding
    import qasync
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from echogen_desktop.views.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    url = args.url or os.environ.get("ECHOGEN_SUPABASE_URL")
    window = MainWindow(QSettings(), project_url=url)
    window.show()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    if args.screenshot:
        QTimer.singleShot(300, lambda: window.grab().save(args.screenshot))
    if args.quit_after is not None:
        QTimer.singleShot(int(args.quit_after * 1000), window.close)
    with loop:
        loop.run_until_complete(closed.wait())
    return 0
