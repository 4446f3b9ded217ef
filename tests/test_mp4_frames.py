"""Frames counted from an MP4's sample table agree with PyAV's packet count, or the reader says it
cannot tell (and ``count_video_frames`` counts packets)."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from conftest import REAL_MEDIA, needs_real_media

from engines.ffmpeg.mp4 import video_sample_count
from engines.ffmpeg.probe import count_video_frames


def packets(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(container.streams.video[0]) if p.size)


def encode(runner, out: Path, *args: str) -> Path:
    runner.run(["-y", "-f", "lavfi", "-i", "testsrc2=s=96x64:r=25:d=1.64", "-f", "lavfi", "-i",
                "sine=f=440:d=1.64", *args, str(out)], stage="fixture")
    return out


@pytest.mark.parametrize("name,args", [
    ("bframes.mp4", ["-c:v", "libx264", "-preset", "fast", "-bf", "3", "-c:a", "aac"]),  # an edit list
    ("faststart.mp4", ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-movflags", "+faststart"]),
    ("audio_first.mov", ["-map", "1:a", "-map", "0:v", "-c:v", "mpeg4", "-c:a", "pcm_s16le"]),
])
def test_the_sample_table_counts_what_pyav_demuxes(runner, tmp_path, name, args):
    out = encode(runner, tmp_path / name, *args)
    assert video_sample_count(out) == packets(out) == 41
    assert count_video_frames(out) == 41


def test_what_the_reader_cannot_tell_is_counted_from_packets(runner, tmp_path, media):
    fragmented = encode(runner, tmp_path / "frag.mp4", "-c:v", "libx264", "-preset", "ultrafast",
                        "-movflags", "+frag_keyframe+empty_moov")
    assert video_sample_count(fragmented) is None  # its samples are in moof boxes
    assert count_video_frames(fragmented) == packets(fragmented) == 41
    assert video_sample_count(media["odd"]) is None  # Matroska
    assert count_video_frames(media["odd"]) == 50
    assert video_sample_count(media["tone"]) is None  # no video track
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(encode(runner, tmp_path / "whole.mp4", "-c:v", "libx264", "-preset", "ultrafast",
                                 "-movflags", "+faststart").read_bytes()[:600])  # cut inside its moov
    assert video_sample_count(truncated) is None
    assert video_sample_count(tmp_path / "absent.mp4") is None


@needs_real_media
def test_real_files_give_the_packet_count():
    files = [p for p in sorted((REAL_MEDIA / "video").iterdir()) if p.suffix.lower() in (".mp4", ".mov")]
    assert files
    for path in files:
        counted = video_sample_count(path)
        assert counted is None or counted == packets(path), path.name
    assert sum(video_sample_count(p) is not None for p in files) >= len(files) - 1
