"""The player facade over real audio streamed from the stack: transport, speed, memory, sleep, queue."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from echogen_desktop.player.facade import END_OF_EPISODE, Episode, Player
from echogen_desktop.player.positions import clamp_speed
from tests.conftest import wait_until
from tests.player_support import (
    SigningProvider,
    UserFactory,
    make_wav,
    mp3_episode,
    new_player,
    wav_episode,
)


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "player.ini"


@pytest.fixture
def player(qtbot: QtBot, settings_file: Path) -> Iterator[Player]:
    instance = new_player(settings_file)
    yield instance
    instance.shutdown()
    instance.deleteLater()


def test_speed_is_clamped_to_tenths() -> None:
    assert clamp_speed(0.2) == 0.5
    assert clamp_speed(3.7) == 3.0
    assert clamp_speed(1.26) == 1.3
    assert clamp_speed(1.0) == 1.0


@pytest.mark.qasync
async def test_play_pause_seek_and_speed_over_http(player: Player, user_factory: UserFactory) -> None:
    user = await user_factory()
    episode = await mp3_episode(user, seconds=12)
    provider = SigningProvider(user)
    await player.load(episode, provider)
    await wait_until(lambda: player.playing and player.position > 300, timeout=5, message="no audio")
    # The URL must outlive the listen: duration / speed + margin (12 s MP3 at 1x, 120 s margin).
    assert provider.requests[-1][0] == episode.audio_path
    assert 120 <= provider.requests[-1][1] <= 140

    player.pause()
    await wait_until(lambda: not player.playing)
    paused_at = player.position
    await asyncio.sleep(0.6)
    assert abs(player.position - paused_at) < 50, "a paused player must not move"

    player.seek(6000)
    player.play()
    await wait_until(lambda: player.position > 6200, timeout=4, message="seek then play did not continue")
    assert player.position < 9000

    player.skip_back()  # 15 s back from ~6 s clamps to 0
    assert player.position == 0
    player.skip_forward()  # 30 s forward clamps to the duration
    assert player.position <= player.duration

    player.seek(1000)
    await wait_until(lambda: 1000 <= player.position < 2000, timeout=3)
    player.set_speed(2.0)
    assert player.media.playbackRate() == 2.0
    start, started = player.position, asyncio.get_running_loop().time()
    await asyncio.sleep(1.0)
    rate = (player.position - start) / 1000 / (asyncio.get_running_loop().time() - started)
    assert 1.6 < rate < 2.4, f"2x speed advanced at {rate:.2f}x"
    if player.media.pitchCompensationAvailability().name != "Unavailable":
        assert player.pitch_preserved


@pytest.mark.qasync
async def test_position_and_speed_are_remembered_by_a_new_player(
    qtbot: QtBot, settings_file: Path, user_factory: UserFactory
) -> None:
    user = await user_factory()
    episode = await wav_episode(user, seconds=12)
    first = new_player(settings_file)
    await first.load(episode, SigningProvider(user))
    await wait_until(lambda: first.position > 200, timeout=5)
    first.set_speed(1.5)
    first.seek(7000)
    await wait_until(lambda: first.position > 7200, timeout=4)
    first.shutdown()
    remembered = first.store.position_ms(episode.id)
    assert remembered >= 7200
    # The stop and the release of the stream run from the event loop (see Player.shutdown) and
    # leave the remembered place alone.
    await wait_until(lambda: first.media.source().isEmpty() and not first.playing, timeout=3,
                     message="shutdown did not stop and release the stream")
    assert first.store.position_ms(episode.id) == remembered

    second = new_player(settings_file)
    assert second.speed == 1.5
    await second.load(episode, SigningProvider(user), autoplay=True)
    assert second.position == remembered  # shown before the audio has loaded
    await wait_until(lambda: second.playing and second.media.position() >= remembered, timeout=5,
                     message="the new player did not resume at the remembered position")
    await asyncio.sleep(0.5)
    assert second.position >= remembered + 300
    second.shutdown()


@pytest.mark.qasync
async def test_the_end_marks_played_and_moves_to_the_next_in_the_queue(
    player: Player, user_factory: UserFactory
) -> None:
    user = await user_factory()
    first, second = await wav_episode(user, seconds=2), await wav_episode(user, seconds=6)
    provider = SigningProvider(user)
    played: list[str] = []
    player.playedChanged.connect(lambda episode_id, flag: played.append(episode_id) if flag else None)
    player.set_queue([first, second], provider)
    await player.load(first, provider)
    assert player.has_next() and not player.has_previous()
    await wait_until(lambda: player.episode == second and player.playing, timeout=8,
                     message="did not move on to the next episode")
    assert played == [first.id]
    assert player.store.is_played(first.id)
    await wait_until(lambda: player.position > 200, timeout=4)
    player.previous()  # near the start: goes back to the previous episode
    await wait_until(lambda: player.episode == first, timeout=4)
    assert player.position == 0  # a played episode starts over


@pytest.mark.qasync
async def test_sleep_timer_fades_out_then_pauses(player: Player, user_factory: UserFactory) -> None:
    user = await user_factory()
    episode = await wav_episode(user, seconds=20)
    player.fade_seconds = 1.0
    player.set_volume(0.8)
    await player.load(episode, SigningProvider(user))
    await wait_until(lambda: player.playing, timeout=5)
    volumes: list[float] = []
    player.set_sleep_timer(2.0 / 60)  # two seconds
    assert player.sleep_remaining() in (1, 2)
    while player.playing:
        volumes.append(player.output_volume)
        await asyncio.sleep(0.05)
        assert asyncio.get_running_loop().time() < 1e12
    assert min(volumes) < 0.4, "no fade-out before pausing"
    assert volumes[0] == pytest.approx(0.8)
    assert player.sleep_remaining() == 0
    assert player.output_volume == pytest.approx(0.8), "the volume is restored for the next listen"
    stopped_at = player.position
    assert 1500 < stopped_at < 3500

    player.set_sleep_timer(end_of_episode=True)
    assert player.sleep_remaining() == END_OF_EPISODE
    player.set_sleep_timer(None)
    assert player.sleep_remaining() == 0


@pytest.mark.qasync
async def test_a_downloaded_copy_plays_from_disk_without_signing(
    player: Player, tmp_path: Path
) -> None:
    local = tmp_path / "episode.wav"
    local.write_bytes(make_wav(4))

    async def no_network(path: str, expires: int) -> str:
        raise AssertionError("a downloaded episode must not be streamed")

    await player.load(Episode("local-1", "Local", "u/p/episode.wav", local_file=local), no_network)
    await wait_until(lambda: player.position > 300, timeout=5)
    assert not player.recovery.enabled


@pytest.mark.qasync
async def test_volume_and_mute(player: Player) -> None:
    muted: list[bool] = []
    player.mutedChanged.connect(muted.append)
    player.set_volume(1.7)
    assert player.volume == 1.0
    player.set_volume(0.3)
    assert player.output_volume == pytest.approx(0.3)
    player.toggle_mute()
    assert player.muted and muted == [True]
    player.toggle_mute()
    assert not player.muted


@pytest.mark.qasync
async def test_the_signed_url_never_reaches_stderr(
    player: Player, user_factory: UserFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    """FFmpeg dumps every stream it opens ("Input #0, wav, from '<url>'") at its default level;
    that URL carries the signing token, and stderr ends up in the desktop session's journal."""
    user = await user_factory()
    episode = await wav_episode(user, seconds=3)
    provider = SigningProvider(user)
    capfd.readouterr()
    await player.load(episode, provider)
    await wait_until(lambda: player.playing and player.position > 300, timeout=5, message="no audio")
    err = capfd.readouterr().err
    assert "token=" not in err and "Input #0" not in err, err
