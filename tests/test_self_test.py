"""``--self-test`` from source: versions, the media backend, a clip played to its end, the main window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _self_test(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           **extra}
    return subprocess.run([sys.executable, "-m", "echogen_desktop", "--self-test"], capture_output=True, text=True,
                          timeout=120, env=env)


def test_self_test_passes_and_says_what_it_checked(tmp_path: Path) -> None:
    done = _self_test(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "EchoGen Desktop: 0.1.0" in out and "PySide6: 6." in out and "Qt: 6." in out and "Frozen: no" in out
    assert "media backend: available" in out
    assert "clip: played to the end (1000 ms of 1000 ms" in out
    assert "main window: opened, rendered and closed" in out
    assert "audio output: " in out  # reported, never a failure (no device here: playback is silent)
    assert "self-test passed" in out
    assert not list(tmp_path.rglob("*.conf")), "the self-test must not write the user's settings"


def test_a_missing_clip_fails_with_a_clear_message(tmp_path: Path) -> None:
    empty = tmp_path / "resources"
    empty.mkdir()
    done = _self_test(tmp_path, ECHOGEN_RESOURCES=str(empty))
    assert done.returncode == 1
    assert "SELF-TEST FAILED at clip playback: the bundled clip is missing" in done.stdout


def test_a_clip_that_does_not_decode_fails(tmp_path: Path) -> None:
    broken = tmp_path / "resources" / "sounds"
    broken.mkdir(parents=True)
    (broken / "self-test.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio" * 4)
    done = _self_test(tmp_path, ECHOGEN_RESOURCES=str(tmp_path / "resources"))
    assert done.returncode == 1
    assert "SELF-TEST FAILED at clip playback" in done.stdout


def test_the_bundled_clip_is_one_second_of_sound() -> None:
    import wave

    clip = Path(__file__).resolve().parent.parent / "resources" / "sounds" / "self-test.wav"
    with wave.open(str(clip)) as audio:
        assert audio.getnframes() / audio.getframerate() == 1.0
        frames = audio.readframes(audio.getnframes())
    assert max(frames[1::2]) > 0  # not silence: a player that skips decoding cannot pass by accident
