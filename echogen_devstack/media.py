"""Demo media made from nothing: speech-like two-voice WAV dialogue and PNG cover art.

Pure standard library (``wave``, ``struct``, ``zlib``, ``math``, ``array``) so the seed needs no
native dependency. Speed matters because CI seeds on every run: the voice is built from cached
one-period wavetables that are tiled with list arithmetic (C speed), and cover art is painted
as per-row spans copied from precomputed gradient strips, so Python never loops per pixel.

Synthesis model, just enough to be heard as two people talking: each syllable of the line's
text is a voiced vowel whose harmonics are shaped by vowel formants, with a rising-then-falling
amplitude envelope, a per-phrase pitch declination (rising at a question), an optional noise
burst for an initial consonant, and pauses at word, comma, sentence and speaker-turn boundaries.
"""

from __future__ import annotations

import io
import math
import random
import re
import struct
import sys
import wave
import zlib
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

SAMPLE_RATE = 22_050
PEAK = 12_000  # int16 peak of a voiced syllable; leaves headroom for the consonant noise

# Formant frequencies (Hz) of an adult male voice; a voice scales them (shorter vocal tract).
_FORMANTS: dict[str, tuple[float, float, float]] = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (300.0, 2200.0, 2950.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (320.0, 870.0, 2240.0),
}
_FORMANT_WEIGHTS = (1.0, 0.6, 0.3)
_FORMANT_BANDWIDTHS = (90.0, 110.0, 150.0)
_MAX_HARMONIC_HZ = 3_800.0  # keeps the buzz soft; the ear needs little above F3

_FRICATIVES = set("sfhzcvx")
_PLOSIVES = set("tkpdbgqj")

# Pauses, in seconds.
LEAD_IN = 0.30
TURN_GAP = 0.45
WORD_GAP = 0.06
COMMA_GAP = 0.18
SENTENCE_GAP = 0.30
TAIL = 0.50


@dataclass(frozen=True)
class Voice:
    """A speaker: base pitch in Hz and how much higher its formants sit than a male voice's."""

    f0: float
    formant_scale: float = 1.0
    gain: float = 1.0


@dataclass(frozen=True)
class Line:
    speaker: str
    text: str


@dataclass(frozen=True)
class TimedLine:
    """A line of the dialogue with the seconds where its voice starts and stops in the audio."""

    speaker: str
    text: str
    start_time: float
    end_time: float


@dataclass(frozen=True)
class RenderedDialogue:
    wav: bytes
    duration: float
    lines: list[TimedLine]


AVA = Voice(f0=205.0, formant_scale=1.17, gain=0.9)
BEN = Voice(f0=112.0, formant_scale=1.0, gain=1.0)


# ------------------------------------------------------------------------------- the voice
@lru_cache(maxsize=1024)
def _period_table(formant_scale: float, vowel: str, period: int) -> tuple[float, ...]:
    """One pitch period of a vowel, peak-normalised; starts at 0 so tiles join without clicks."""
    f0 = SAMPLE_RATE / period
    formants = [f * formant_scale for f in _FORMANTS[vowel]]
    bandwidths = [b * formant_scale for b in _FORMANT_BANDWIDTHS]
    sine = [math.sin(2.0 * math.pi * n / period) for n in range(period)]
    wave_ = [0.0] * period
    k = 1
    while k * f0 < _MAX_HARMONIC_HZ:
        hz = k * f0
        resonance = sum(
            w / (1.0 + ((hz - f) / b) ** 2)
            for f, b, w in zip(formants, bandwidths, _FORMANT_WEIGHTS, strict=True)
        )
        amp = (0.08 + resonance) / k  # -6 dB/octave source tilt, lifted near the formants
        harmonic = [sine[(k * n) % period] for n in range(period)]
        wave_ = [a + amp * h for a, h in zip(wave_, harmonic, strict=True)]
        k += 1
    peak = max(abs(v) for v in wave_) or 1.0
    return tuple(v / peak for v in wave_)


