"""The scripts in examples/ run as documented and end where they say."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_job_flow_example(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "job_flow.py"), "--workdir", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    assert [p["status"] for p in report["proxies"]] == ["created", "created"]
    interrupted = report["interrupted"]
    assert interrupted["state"] == "RUNNING" and interrupted["stale"] is True
    assert 2 <= interrupted["chunks_done"] < interrupted["chunks"]
    resumed = report["resumed"]
    assert resumed["state"] == "COMPLETED" and resumed["output_exists"] and resumed["frames"] == 270
    assert resumed["chunk_renders"] == interrupted["chunks"]  # each chunk rendered once, across the kill
    preview = report["preview_plan"]
    assert preview["profile"] == "draft_360p" and preview["window"] == [90, 180] and preview["frames"] == 90
    assert preview["read_from"] == {"a": "proxy", "b": "proxy"} and preview["warnings"] == []
    assert preview["estimated_latency_ms"] > 0
