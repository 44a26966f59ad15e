"""One audio decode for the loudness and black_silence gates (probe.audio_scan), and the
gates' duration probe; on real lavfi MP4s, with the real ffmpeg."""

from __future__ import annotations

import os
import subprocess
import threading
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg
import pytest

from reelgraph.errors import InvalidInputError
from reelgraph.plugins._media import probe
from reelgraph.plugins.gates._common import probe_duration_s


def make_clip(path: Path, seconds: float, mute: tuple[float, float], volume_db: float) -> Path:
    """320x240 H.264 + a 440 Hz tone at ``volume_db`` (AAC 48 kHz), muted during ``mute``."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"color=c=0x4060a0:s=320x240:r=30:d={seconds}"]
    cmd += ["-f", "lavfi", "-i", f"sine=f=440:sample_rate=48000:d={seconds}"]
    cmd += ["-af", f"volume={volume_db}dB,volume=enable='between(t,{mute[0]},{mute[1]})':volume=0"]
    cmd += ["-c:a", "aac", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    subprocess.run([*cmd, str(path)], check=True, capture_output=True)
    return path


@pytest.fixture
def count_ffmpeg_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths ffmpeg was run on through probe._run_null (which still runs ffmpeg)."""
    runs: list[str] = []
    real = probe._run_null

    def counted(args, what, path, inputs=None):
        runs.append(str(path))
        return real(args, what, path, inputs)

    monkeypatch.setattr(probe, "_run_null", counted)
    probe._SCANS.clear()
    return runs


def test_one_decode_gives_what_the_two_filters_give_apart(tmp_path, count_ffmpeg_runs):
    clip = make_clip(tmp_path / "a.mp4", 4.0, (1.0, 2.5), 5.0)
    scan = probe.audio_scan(clip)
    apart = probe.ebur128(clip)
    log = probe.silencedetect_log(clip, noise_db=-50.0, silence_min_s=0.25)
    assert scan.loudness == apart
    assert probe.silences(scan.silence_log, 4.0) == probe.silences(log, 4.0)
    (silence,) = probe.silences(scan.silence_log, 4.0)
    assert silence.start_s == pytest.approx(1.0, abs=0.05)
    assert silence.end_s == pytest.approx(2.5, abs=0.05)
    # the tone (peak 1/8 raised 5 dB: -13.06 dBFS) is what was measured
    assert scan.loudness.true_peak_dbtp == pytest.approx(-13.06, abs=1.2)


def test_the_second_gate_reuses_the_decode_and_a_changed_file_is_decoded_again(
    tmp_path, count_ffmpeg_runs
):
    clip = make_clip(tmp_path / "a.mp4", 3.0, (1.0, 1.5), 0.0)
    first = probe.audio_scan(clip)
    assert probe.audio_scan(clip) is first
    assert len(count_ffmpeg_runs) == 1
    # other silencedetect settings (a black_silence threshold override): decoded again
    probe.audio_scan(clip, noise_db=-30.0, silence_min_s=0.25)
    assert len(count_ffmpeg_runs) == 2
    # the file rewritten in place (same path, other bytes): decoded again
    make_clip(tmp_path / "b.mp4", 3.0, (0.5, 2.0), -10.0).replace(clip)
    changed = probe.audio_scan(clip)
    assert len(count_ffmpeg_runs) == 3
    assert changed.loudness.integrated_lufs < first.loudness.integrated_lufs - 5


def test_gates_in_two_threads_share_one_decode(tmp_path, count_ffmpeg_runs):
    clip = make_clip(tmp_path / "a.mp4", 3.0, (1.0, 1.5), 0.0)
    start = threading.Barrier(4)
    results = []

    def ask() -> None:
        start.wait()
        results.append(probe.audio_scan(clip))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(count_ffmpeg_runs) == 1
    assert len(results) == 4 and all(r is results[0] for r in results)


def test_a_failed_scan_is_not_remembered(tmp_path, count_ffmpeg_runs):
    path = tmp_path / "a.mp4"
    path.write_bytes(b"not a video at all")
    for _ in range(2):
        with pytest.raises(InvalidInputError, match="could not measure the audio of"):
            probe.audio_scan(path)
    assert len(count_ffmpeg_runs) == 2
    with pytest.raises(InvalidInputError, match="video file not found"):
        probe.audio_scan(tmp_path / "missing.mp4")


def test_the_memory_is_bounded(tmp_path, count_ffmpeg_runs):
    clip = make_clip(tmp_path / "a.mp4", 1.0, (0.2, 0.5), 0.0)
    for n in range(probe._SCANS_KEPT + 3):
        probe.audio_scan(clip, noise_db=-40.0 - n)
    assert len(probe._SCANS) == probe._SCANS_KEPT


def test_duration_from_packets_matches_a_fraction_per_packet(tmp_path):
    clip = make_clip(tmp_path / "a.mp4", 2.5, (1.0, 1.5), 0.0)
    end = None
    with av.open(str(clip)) as container:
        for packet in container.demux():
            if packet.pts is not None and packet.time_base is not None:
                t = (packet.pts + (packet.duration or 0)) * Fraction(packet.time_base)
                end = t if end is None else max(end, t)
        start = Fraction(container.start_time or 0, av.time_base)
    assert probe_duration_s(clip) == pytest.approx(float(end - start), abs=1e-9)
    assert probe_duration_s(clip) == pytest.approx(2.5, abs=0.05)
    assert os.path.getsize(clip) > 0
