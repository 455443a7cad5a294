"""Entry point: one instance per user, then the QApplication, the qasync loop and the session flow."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from echogen_desktop import APP_NAME, ORG_NAME, __version__

INSTANCE_ENV = "ECHOGEN_INSTANCE_NAME"  # tests give each run its own single-instance name


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="echogen-desktop", description=APP_NAME)
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--url", help="Supabase project URL")
    parser.add_argument("--anon-key", help="Supabase anon (publishable) key")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS", help="close the window after SECONDS")
    parser.add_argument("--screenshot", metavar="PNG", help="save a picture of the main window once it is shown")
    parser.add_argument("target", nargs="?", default="", help="a link to open; passed on to a running instance")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("QT_API", "pyside6")  # qasync must never pick another binding
    from echogen_desktop.single_instance import SingleInstance

    # Before anything heavy: a second launch only hands over to the first one.
    instance = SingleInstance(os.environ.get(INSTANCE_ENV) or None)
    if not instance.claim():
        if instance.notify_primary(args.target):
            print(f"{APP_NAME} is already running; brought it to the front.")
            return 0
        print(f"{APP_NAME} is already running but does not answer.", file=sys.stderr)
        return 1
    try:
        return _run(args, instance)
    finally:
        instance.release()


def _run(args: argparse.Namespace, instance: object) -> int:
    import qasync
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    from echogen_desktop.app_shell import AppShell, build_main_window
    from echogen_desktop.session_controller import SessionController
    from echogen_desktop.single_instance import SingleInstance
    from echogen_desktop.views.theme import follow_system_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication) and isinstance(instance, SingleInstance)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    follow_system_theme(app)
    instance.listen()  # a failure only means later launches cannot raise us
    # The shell decides when the app ends: windows come and go while signing in.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    settings = QSettings()
    controller = SessionController(settings, url=args.url, anon_key=args.anon_key)
    shell = AppShell(controller, lambda: build_main_window(settings, controller))
    instance.raiseRequested.connect(shell.raise_window)
    finished = asyncio.Event()
    shell.finished.connect(finished.set)

    shot: list[str] = [args.screenshot] if args.screenshot else []

    def screenshot(widget: QWidget | None) -> None:
        if shot and widget is not None:
            widget.grab().save(shot.pop())

    shell.mainWindowShown.connect(lambda window: QTimer.singleShot(300, lambda: screenshot(window)))

    def quit_after() -> None:
        screenshot(shell.top_level())  # nothing signed in yet: picture what is on screen instead
        shell.quit()

    if args.quit_after is not None:
        QTimer.singleShot(int(args.quit_after * 1000), quit_after)
    with loop:
        QTimer.singleShot(0, shell.start)
        loop.run_until_complete(finished.wait())
        loop.run_until_complete(controller.aclose())
    return 0