@lru_cache(maxsize=256)
def _envelope(n: int) -> tuple[float, ...]:
    """Syllable loudness: raised-cosine attack and release around a gentle mid-syllable peak."""
    attack = min(n // 3, int(0.025 * SAMPLE_RATE))
    release = min(n // 2, int(0.050 * SAMPLE_RATE))
    body = n - attack - release
    up = [0.5 - 0.5 * math.cos(math.pi * i / attack) for i in range(attack)]
    mid = [0.85 + 0.15 * math.sin(math.pi * i / max(body, 1)) for i in range(body)]
    down = [0.85 * (0.5 + 0.5 * math.cos(math.pi * i / release)) for i in range(release)]
    return tuple(up + mid + down)


def _syllables(word: str) -> list[str]:
    """The vowel of each vowel group in a word; at most four, so long words stay short."""
    groups = re.findall(r"[aeiouy]+", word.lower())[:4] or ["e"]
    return ["i" if g[0] == "y" else g[0] for g in groups]


def _noise(n: int, amplitude: float, rng: random.Random) -> list[int]:
    """A consonant: differenced white noise (hiss) under a decaying envelope."""
    out: list[int] = []
    prev = 0.0
    for i in range(n):
        r = rng.uniform(-1.0, 1.0)
        out.append(int((r - prev) * amplitude * (1.0 - i / n)))
        prev = r
    return out


def _silence(seconds: float) -> array[int]:
    return array("h", [0]) * int(seconds * SAMPLE_RATE)


def _speak(text: str, voice: Voice, rng: random.Random) -> array[int]:
    """Samples for one line: syllables along a declining (or, for a question, rising) pitch."""
    words = text.split()
    plan: list[tuple[str, str, bool, str]] = []  # vowel, onset, word-initial, trailing punctuation
    for word in words:
        sylls = _syllables(word)
        first = word.lstrip("\"'(").lower()[:1]
        for i, vowel in enumerate(sylls):
            trailing = word[-1] if i == len(sylls) - 1 and word[-1] in ",;:.!?" else ""
            plan.append((vowel, first if i == 0 else "", i == 0, trailing))
    out = array("h")
    question = text.rstrip().endswith("?")
    for index, (vowel, onset, word_start, trailing) in enumerate(plan):
        progress = index / max(len(plan) - 1, 1)
        semitones = 2.0 - 4.0 * progress  # declination across the phrase
        if question and progress > 0.75:
            semitones += 10.0 * (progress - 0.75)
        semitones += rng.choice((-1.0, -0.5, 0.0, 0.5, 1.0))
        if word_start and rng.random() < 0.35:
            semitones += 1.5  # a stressed word
        if word_start and onset:
            if onset in _FRICATIVES:
                out.extend(_noise(int(rng.uniform(0.035, 0.06) * SAMPLE_RATE), 0.22 * PEAK, rng))
            elif onset in _PLOSIVES:
                out.extend(_silence(0.015))
                out.extend(_noise(int(0.012 * SAMPLE_RATE), 0.3 * PEAK, rng))
        seconds = round(rng.uniform(0.13, 0.21) / 0.01) * 0.01
        out.extend(_voiced(vowel, voice, semitones, int(seconds * SAMPLE_RATE)))
        if trailing and trailing in ".!?":
            out.extend(_silence(SENTENCE_GAP))
        elif trailing:
            out.extend(_silence(COMMA_GAP))
        elif index + 1 < len(plan) and plan[index + 1][2]:
            out.extend(_silence(WORD_GAP))
    return out


def _voiced(vowel: str, voice: Voice, semitones: float, n: int) -> list[int]:
    """A vowel of ``n`` samples gliding down a quarter-tone in three whole-period chunks."""
    wave_: list[float] = []
    chunk = n // 3 + 1
    for step in range(3):
        # Pitch on a quarter-tone grid, so the wavetable cache stays small.
        quarter_tones = round(semitones * 2) - step
        f0 = voice.f0 * 2.0 ** (quarter_tones / 24.0)
        period = max(8, round(SAMPLE_RATE / f0))
        table = _period_table(voice.formant_scale, vowel, period)
        wave_.extend(table * (chunk // period + 1))
    env = _envelope(n)
    scale = PEAK * voice.gain
    return [int(scale * w * e) for w, e in zip(wave_, env, strict=False)]  # wave_ overshoots


def render_dialogue(
    lines: Sequence[Line], voices: Mapping[str, Voice], *, seed: int = 0
) -> RenderedDialogue:
    """Speak ``lines`` turn by turn; return the WAV (mono, 16-bit) and each line's timing."""
    rng = random.Random(seed)
    samples = _silence(LEAD_IN)
    timed: list[TimedLine] = []
    for i, line in enumerate(lines):
        if i:
            samples.extend(_silence(TURN_GAP))
        start = len(samples)
        spoken = _speak(line.text, voices[line.speaker], rng)
        while spoken and spoken[-1] == 0:  # a line's end is its last sound, not its pause
            spoken.pop()
        samples.extend(spoken)
        timed.append(
            TimedLine(
                speaker=line.speaker,
                text=line.text,
                start_time=round(start / SAMPLE_RATE, 2),
                end_time=round(len(samples) / SAMPLE_RATE, 2),
            )
        )
    samples.extend(_silence(TAIL))
    return RenderedDialogue(wav=encode_wav(samples), duration=len(samples) / SAMPLE_RATE, lines=timed)


def encode_wav(samples: array[int], sample_rate: int = SAMPLE_RATE) -> bytes:
    """A mono 16-bit PCM WAV file (little-endian samples, as RIFF requires)."""
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(samples.tobytes())
    return buffer.getvalue()


# ------------------------------------------------------------------------------ cover art
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    start: RGB
    end: RGB
    accent: RGB
    highlight: RGB


PALETTES: tuple[Palette, ...] = (
    Palette((32, 18, 77), (214, 64, 105), (255, 196, 87), (255, 244, 214)),
    Palette((6, 52, 66), (38, 160, 142), (244, 110, 66), (236, 252, 245)),
    Palette((24, 24, 36), (71, 92, 185), (120, 230, 200), (230, 236, 255)),
    Palette((70, 24, 20), (233, 140, 52), (40, 40, 60), (255, 240, 220)),
)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _strip(length: int, start: RGB, end: RGB, tint: RGB, amount: float) -> bytes:
    """A diagonal gradient as one strip: pixel (x, y) is strip[x + y], optionally tinted."""
    out = bytearray()
    for i in range(length):
        out.extend(_mix(_mix(start, end, i / max(length - 1, 1)), tint, amount))
    return bytes(out)


Span = tuple[int, int]


def _disc_span(cx: float, cy: float, r: float, y: int) -> Span | None:
    dy = y + 0.5 - cy
    if abs(dy) >= r:
        return None
    half = math.sqrt(r * r - dy * dy)
    return round(cx - half), round(cx + half)


@dataclass(frozen=True)
class _Shape:
    """A disc, a ring (``inner`` > 0) or a rectangle (``box``), painted from strip ``layer``."""

    layer: int
    cx: float = 0.0
    cy: float = 0.0
    r: float = 0.0
    inner: float = 0.0
    box: tuple[int, int, int, int] | None = None

    def spans(self, y: int) -> list[Span]:
        if self.box is not None:
            x0, y0, x1, y1 = self.box
            return [(x0, x1)] if y0 <= y < y1 else []
        outer = _disc_span(self.cx, self.cy, self.r, y)
        if outer is None:
            return []
        hole = _disc_span(self.cx, self.cy, self.inner, y) if self.inner else None
        if hole is None:
            return [outer]
        return [(outer[0], hole[0]), (hole[1], outer[1])]


def _motif(variant: int, size: int, rng: random.Random) -> list[_Shape]:
    """Broadcast rings + equaliser bars, or two overlapping "speaker" discs + a waveform."""
    s = float(size)
    shapes: list[_Shape] = []
    if variant % 2 == 0:
        cx, cy = s * 0.32, s * 0.40
        for i, radius in enumerate((0.36, 0.27, 0.18)):
            width = s * (0.035 - 0.005 * i)
            shapes.append(_Shape(layer=1 + i % 2, cx=cx, cy=cy, r=s * radius, inner=s * radius - width))
        shapes.append(_Shape(layer=3, cx=cx, cy=cy, r=s * 0.08))
        bar_w, gap = int(s * 0.035), int(s * 0.02)
        x = int(s * 0.08)
        while x + bar_w < s * 0.92:
            height = int(s * rng.uniform(0.04, 0.2))
            base = int(s * 0.90)
            shapes.append(_Shape(layer=2, box=(x, base - height, x + bar_w, base)))
            x += bar_w + gap
    else:
        shapes.append(_Shape(layer=1, cx=s * 0.38, cy=s * 0.42, r=s * 0.26))
        shapes.append(_Shape(layer=2, cx=s * 0.62, cy=s * 0.42, r=s * 0.26))
        shapes.append(_Shape(layer=3, cx=s * 0.50, cy=s * 0.42, r=s * 0.30, inner=s * 0.285))
        bar_w = max(2, int(s * 0.012))
        x = int(s * 0.1)
        mid = int(s * 0.82)
        while x + bar_w < s * 0.9:
            phase = (x - s * 0.1) / (s * 0.8)
            half = int(s * 0.07 * abs(math.sin(phase * math.pi * 3)) * rng.uniform(0.5, 1.0)) + 2
            shapes.append(_Shape(layer=3, box=(x, mid - half, x + bar_w, mid + half)))
            x += bar_w * 2
    return shapes


def cover_png(seed: int, size: int = 512) -> bytes:
    """Square RGB cover art, distinct per ``seed``: a diagonal gradient and a geometric motif."""
    rng = random.Random(seed)
    palette = PALETTES[seed % len(PALETTES)]
    length = 2 * size
    strips = [
        _strip(length, palette.start, palette.end, palette.accent, 0.0),
        _strip(length, palette.start, palette.end, palette.accent, 0.35),
        _strip(length, palette.start, palette.end, palette.accent, 0.75),
        _strip(length, palette.highlight, palette.accent, palette.highlight, 0.3),
    ]
    shapes = _motif(seed, size, rng)
    raw = bytearray()
    for y in range(size):
        row = bytearray(strips[0][y * 3 : (y + size) * 3])
        for shape in shapes:
            strip = strips[shape.layer]
            for x0, x1 in shape.spans(y):
                x0, x1 = max(0, x0), min(size, x1)
                if x1 > x0:
                    row[x0 * 3 : x1 * 3] = strip[(y + x0) * 3 : (y + x1) * 3]
        raw.append(0)  # filter type None
        raw.extend(row)
    return encode_png(size, size, bytes(raw))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(width: int, height: int, filtered_rows: bytes) -> bytes:
    """An 8-bit RGB PNG from rows that already carry their filter byte."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(filtered_rows, 6))
        + _chunk(b"IEND", b"")
    )
