"""Every validation rule, each problem with its JSON path, all problems at once."""

import copy
import json

import pytest

from engines.errors import ValidationError
from engines.model.project import load_project

BASE = {
    "schema_version": 1, "id": "promo", "tenant": "acme", "env": "dev",
    "settings": {"width": 1920, "height": 1080, "fps": 30},
    "assets": {"a": {"path": "a.mp4"}, "logo": {"path": "logo.png"}},
    "tracks": [
        {"id": "main", "kind": "video", "clips": [
            {"id": "c1", "asset": "a", "start": 0, "source_in": 0, "source_out": 10},
            {"id": "c2", "asset": "a", "start": 9, "source_in": 0, "source_out": 5,
             "transition_in": {"type": "crossfade", "duration": 1}}]},
        {"id": "over", "kind": "overlay", "clips": [
            {"id": "t1", "text": "Hi", "start": 0, "duration": 2},
            {"id": "l1", "asset": "logo", "start": 0, "duration": 3, "opacity": [[0, 0], [1, 1]]}]},
        {"id": "bed", "kind": "audio", "clips": [
            {"id": "m1", "asset": "a", "start": 0, "source_in": 0, "source_out": 4, "volume": 0.5}]},
    ],
}


def problems_of(doc) -> list[str]:
    with pytest.raises(ValidationError) as err:
        load_project(doc)
    return err.value.problems


def edit(**paths):
    doc = copy.deepcopy(BASE)
    for path, value in paths.items():
        node = doc
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        last = keys[-1]
        if value is KeyError:
            del node[int(last) if last.isdigit() else last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return doc


def test_the_example_is_valid():
    p = load_project(BASE)
    assert p.tracks[0].clips[1].transition_in.duration == 1


def test_speed_out_of_range_names_its_path():
    assert problems_of(edit(tracks__0__clips__0__speed=20)) == [
        "tracks[0].clips[0].speed: must be between 0.1 and 16"]


def test_every_problem_is_reported_at_once():
    doc = edit(tracks__0__clips__0__speed=0.01, tracks__1__clips__0__font_size=-3,
               settings__width=1921, tenant="../x")
    probs = problems_of(doc)
    joined = "\n".join(probs)
    assert "tracks[0].clips[0].speed" in joined
    assert "tracks[1].clips[0].font_size" in joined
    assert "settings.width: must be an even integer" in joined
    assert "tenant: invalid tenant" in joined
    assert len(probs) == 4


def test_unknown_fields_are_refused_with_a_suggestion():
    probs = problems_of(edit(tracks__0__clips__0__sped=2))
    assert probs == ['tracks[0].clips[0].sped: unknown field (did you mean "speed"?)']


def test_future_schema_version_is_refused_clearly():
    probs = problems_of(edit(schema_version=2))
    assert "newer than this engine understands" in probs[0]


@pytest.mark.parametrize("tenant", ["", "../x", "ACME", "acmé", "a" * 64, "-a", "a/b", "a\x00b"])
def test_hostile_tenants_are_refused(tenant):
    assert any(p.startswith("tenant:") for p in problems_of(edit(tenant=tenant)))


@pytest.mark.parametrize("env", ["production", "", "DEV", "../prod"])
def test_unknown_envs_are_refused(env):
    assert any(p.startswith("env:") for p in problems_of(edit(env=env)))


def test_decimal_fps_is_refused_with_a_rational_hint():
    probs = problems_of(edit(settings__fps=29.97))
    assert probs[0].startswith("settings.fps:") and "30000/1001" in probs[0]


def test_overlap_on_a_video_track_without_transition():
    doc = edit(tracks__0__clips__1__transition_in=KeyError)
    probs = problems_of(doc)
    assert probs == [p for p in probs if p.startswith("tracks[0].clips[1].start: overlaps the previous clip")]
    assert len(probs) == 1


def test_transition_must_start_at_previous_end_minus_duration():
    probs = problems_of(edit(tracks__0__clips__1__start=8))
    assert len(probs) == 1 and probs[0].startswith("tracks[0].clips[1].start: with a 1 s transition")


def test_transition_on_first_clip_and_unknown_type():
    doc = edit(tracks__0__clips__0__transition_in={"type": "spin", "duration": 1})
    joined = "\n".join(problems_of(doc))
    assert "tracks[0].clips[0].transition_in.type: unknown transition \"spin\"" in joined
    assert "tracks[0].clips[0].transition_in: the first clip of a track has nothing to transition from" in joined


def test_text_clip_rules():
    doc = edit(tracks__0__clips__0={"id": "x", "text": "t", "start": 0, "duration": 1})
    assert any("text clips belong on overlay tracks" in p for p in problems_of(doc))
    doc = edit(tracks__1__clips__0__text="x" * 501)
    assert problems_of(doc) == ["tracks[1].clips[0].text: at most 500 characters (got 501)"]
    doc = edit(tracks__1__clips__0__duration=KeyError)
    assert problems_of(doc) == ["tracks[1].clips[0].duration: text clips need a duration > 0"]


def test_source_range_and_references():
    doc = edit(tracks__0__clips__0__source_in=11)
    assert any("tracks[0].clips[0].source_out: must be greater than source_in" in p for p in problems_of(doc))
    doc = edit(tracks__2__clips__0__asset="musc")
    assert problems_of(doc) == ['tracks[2].clips[0].asset: unknown asset "musc"']


def test_keyframes_must_be_sorted_and_in_range():
    doc = edit(tracks__1__clips__1__opacity=[[1, 0], [0, 1]])
    assert problems_of(doc) == ["tracks[1].clips[1].opacity: keyframe [1] is not sorted by time"]
    doc = edit(tracks__2__clips__0__volume=[[0, 5]])
    assert problems_of(doc) == ["tracks[2].clips[0].volume: keyframe [0] value must be between 0 and 4"]


def test_audio_clips_have_no_picture_fields():
    doc = edit(tracks__2__clips__0__opacity=0.5)
    assert problems_of(doc) == ["tracks[2].clips[0].opacity: audio clips have no picture"]


def test_duplicate_ids():
    doc = edit(tracks__1__clips__0__id="c1", tracks__2__id="main")
    joined = "\n".join(problems_of(doc))
    assert 'tracks[1].clips[0].id: duplicate clip id "c1" (also tracks[0].clips[0])' in joined
    assert 'tracks[2].id: duplicate track id "main" (also tracks[0])' in joined


def test_asset_ref_needs_exactly_one_of_path_or_asset_id():
    doc = edit(assets__a={"path": "a.mp4", "asset_id": "ast_1"})
    assert problems_of(doc) == ['assets.a: give exactly one of "path" or "asset_id"']


def test_invalid_json_and_non_object():
    assert problems_of(b"{not json")[0].startswith("$: not valid JSON")
    assert problems_of(b"[1, 2]") == ["$: a project must be a JSON object"]


def test_json_key_order_does_not_change_the_model():
    shuffled = json.loads(json.dumps(BASE, sort_keys=True))
    assert load_project(shuffled) == load_project(BASE)
