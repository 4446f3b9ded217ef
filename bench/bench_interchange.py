"""Interchange bench: importing a generated 2,000-segment CapCut draft and a 2,000-clip OTIO
timeline (and exporting the imported project back to OTIO). Pure code and file reading: no ffmpeg.

Prints, for each, the median and best wall and CPU seconds over ``--rounds`` runs (one JSON line
each). The figure that matters is "well under a second" for the import.

    python bench/bench_interchange.py [--rounds 5] [--items 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import opentimelineio as otio  # noqa: E402

from engines.interchange import import_timeline  # noqa: E402
from engines.interchange.otio_export import project_to_timeline  # noqa: E402
from engines.model.project import load_project  # noqa: E402

US = 1_000_000


def draft(n: int) -> dict:
    """n segments of 0.1 s on the main track, a text every 10th, a transition every 50th."""
    videos = [{"id": f"v{i}", "type": "video", "path": f"C:/Users/me/Videos/{i}.mp4", "duration": 60 * US}
              for i in range(7)]
    segs, texts, subs = [], [], []
    for i in range(n):
        segs.append({"id": f"s{i}", "material_id": f"v{i % 7}", "speed": 1.0, "volume": 1.0,
                     "target_timerange": {"start": i * 100_000, "duration": 100_000},
                     "source_timerange": {"start": (i % 50) * 100_000, "duration": 100_000},
                     "clip": {"alpha": 1.0, "scale": {"x": 1.0, "y": 1.0}, "transform": {"x": 0.0, "y": 0.0},
                              "rotation": 0.0, "flip": {"horizontal": False, "vertical": False}},
                     "extra_material_refs": ["tr"] if i % 50 == 49 else []})
        if i % 10 == 0:
            texts.append({"id": f"t{i}", "type": "subtitle", "content": f"line {i}", "font_size": 6.0})
            subs.append({"id": f"ts{i}", "material_id": f"t{i}",
                         "target_timerange": {"start": i * 100_000, "duration": 900_000}})
    return {"canvas_config": {"width": 1920, "height": 1080}, "fps": 30,
            "materials": {"videos": videos, "texts": texts,
                          "transitions": [{"id": "tr", "name": "Mix", "duration": 33_333}]},
            "tracks": [{"type": "video", "segments": segs}, {"type": "text", "segments": subs}]}


def timeline(n: int):
    """n clips of 5 frames at 23.976 with a dissolve every 50th cut and a 2x clip every 20th."""
    rate = 24000 / 1001
    tl = otio.schema.Timeline(name="bench")
    track = otio.schema.Track(name="V1")
    for i in range(n):
        clip = otio.schema.Clip(name=f"c{i}", media_reference=otio.schema.ExternalReference(
            target_url=f"file:///Volumes/Media/{i % 7}.mov"), source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(24 + i % 100, rate), otio.opentime.RationalTime(5, rate)))
        if i % 20 == 19:
            clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=2.0))
        if i % 50 == 49:
            track.append(otio.schema.Transition(in_offset=otio.opentime.RationalTime(1, rate),
                                                out_offset=otio.opentime.RationalTime(1, rate),
                                                transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve))
        track.append(clip)
    tl.tracks.append(track)
    return tl


def measure(label: str, rounds: int, work) -> dict:
    wall, cpu = [], []
    result = None
    for _ in range(rounds):
        w, c = time.perf_counter(), time.process_time()
        result = work()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    row = {"bench": label, "rounds": rounds, "median_s": round(statistics.median(wall), 3),
           "best_s": round(min(wall), 3), "median_cpu_s": round(statistics.median(cpu), 3)}
    print(json.dumps(row))
    return {"row": row, "result": result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--items", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cutlite-bench-interchange-") as tmp:
        folder = Path(tmp) / "draft"
        folder.mkdir()
        (folder / "draft_content.json").write_text(json.dumps(draft(args.items)))
        otio_file = Path(tmp) / "bench.otio"
        otio.adapters.write_to_file(timeline(args.items), str(otio_file))
        d = measure(f"import CapCut draft, {args.items} segments", args.rounds, lambda: import_timeline(folder))
        o = measure(f"import OTIO, {args.items} clips", args.rounds, lambda: import_timeline(otio_file))
        project = load_project(o["result"].project)
        measure(f"export OTIO, {args.items} clips", args.rounds, lambda: project_to_timeline(project))
        for name, r in (("draft", d), ("otio", o)):
            clips = sum(len(t["clips"]) for t in r["result"].project["tracks"])
            print(json.dumps({"imported": name, "clips": clips, "warnings": len(r["result"].warnings)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
