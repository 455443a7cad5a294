"""Keep FFmpeg from printing stream URLs to stderr.

Qt's FFmpeg media backend leaves libavutil at its default log level (info), so opening a stream
prints "Input #0, wav, from '<url>'" to stderr: for us a signed Storage URL with its token, which
a desktop session keeps in its journal. The level is set on the libavutil Qt already loaded
(never a second copy); ``QT_FFMPEG_DEBUG`` keeps FFmpeg's own output for debugging.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)
AV_LOG_FATAL = 8  # only what stops FFmpeg; errors reach us through QMediaPlayer.errorOccurred


def _libavutil_candidates() -> list[Path]:
    import PySide6

    root = Path(PySide6.__file__).parent
    if sys.platform == "win32":
        return sorted(root.glob("avutil-*.dll"))
    if sys.platform == "darwin":
        return sorted((root / "Qt" / "lib").glob("libavutil.*.dylib"))
    return sorted((root / "Qt" / "lib").glob("libavutil.so.*"))


def quiet_ffmpeg_log() -> bool:
    """Lower libavutil's log level if Qt has loaded it (after a QMediaPlayer exists); True if done."""
    if os.environ.get("QT_FFMPEG_DEBUG"):
        return False
    mode = getattr(os, "RTLD_NOLOAD", 0) | getattr(os, "RTLD_NOW", 0)
    for path in _libavutil_candidates():
        try:
            library = ctypes.CDLL(str(path), mode=mode)
            library.av_log_set_level(AV_LOG_FATAL)
        except (OSError, AttributeError):
            continue  # not the loaded one (or not loaded): try the next name
        return True
    log.debug("libavutil is not loaded; FFmpeg's log level left as it is")
    return False
