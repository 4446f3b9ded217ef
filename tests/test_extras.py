"""A missing optional dependency is a clear error naming its extra (exit 2, HTTP 500), never a traceback.

Each test hides one module from a real ``cutlite`` process by putting a stand-in that refuses to
import first on its path, as on a machine where the extra was not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def hide(tmp_path):
    """``hide("psycopg")``: an environment in which importing that module fails."""
    folder = tmp_path / "hidden"
    folder.mkdir()

    def _hide(*modules: str) -> dict[str, str]:
        for module in modules:
            (folder / f"{module}.py").write_text(f"raise ImportError('{module} is hidden by the test')\n")
        return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
                "CUTLITE_HOME": str(tmp_path / "home")}
    return _hide


def cutlite(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engines.cli", *args, "--json"], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def assert_names_extra(out: subprocess.CompletedProcess[str], module: str, extra: str) -> None:
    assert out.returncode == 2, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    err = json.loads(out.stdout)["error"]
    assert err["code"] == "missing_dependency" and err["context"]["module"] == module
    assert f"cutlite[{extra}]" in err["hint"]


def one_second_project(media, tmp_path) -> Path:
    doc = {"schema_version": 1, "id": "x", "tenant": "acme", "env": "dev",
           "settings": {"width": 64, "height": 48, "fps": 10},
           "assets": {"r": {"path": str(media["red"])}},
           "tracks": [{"id": "v", "kind": "video", "clips": [
               {"id": "a", "asset": "r", "start": 0, "source_in": 0, "source_out": 1}]}]}
    project = tmp_path / "p.json"
    project.write_text(json.dumps(doc))
    return project


def test_a_postgres_url_without_psycopg_names_the_extra(hide):
    env = {**hide("psycopg"), "CUTLITE_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test"}
    assert_names_extra(cutlite(env, "jobs", "list"), "psycopg", "postgres")


def test_the_celery_executor_without_celery_names_the_extra(hide, media, tmp_path):
    env = {**hide("celery"), "CUTLITE_EXECUTOR": "celery"}
    assert_names_extra(cutlite(env, "worker", "--name", "w1"), "celery", "celery")
    project = one_second_project(media, tmp_path)
    assert_names_extra(cutlite(env, "render", str(project), "--profile", "draft_360p", "-o",
                               str(tmp_path / "o.mp4")), "celery", "celery")


def test_an_s3_store_without_boto3_names_the_extra(hide, media, tmp_path):
    env = {**hide("boto3"), "CUTLITE_STORAGE_URL": "s3://bucket"}
    project = one_second_project(media, tmp_path)
    assert_names_extra(cutlite(env, "render", str(project), "--profile", "draft_360p", "-o",
                               str(tmp_path / "o.mp4")), "boto3", "s3")


def test_a_server_without_its_database_driver_does_not_start_and_names_the_extra(hide):
    # the server reads its API keys before it listens: without the driver it cannot, and says why
    env = {**hide("psycopg"), "CUTLITE_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test"}
    assert_names_extra(cutlite(env, "serve", "--port", "1"), "psycopg", "postgres")


def test_the_celery_extra_brings_the_postgres_driver():
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    line = next(x for x in text.splitlines() if x.startswith("celery = "))
    assert "celery" in line and "psycopg" in line
