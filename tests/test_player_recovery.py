"""Recovery from expired signed URLs and dropped connections, against the real stack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from echogen_desktop.player.facade import Player
from echogen_desktop.player.recovery import AttemptBudget, ErrorGate, StallDetector
from echogen_devstack.runner import StackInfo
from tests.conftest import wait_until
from tests.player_support import AUDIO_BUCKET, SigningProvider, UserFactory, new_player, set_faults, wav_episode


def test_error_gate_lets_one_report_of_a_storm_through() -> None:
    gate = ErrorGate(window_seconds=5)
    admitted = [gate.admit("Demuxing failed", 100 + i * 0.03) for i in range(150)]
    assert admitted.count(True) == 1
    assert gate.admit("Could not open file", 101)
    assert gate.admit("Demuxing failed", 106)


def test_stall_detector_needs_playing_and_a_frozen_position() -> None:
    stall = StallDetector(stall_seconds=2)
    assert not stall.observe(0, 1000, playing=True)
    assert not stall.observe(1.9, 1000, playing=True)
    assert stall.observe(2.0, 1000, playing=True)
    assert not stall.observe(2.1, 1100, playing=True)  # moving again
    assert not stall.observe(9.0, 1100, playing=False)  # paused is not stalled
    assert not stall.observe(10.0, 1100, playing=True)
    assert stall.observe(12.5, 1100, playing=True)


def test_attempt_budget_refills_after_healthy_playback() -> None:
    budget = AttemptBudget(max_attempts=2, healthy_ms=10_000)
    assert budget.take(5000) and budget.take(5000)
    assert not budget.take(5000)
    budget.note_position(14_000)
    assert not budget.take(5000)
    budget.note_position(15_000)
    assert budget.take(15_000)


@pytest.fixture
async def player(qtbot: QtBot, tmp_path: Path, stack: StackInfo) -> AsyncIterator[Player]:
    instance = new_player(tmp_path / "player.ini", stall_seconds=1.5, max_attempts=3)
    yield instance
    instance.shutdown()
    await set_faults(stack)  # every switch off for the next test


@pytest.mark.qasync
async def test_a_url_expiring_mid_play_is_re_signed_and_resumed(player: Player, user_factory: UserFactory) -> None:
    user = await user_factory()
    episode = await wav_episode(user, seconds=14)
    provider = SigningProvider(user, force_expiry=2)
    errors: list[str] = []
    recovered: list[int] = []
    player.errorOccurred.connect(errors.append)
    player.recovery.recovered.connect(recovered.append)
    await player.load(episode, provider)
    await wait_until(lambda: player.position > 2600, timeout=6)  # the URL is dead now
    player.seek(5000)  # a seek needs a new Range request: refused, and the position freezes
    await wait_until(lambda: recovered, timeout=8, message="the expired URL was never re-signed")
    assert len(provider.requests) == 2
    assert 4900 <= recovered[0] <= 5200
    await wait_until(lambda: player.position > 6500, timeout=5, message="playback did not continue")
    assert player.playing
    assert errors == []


@pytest.mark.qasync
async def test_a_dropped_connection_is_recovered(
    player: Player, user_factory: UserFactory, stack: StackInfo
) -> None:
    user = await user_factory()
    episode = await wav_episode(user, seconds=16)
    provider = SigningProvider(user)
    errors: list[str] = []
    recovered: list[int] = []
    player.errorOccurred.connect(errors.append)
    player.recovery.recovered.connect(recovered.append)
    await set_faults(stack, drop_streams=True, drop_after_bytes=24_000, drop_count=1)
    await player.load(episode, provider)  # 24,000 bytes of 8 kHz 16-bit mono: the link dies at 1.5 s
    await wait_until(lambda: recovered, timeout=14, message="the dropped stream was never reloaded")
    await wait_until(lambda: player.position > 4000, timeout=10, message="did not play on past the drop")
    assert player.playing
    assert len(provider.requests) >= 2  # re-signed
    assert errors == []


@pytest.mark.qasync
async def test_an_error_storm_gives_one_clear_error_after_n_attempts(
    player: Player, user_factory: UserFactory, stack: StackInfo
) -> None:
    user = await user_factory()
    episode = await wav_episode(user, seconds=30)
    provider = SigningProvider(user)
    errors: list[str] = []
    attempts: list[int] = []
    player.errorOccurred.connect(errors.append)
    player.recovery.recovering.connect(lambda attempt, _max: attempts.append(attempt))
    await set_faults(stack, drop_streams=True, drop_after_bytes=16_000)  # every stream, for good
    await player.load(episode, provider)
    await wait_until(lambda: errors, timeout=60, message="never gave up")
    assert attempts == [1, 2, 3]
    assert player.recovery.incidents > 3, "expected a storm of raw errors"
    await asyncio.sleep(1.0)  # the storm is over: nothing more reaches the user
    assert len(errors) == 1
    assert "could not be restored" in errors[0]
    assert not player.playing

    await set_faults(stack)  # the network is back: Play tries again from the same place
    player.play()
    await wait_until(lambda: player.playing and player.position > 0, timeout=6)


@pytest.mark.qasync
async def test_re_signing_that_keeps_failing_gives_up(player: Player, user_factory: UserFactory) -> None:
    user = await user_factory()
    episode = await wav_episode(user, seconds=14)
    provider = SigningProvider(user, force_expiry=2)
    errors: list[str] = []
    player.errorOccurred.connect(errors.append)
    await player.load(episode, provider)
    await wait_until(lambda: player.position > 2600, timeout=6)
    await user.client.storage.from_(AUDIO_BUCKET).remove([episode.audio_path])  # gone for good
    player.seek(6000)
    await wait_until(lambda: errors, timeout=10, message="never gave up")
    await asyncio.sleep(0.5)
    assert len(errors) == 1
    assert len(provider.requests) == 1 + 3  # the first signing, then three refused re-signings
