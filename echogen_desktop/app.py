"""Entry point: one instance per user, then the QApplication, the qasync loop and the session flow."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from echogen_desktop import APP_NAME, ORG_NAME, __version__

INSTANCE_ENV = "ECHOGEN_INSTANCE_NAME"  # tests give each run its own single-instance name


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="echogen-desktop", description=APP_NAME,
        epilog="Links: echogen://podcast/<id> opens that episode (in the running app, if there is one).",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation (media backend, a clip, the main window) and exit")
    parser.add_argument("--reset-settings", action="store_true",
                        help="forget the saved project, window layout and session, then exit")
    parser.add_argument("--url", help="Supabase project URL")
    parser.add_argument("--anon-key", help="Supabase anon (publishable) key")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS", help="close the window after SECONDS")
    parser.add_argument("--screenshot", metavar="PNG", help="save a picture of the main window once it is shown")
    parser.add_argument("target", nargs="?", default="", help="a link to open; passed on to a running instance")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("QT_API", "pyside6")  # qasync must never pick another binding
    if args.self_test:  # never claims the instance: it must run beside a running app
        from echogen_desktop.self_test import run as self_test

        return self_test()
    from echogen_desktop.single_instance import SingleInstance

    # Before anything heavy: a second launch only hands over to the first one.
    instance = SingleInstance(os.environ.get(INSTANCE_ENV) or None)
    if not instance.claim():
        if args.reset_settings:
            print(f"{APP_NAME} is running: quit it before resetting its settings.", file=sys.stderr)
            return 1
        if instance.notify_primary(args.target):
            print(f"{APP_NAME} is already running; brought it to the front.")
            return 0
        print(f"{APP_NAME} is already running but does not answer.", file=sys.stderr)
        return 1
    try:
        if args.reset_settings:
            return _reset_settings()
        return _run(args, instance)
    finally:
        instance.release()


def _reset_settings() -> int:
    from PySide6.QtCore import QSettings

    from echogen_desktop.settings_reset import reset_settings

    settings = QSettings(ORG_NAME, APP_NAME)  # the same store QSettings() uses inside the app
    removed = reset_settings(settings)
    print(f"Settings reset ({len(removed)} entries removed from {settings.fileName()}).")
    return 0


def _run(args: argparse.Namespace, instance: object) -> int:
    import qasync
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    from echogen_desktop.app_shell import AppShell, build_main_window, has_downloaded_episodes
    from echogen_desktop.icons import app_icon
    from echogen_desktop.links import LinkRouter
    from echogen_desktop.logging_setup import configure as configure_logging
    from echogen_desktop.session_controller import SessionController
    from echogen_desktop.single_instance import SingleInstance
    from echogen_desktop.translations import install_translators
    from echogen_desktop.views.main_window import MainWindow
    from echogen_desktop.views.theme import follow_system_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication) and isinstance(instance, SingleInstance)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    install_translators(app)  # before any window: texts are translated when widgets are built
    app.setWindowIcon(app_icon())
    configure_logging()
    follow_system_theme(app)
    instance.listen()  # a failure only means later launches cannot raise us
    # The shell decides when the app ends: windows come and go while signing in.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    settings = QSettings()
    controller = SessionController(settings, url=args.url, anon_key=args.anon_key)
    shell = AppShell(controller, lambda: build_main_window(settings, controller),
                     offline_library=has_downloaded_episodes)
    if os.environ.get("ECHOGEN_STARTUP_PROBE"):
        from echogen_desktop.startup_probe import install as install_probe

        install_probe(shell)
    instance.raiseRequested.connect(shell.raise_window)
    # echogen:// links: from this launch's argument, from later launches, and (macOS) as open events.
    links = LinkRouter(shell, parent=shell)
    links.watch_file_open_events(app)
    instance.raiseRequested.connect(links.open_link)
    if args.target:
        links.open_link(args.target)
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
    async def run_until_quit() -> None:
        # One coroutine from start to the end of shutdown: between two run_until_complete calls
        # qasync still steps Qt-driven callbacks with no running loop, and httpx then fails.
        await finished.wait()
        if isinstance(shell.window, MainWindow):
            await shell.window.stop_live_updates()
        await controller.aclose()
        await _cancel_remaining_tasks()

    with loop:
        QTimer.singleShot(0, shell.start)
        loop.run_until_complete(run_until_quit())
    return 0


async def _cancel_remaining_tasks(grace: float = 2.0) -> None:
    """What asyncio.run does before closing its loop: requests still in flight at quit (a page, a
    position send, a socket keepalive) unwind now, instead of failing later against a closed loop."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=grace)
