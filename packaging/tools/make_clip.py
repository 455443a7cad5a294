"""Write resources/sounds/self-test.wav: one second of a soft 440 Hz tone, made with the stdlib only.

The frozen build's ``--self-test`` plays it to the end to prove the QtMultimedia backend made it into
the bundle. 16-bit mono at 16 kHz keeps it at 32 KB. Fades in and out so it does not click.
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 16_000
SECONDS = 1.0
TARGET = Path(__file__).resolve().parents[2] / "resources" / "sounds" / "self-test.wav"


def samples() -> bytes:
    count = int(RATE * SECONDS)
    fade = RATE // 20
    frames = bytearray()
    for n in range(count):
        envelope = min(1.0, n / fade, (count - n) / fade)
        frames += struct.pack("<h", int(0.3 * 32767 * envelope * math.sin(2 * math.pi * 440 * n / RATE)))
    return bytes(frames)


def main() -> int:
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(TARGET), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples())
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
