"""Regression guard: PySide6 6.12.0 drops a reference to True on every disconnect() (Python 3.11)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import gc
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        fired = Signal(int)

    def slot(value: int) -> None:
        pass

    emitter = Emitter()
    for _ in range(10_000):
        emitter.fired.connect(slot)
        emitter.fired.disconnect(slot)
    gc.collect()
    print("survived")
    """
)


def test_connect_disconnect_ten_thousand_times_does_not_abort() -> None:
    # A subprocess: the broken build aborts the interpreter (bool_dealloc), which would kill pytest.
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "survived"
    gc.collect()


def test_pinned_pyside_version_is_not_the_broken_release() -> None:
    import PySide6

    major, minor = (int(part) for part in PySide6.__version__.split(".")[:2])
    assert (6, 10) <= (major, minor) < (6, 12)
