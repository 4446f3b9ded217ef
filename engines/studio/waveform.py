"""Audio peaks for drawing waveforms: min/max per bucket of samples, made once per asset.

The document is audiowaveform's JSON (version 2, 8 bits, one channel): ``data`` holds
``min, max`` pairs, ``samples_per_pixel`` samples at ``sample_rate`` per pair, so any reader of
that format (peaks.js, wavesurfer.js with ``peaks``) can draw it. Audio is decoded in process
with PyAV, mixed to mono at ``RATE`` and bucketed with numpy; ``bucket_peaks`` is pure.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from engines.errors import AssetError, NotFound
from engines.media_v2.library import MediaLibrary
from engines.media_v2.models import Artifact, Asset

from . import artifacts

FORMAT = 1
RATE = 16000               # Hz: enough for the envelope, a third of the decode work of 48 kHz
BUCKETS_PER_SECOND = 100   # 10 ms a pair for short media ...
MAX_BUCKETS = 20000        # ... and never more pairs than this (a 4 h file: about 0.7 s a pair)
PEAKS = "waveform.json"


def samples_per_bucket(duration_seconds: float) -> int:
    per = RATE // BUCKETS_PER_SECOND
    return max(per, math.ceil(duration_seconds * RATE / MAX_BUCKETS))


def bucket_peaks(blocks: Iterable[np.ndarray], per_bucket: int) -> list[int]:
    """``min, max`` pairs of float samples in [-1, 1], as 8-bit integers; a last short bucket counts."""
    out: list[np.ndarray] = []
    carry = np.zeros(0, dtype=np.float32)
    for block in blocks:
        carry = np.concatenate([carry, block.astype(np.float32).ravel()])
        whole = len(carry) // per_bucket * per_bucket
        if whole:
            out.append(_pairs(carry[:whole].reshape(-1, per_bucket)))
            carry = carry[whole:]
    if len(carry):
        out.append(_pairs(carry.reshape(1, -1)))
    return np.concatenate(out).tolist() if out else []


def _pairs(buckets: np.ndarray) -> np.ndarray:
    lo = np.clip(np.round(buckets.min(axis=1) * 127), -128, 127)
    hi = np.clip(np.round(buckets.max(axis=1) * 127), -128, 127)
    return np.stack([lo, hi], axis=1).astype(np.int16).ravel()


def peaks_document(path: str | Path, duration_seconds: float) -> dict[str, Any]:
    """Decode the first audio stream of ``path`` and bucket it."""
    import av

    per = samples_per_bucket(duration_seconds)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise NotFound("the asset has no sound: it has no waveform", stage="studio")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)

            def blocks() -> Iterable[np.ndarray]:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        yield out.to_ndarray()
                for out in resampler.resample(None):
                    yield out.to_ndarray()

            data = bucket_peaks(blocks(), per)
    except av.FFmpegError:
        raise AssetError("the asset's sound cannot be decoded", stage="studio") from None
    return {"version": 2, "channels": 1, "sample_rate": RATE, "samples_per_pixel": per, "bits": 8,
            "length": len(data) // 2, "data": data}


def ensure_waveform(library: MediaLibrary, asset: Asset) -> Artifact:
    """The peaks of an asset with sound: reused, or made once."""
    if not asset.probe.get("audio"):
        raise NotFound(f"asset {asset.id} has no sound: it has no waveform", stage="studio")

    def make(work: Path) -> dict[str, Any]:
        doc = peaks_document(library.source_path(asset), float(asset.probe.get("duration_seconds") or 0))
        (work / PEAKS).write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        return {"sample_rate": doc["sample_rate"], "samples_per_pixel": doc["samples_per_pixel"],
                "length": doc["length"]}

    return artifacts.ensure(library, asset, "waveform", [PEAKS], FORMAT, make)[0]
