"""Security properties that hold by construction, checked: no shell anywhere, one process spawner,
and text and file names that cannot inject filter or command syntax."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import measure, project, write_project

ENGINES = Path(__file__).resolve().parents[1] / "engines"
SPAWNER = ENGINES / "ffmpeg" / "runner.py"


def calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return dotted(node.value) + "." + node.attr
    return node.id if isinstance(node, ast.Name) else ""


def test_no_shell_anywhere_and_one_module_starts_processes():
    shells, spawners = [], []
    for file in sorted(ENGINES.rglob("*.py")):
        tree = ast.parse(file.read_text(), str(file))
        for call in calls(tree):
            name = dotted(call.func)
            where = f"{file.relative_to(ENGINES)}:{call.lineno}"
            if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                   for k in call.keywords):
                shells.append(f"{where} {name}(shell=...)")
            if name in ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"):
                shells.append(f"{where} {name}")
            if name.startswith("subprocess.") or name in ("os.spawnv", "os.spawnvp", "os.execv", "os.execvp"):
                spawners.append(file)
                if name.startswith("subprocess.") and call.args and isinstance(call.args[0], ast.Constant):
                    shells.append(f"{where} {name} with a string command")
    assert shells == []
    assert set(spawners) == {SPAWNER}, sorted(str(s) for s in set(spawners))


HOSTILE_TEXTS = [
    "a'b:c\\d",                                # drawtext's quoting and option separators
    "%{pts} %{localtime} %{eif:1+1:d}",        # expansion syntax: must stay literal
    "x[v1];[v1]null[vout]",                    # filter graph syntax
    "$(touch /tmp/cutlite-pwned) `id` ; rm -rf /",  # shell syntax (no shell: inert)
    "line one\nline two",
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_overlay_text_cannot_inject_filter_or_command_syntax(text, service, tmp_path, media):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 1}]},
        {"id": "o", "kind": "overlay", "clips": [{"id": "t", "text": text, "start": 0, "duration": 1}]}],
        {"red": media["red"]})
    plan = service.plan_project(write_project(tmp_path, doc), "draft_360p", "cpu")
    assert text not in plan.filter_graph  # the text travels in a file, never in the graph
    if "\n" in text:  # several lines: drawn by libass, a line an event of its script (styled_text)
        script = next(body for name, body in plan.files.items() if name.endswith(".ass"))
        assert all(line in script for line in text.split("\n"))
    else:
        assert plan.files["text_t.txt"] == text
    service.render(plan, tmp_path / "out.mp4")
    assert measure(tmp_path / "out.mp4", decode=False).frames == 30
    assert not Path("/tmp/cutlite-pwned").exists()


@pytest.mark.parametrize("name", ["it's [odd]; name.mp4", "semi;colon,comma=eq.mp4", "-i.mp4", "spa ce's.mp4"])
def test_file_names_with_syntax_characters_are_plain_inputs(name, service, tmp_path, media):
    odd = tmp_path / name
    odd.write_bytes(Path(media["red"]).read_bytes())
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "odd", "start": 0, "source_in": 0, "source_out": 1}]}], {"odd": odd})
    plan = service.plan_project(write_project(tmp_path, doc), "draft_360p", "cpu")
    argv = plan.argv("out.mp4")
    assert argv[argv.index("-i") + 1] == str(odd)  # one argv element, after -i: never read as an option
    service.render(plan, tmp_path / "out.mp4")
    assert measure(tmp_path / "out.mp4", decode=False).frames == 30


def test_media_longer_than_the_limit_is_refused_before_anything_is_stored(tmp_path, media, monkeypatch):
    from engines.errors import MediaTooLong
    from engines.media_v2.library import MediaLibrary
    from engines.media_v2.registry import Registry
    from engines.media_v2.storage import LocalStore

    monkeypatch.setenv("CUTLITE_MAX_MEDIA_SECONDS", "3")
    library = MediaLibrary(Registry(f"sqlite:///{tmp_path / 'db.sqlite'}"),
                           stores={"dev": LocalStore(tmp_path / "objects")})
    with pytest.raises(MediaTooLong) as err:  # HTTP 413
        library.register_file("acme", "dev", media["red"])  # 4 s
    assert "longer than the 3 s accepted" in err.value.message
    assert not (tmp_path / "objects").exists() or list((tmp_path / "objects").rglob("*.*")) == []
    assert library.register_file("acme", "dev", media["green_silent"])[1]  # 3 s: accepted


def test_a_project_cannot_reach_another_tenants_asset_from_the_cli(tmp_path, media):
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    env = {**os.environ, "CUTLITE_HOME": str(home)}
    code = ("import sys; from engines.media_v2.library import MediaLibrary; "
            "print(MediaLibrary().register_file('globex', 'dev', sys.argv[1])[0].id)")
    other = subprocess.run([sys.executable, "-c", code, str(media["red"])], env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "m", "start": 0, "source_in": 0, "source_out": 1}]}], {})
    doc["assets"] = {"m": {"asset_id": other}}  # tenant acme naming globex's asset
    run = subprocess.run([sys.executable, "-m", "engines.cli", "plan", str(write_project(tmp_path, doc)),
                          "--profile", "draft_360p", "--json"], env=env, capture_output=True, text=True)
    assert run.returncode == 2
    assert f'unknown asset \\"{other}\\" for tenant acme/dev' in run.stdout
