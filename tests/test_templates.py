"""Templates and batches: variables filled with values (literal text), swapped assets, one job per row."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import pytest
from conftest import CLI, close, measure, project, service_for, write_project

from engines.errors import ValidationError
from engines.jobs import batch as batch_module
from engines.jobs.batch import output_for, run_batch
from engines.jobs.records import JobState
from engines.model.project import load_project
from engines.model.template import FilledTemplate, apply_template

TRICKY = "50% off: %{pts} {\\b1}bold\\N 'quoted' {{ NAME }}"  # drawtext expansion, ASS tags, a placeholder


def template(media, **extra):
    """A title over a swappable clip, with a colour and a size from variables."""
    doc = project([{"id": "v", "kind": "video", "clips": [
                       {"id": "c", "asset": "clip", "start": 0, "source_in": 0, "source_out": 1}]},
                   {"id": "o", "kind": "overlay", "clips": [
                       {"id": "t", "text": "Hi {{ NAME }}", "start": 0, "duration": 1, "y": 0.5,
                        "color": "{{ INK }}", "font_size": "{{ SIZE }}"}]}], {}, **extra)
    doc["assets"] = {"clip": {"variable": "CLIP"}}
    doc["variables"] = {"NAME": {"type": "text"}, "CLIP": {"type": "asset", "default": str(media["red"])},
                        "INK": {"type": "color", "default": "#FFFFFF"}, "SIZE": {"type": "number", "default": 40}}
    return doc


def test_values_fill_text_assets_colours_and_numbers(media):
    doc = template(media)
    filled = apply_template(doc, {"NAME": "Ana", "CLIP": str(media["blue"]), "INK": "#FF0000", "SIZE": "55.5"})
    assert "variables" not in filled and "variables" in doc  # the template itself is left as it was
    title = filled["tracks"][1]["clips"][0]
    assert (title["text"], title["color"], title["font_size"]) == ("Hi Ana", "#FF0000", 55.5)
    assert filled["assets"]["clip"] == {"path": str(media["blue"])}
    assert apply_template(doc, {"NAME": "x", "CLIP": "ast_0123456789abcdef0123"})["assets"]["clip"] == \
        {"asset_id": "ast_0123456789abcdef0123"}
    defaults = load_project(doc, {"NAME": "Bo"})
    assert defaults.tracks[1].clips[0].font_size == 40 and defaults.assets["clip"].path == str(media["red"])


def test_every_problem_is_named_by_its_json_path_at_once(media):
    doc = template(media)
    doc["variables"]["BAD"] = {"type": "date"}
    doc["tracks"][0]["clips"][0]["id"] = "c{{ NAME }}"
    doc["tracks"][1]["clips"][0]["x"] = "{{ NAME }}"
    doc["tracks"][1]["clips"].append({"id": "u", "text": "{{ NOPE }}", "start": 1, "duration": 1})
    with pytest.raises(ValidationError) as err:
        apply_template(doc, {"NAMEE": "x", "SIZE": "big", "INK": "red"})
    problems = err.value.problems
    expected = ["variables.BAD.type: must be one of text, asset, color, number",
                "values.NAMEE: the template declares no variable \"NAMEE\" (did you mean \"NAME\"?)",
                "values.SIZE: must be a number, not 'big'",
                "values.INK: must be a colour \"#RRGGBB\", not 'red'",
                "variables.NAME: required: no value given (a text variable without a default)",
                "tracks[1].clips[1].text: {{ NOPE }} is not declared in variables"]
    for line in expected:
        assert line in problems, (line, problems)
    with pytest.raises(ValidationError) as err:
        apply_template(doc | {"variables": {k: v for k, v in doc["variables"].items() if k != "BAD"}},
                       {"NAME": "x"})
    assert "tracks[1].clips[0].x: {{ NAME }} is a text variable; only a colour or number variable can stand " \
           "for a whole field" in err.value.problems
    assert any(p.startswith("tracks[0].clips[0].id: {{ NAME }} may stand inside texts") for p in err.value.problems)
    with pytest.raises(ValidationError) as err:
        load_project(project([], {}), {"NAME": "x"})
    assert err.value.problems == ["values.NAME: the project declares no variables"]


def test_a_value_is_literal_text_in_titles_and_captions(media, service, tmp_path):
    doc = template(media)
    doc["tracks"].append({"id": "cc", "kind": "captions", "clips": [
        {"id": "q", "text": "Cap {{ NAME }}", "start": 0, "duration": 1}]})
    path = write_project(tmp_path, doc)
    plan = service.plan_project(FilledTemplate(path, {"NAME": TRICKY}), "draft_360p", "cpu")
    # the title's text file holds the value as given (drawtext reads it with expansion=none) ...
    assert f"Hi {TRICKY}" in plan.files.values() and "expansion=none" in plan.filter_graph
    # ... and the caption's ASS line has no override tag or line break made of the value
    ass = next(v for k, v in plan.files.items() if k.endswith(".ass"))
    line = next(x for x in ass.splitlines() if x.startswith("Dialogue:"))
    text = line.split(",", 9)[9]
    assert "{\\b1}" not in text and "\\N" not in text  # escaped: "\{", and "\" + a word joiner
    unescaped = text.replace("\\{", "{").replace("\\}", "}").replace("\\\u2060", "\\")
    assert unescaped == f"Cap {TRICKY}"  # ... and nothing else changed: libass shows the value as given


def test_a_merged_title_and_a_swapped_asset_in_pixels(media, service, tmp_path):
    doc = template(media, width=320, height=180, background="#000000")
    path = write_project(tmp_path, doc, "t.json")
    literal = load_project(doc, {"NAME": "Ana"}).canonical()
    literal["tracks"][1]["clips"][0]["text"] = "Hi Ana"  # the same edit written by hand
    out = {}
    for name, source in (("template", FilledTemplate(path, {"NAME": "Ana", "CLIP": str(media["blue"])})),
                         ("blue_by_hand", write_project(tmp_path, literal | {"assets": {
                             "clip": {"path": str(media["blue"])}}}, "h.json")),
                         ("red", FilledTemplate(path, {"NAME": "Ana"}))):
        service.render(service.plan_project(source, "draft_360p", "cpu"), tmp_path / f"{name}.mp4")
        out[name] = measure(tmp_path / f"{name}.mp4")
    # the swapped asset shows: blue where the default is red (the top middle, away from the title; the 4:3 clips are pillarboxed)
    assert close(out["template"].rgb(5, 160, 10), (0, 0, 255), 40)
    assert close(out["red"].rgb(5, 160, 10), (255, 0, 0), 40)
    # the merged title is pixel for pixel the title written by hand, and it is there (white in the middle)
    assert all((a == b).all() for a, b in zip(out["template"].pictures, out["blue_by_hand"].pictures))
    middle = out["template"].pictures[5][80:100, 100:220]
    assert (middle.min(axis=2) > 200).sum() > 50


def test_output_names_come_from_the_row_and_cannot_leave_the_folder():
    assert output_for("out/{row}-{NAME}.mp4", 3, {"NAME": "Ana"}) == "out/3-Ana.mp4"
    for bad in ("../x", "a/b", ".."):
        with pytest.raises(ValidationError):
            output_for("out/{NAME}.mp4", 1, {"NAME": bad})
    with pytest.raises(ValidationError) as err:
        output_for("out/{CITY}.mp4", 1, {"NAME": "Ana"})
    assert "{CITY} names no column" in err.value.problems[0]


def test_a_batch_renders_every_good_row_names_the_bad_one_and_is_idempotent(media, tmp_path):
    svc = service_for(tmp_path / "home")
    path = write_project(tmp_path, template(media, width=160, height=90), "t.json")
    rows = [{"NAME": "Ana", "INK": "#FF0000"}, {"NAME": "Bo", "SIZE": ""}, {"NAME": "Cy", "INK": "red"},
            {"NAME": "Di", "CLIP": str(media["blue"])}]
    first = run_batch(svc.job_service, path, rows, "draft_360p", str(tmp_path / "out/{row}-{NAME}.mp4"))
    assert [o.state for o in first] == ["COMPLETED", "COMPLETED", "INVALID", "COMPLETED"]
    assert first[2].error["message"].endswith("values.INK: must be a colour \"#RRGGBB\", not 'red'")
    for o in (first[0], first[1], first[3]):
        assert measure(o.output, decode=False).frames == 30
    assert len({o.job_id for o in first if o.job_id}) == 3
    # the same rows again: the same jobs, nothing rendered again, the files written again where asked
    second = run_batch(svc.job_service, path, rows, "draft_360p", str(tmp_path / "again/{NAME}.mp4"))
    assert [o.job_id for o in second] == [o.job_id for o in first]
    assert [o.reused for o in second] == [True, True, False, True]
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == ["Ana.mp4", "Bo.mp4", "Di.mp4"]


def test_a_batch_waits_for_a_slot_instead_of_being_refused(media, tmp_path, monkeypatch):
    """Another job holds the tenant's only running slot: the batch's row waits, then renders."""
    monkeypatch.setattr(batch_module, "SLOT_WAIT", 0.1)
    monkeypatch.setenv("CUTLITE_MAX_QUEUED_JOBS", "1")
    svc = service_for(tmp_path / "home")
    path = write_project(tmp_path, template(media, width=160, height=90), "t.json")
    holder, _ = svc.submit_job(FilledTemplate(path, {"NAME": "holder"}), "draft_480p")
    assert svc.jobs.claim(holder.id, "elsewhere:1:x")  # RUNNING in another process

    def release() -> None:
        time.sleep(1.0)
        svc.jobs.transition(holder.id, JobState.COMPLETED, owner="elsewhere:1:x")

    threading.Thread(target=release).start()
    started = time.monotonic()
    (row,) = run_batch(svc.job_service, path, [{"NAME": "Ana"}], "draft_360p", str(tmp_path / "{NAME}.mp4"))
    assert row.state == "COMPLETED" and time.monotonic() - started >= 1.0


def test_cutlite_batch_and_var_from_the_command_line(media, tmp_path):
    path = write_project(tmp_path, template(media, width=160, height=90), "t.json")
    (tmp_path / "rows.csv").write_text("NAME,INK\nAna,#00FF00\nBo,nope\n")
    env = {**os.environ, "CUTLITE_HOME": str(tmp_path / "home")}
    out = subprocess.run([*CLI, "batch", str(path), str(tmp_path / "rows.csv"), "--profile", "draft_360p",
                          "-o", str(tmp_path / "out" / "{NAME}.mp4"), "--json"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 2, out.stderr  # a row was invalid; the other completed
    manifest = json.loads(out.stdout)
    assert (manifest["completed"], manifest["failed"]) == (1, 1)
    assert [(r["row"], r["state"]) for r in manifest["rows"]] == [(1, "COMPLETED"), (2, "INVALID")]
    assert (tmp_path / "out" / "Ana.mp4").is_file() and not (tmp_path / "out" / "Bo.mp4").exists()
    bad = subprocess.run([*CLI, "plan", str(path), "--profile", "draft_360p", "--var", "NAME", "--var", "X=1"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "--var NAME: expected NAME=VALUE" in bad.stderr and "Traceback" not in bad.stderr
    ok = subprocess.run([*CLI, "plan", str(path), "--profile", "draft_360p", "--var", "NAME=Zed", "--json"],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0 and "Hi Zed" in json.loads(ok.stdout)["files"].values()


def test_a_batch_on_two_workers_runs_two_rows_at_once_in_one_running_slot(media, tmp_path):
    """Rows side by side (one counted, the other a rider), every output right, a repeated row sharing
    its job; the manifest in the order given."""
    svc = service_for(tmp_path / "home")
    path = write_project(tmp_path, template(media, width=160, height=90), "t.json")
    rows = [{"NAME": n} for n in ("Ana", "Bo", "Cy", "Di")] + [{"NAME": "Ana"}, {"NAME": "Ed", "INK": "red"}]
    outcomes = run_batch(svc.job_service, path, rows, "draft_360p", str(tmp_path / "out/{row}-{NAME}.mp4"),
                         workers=2)
    assert [o.row for o in outcomes] == [1, 2, 3, 4, 5, 6]
    assert [o.state for o in outcomes] == ["COMPLETED"] * 5 + ["INVALID"]
    for o in outcomes[:5]:
        assert o.output.endswith(f"{o.row}-{o.values['NAME']}.mp4") and measure(o.output, decode=False).frames == 30
    assert outcomes[4].job_id == outcomes[0].job_id and outcomes[4].reused  # the same video: one job
    assert len({o.job_id for o in outcomes[:4]}) == 4
    # two at once: some rows' RUNNING spans overlap, and the rows beside the counted one were riders
    spans, riders = [], 0
    for jid in {o.job_id for o in outcomes[:4]}:
        events = svc.jobs.events(jid)
        start = next(e for e in events if e["kind"] == "running")
        spans.append((start["at"], events[-1]["at"]))
        riders += start["data"]["owner"].endswith(":rider")
    spans.sort()
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:])), spans
    assert 1 <= riders <= 3
    assert all(svc.jobs.get(o.job_id).state == JobState.COMPLETED for o in outcomes[:5])


def test_a_batch_on_two_workers_waits_for_a_slot_before_its_first_row_and_its_riders(media, tmp_path,
                                                                                      monkeypatch):
    """Another job holds the tenant's only slot: no row of the batch starts (no rider either) until it ends."""
    monkeypatch.setattr(batch_module, "SLOT_WAIT", 0.1)
    svc = service_for(tmp_path / "home")
    path = write_project(tmp_path, template(media, width=160, height=90), "t.json")
    holder, _ = svc.submit_job(FilledTemplate(path, {"NAME": "holder"}), "draft_480p")
    assert svc.jobs.claim(holder.id, "elsewhere:1:x")
    released = {}

    def release() -> None:
        time.sleep(1.0)
        released["at"] = time.monotonic()
        svc.jobs.transition(holder.id, JobState.COMPLETED, owner="elsewhere:1:x")

    threading.Thread(target=release).start()
    outcomes = run_batch(svc.job_service, path, [{"NAME": "Ana"}, {"NAME": "Bo"}], "draft_360p",
                         str(tmp_path / "{NAME}.mp4"), workers=2)
    assert [o.state for o in outcomes] == ["COMPLETED", "COMPLETED"]
    for o in outcomes:
        running = next(e for e in svc.jobs.events(o.job_id) if e["kind"] == "running")
        assert running["at"] >= svc.jobs.events(holder.id)[-1]["at"]  # none started before the slot was free
