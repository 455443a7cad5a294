"""Shared pieces for the player tests: real WAV/MP3 files uploaded to the stack, a signed-URL
provider, a player with its own settings file, and the devstack's connection-drop switch."""

from __future__ import annotations

import io
import math
import struct
import uuid
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import lameenc  # type: ignore[import-not-found]
from PySide6.QtCore import QSettings

from echogen_desktop.player.facade import Episode, Player
from echogen_desktop.player.positions import PositionStore
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser

AUDIO_BUCKET = "podcast-audio"


def tone_pcm(seconds: float, rate: int) -> bytes:
    """A quiet 440 Hz tone as 16-bit mono PCM."""
    frames = int(seconds * rate)
    return b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(frames))


def make_wav(seconds: float, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(tone_pcm(seconds, rate))
    return buf.getvalue()


def make_mp3(seconds: float, rate: int = 22050) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(48)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(7)
    return bytes(encoder.encode(tone_pcm(seconds, rate)) + encoder.flush())


@dataclass
class SigningProvider:
    """The app's provider shape ``(audio_path, expires_in) -> signed URL`` over supabase-py.

    ``force_expiry`` replaces the requested lifetime (tests use 2-3 s to make URLs expire)."""

    user: TestUser
    force_expiry: int | None = None
    requests: list[tuple[str, int]] = field(default_factory=list)

    async def __call__(self, path: str, expires_in: int) -> str:
        self.requests.append((path, expires_in))
        lifetime = self.force_expiry if self.force_expiry is not None else expires_in
        response = await self.user.client.storage.from_(AUDIO_BUCKET).create_signed_url(path, lifetime)
        url: str = response["signedURL"]
        return url


async def upload_episode(user: TestUser, data: bytes, filename: str, mimetype: str, seconds: float) -> Episode:
    podcast_id = str(uuid.uuid4())
    path = f"{user.id}/{podcast_id}/{filename}"
    await user.client.storage.from_(AUDIO_BUCKET).upload(path, data, {"content-type": mimetype})
    return Episode(id=podcast_id, title=f"Episode {podcast_id[:6]}", audio_path=path, duration_seconds=seconds)


async def wav_episode(user: TestUser, seconds: float = 12.0) -> Episode:
    return await upload_episode(user, make_wav(seconds), "episode.wav", "audio/wav", seconds)


async def mp3_episode(user: TestUser, seconds: float = 12.0) -> Episode:
    return await upload_episode(user, make_mp3(seconds), "episode.mp3", "audio/mpeg", seconds)


def settings_at(path: Path) -> QSettings:
    return QSettings(str(path), QSettings.Format.IniFormat)


def new_player(settings_file: Path, **options: float) -> Player:
    return Player(PositionStore(settings_at(settings_file)), **options)  # type: ignore[arg-type]


async def set_faults(stack: StackInfo, **switches: object) -> None:
    """The devstack's test switch (echogen_devstack/faults.py), with the service key."""
    headers = {"apikey": stack.service_key, "Authorization": f"Bearer {stack.service_key}"}
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{stack.url}/__devstack/faults", json=switches, headers=headers)
    response.raise_for_status()


UserFactory = Callable[[], Awaitable[TestUser]]
