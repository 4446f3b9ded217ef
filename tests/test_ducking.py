"""Ducking: music lowered by amount_db under a voice, with attack and release; measured by band level."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import project, write_project

from engines.ffmpeg import samples
from engines.model.project import load_project
from engines.model.timeline import place_project
from engines.planning.ducking import plan_ducks

MUSIC_HZ, VOICE_HZ = 220, 1000


@pytest.fixture(scope="module")
def tones(tmp_path_factory, runner):
    d = tmp_path_factory.mktemp("duck")
    music = samples.make_tone(d / "music.m4a", seconds=7, tone_hz=MUSIC_HZ, runner=runner)
    voice = samples.make_tone(d / "voice.m4a", seconds=3, tone_hz=VOICE_HZ, runner=runner)
    return {"music": music, "voice": voice}


def doc(tones, duck):
    music = {"id": "bed", "kind": "audio", "clips": [
        {"id": "m", "asset": "music", "start": 0, "source_in": 0, "source_out": 6}]}
    if duck is not None:
        music["duck"] = duck
    return project([music, {"id": "vo", "kind": "audio", "clips": [
        {"id": "v", "asset": "voice", "start": 2, "source_in": 0, "source_out": 2}]}],
        tones, width=160, height=90)


def band_db(signal: np.ndarray, rate: int, hz: float, t0: float, t1: float) -> float:
    """Level of the ``hz`` band (+-20 Hz) in [t0, t1), dB."""
    seg = signal[int(t0 * rate):int(t1 * rate)]
    window = np.hanning(len(seg))
    spec = np.abs(np.fft.rfft(seg * window)) / window.sum()  # amplitudes: windows of any length compare
    freqs = np.fft.rfftfreq(len(seg), 1 / rate)
    band = spec[(freqs > hz - 20) & (freqs < hz + 20)]
    return float(20 * np.log10(np.sqrt((band ** 2).sum()) + 1e-12))


def mix_of(service, tmp_path, document, name):
    import av
    plan = service.plan_project(write_project(tmp_path, document, name + ".json"), "draft_480p", "cpu")
    service.render(plan, tmp_path / (name + ".mp4"))
    with av.open(str(tmp_path / (name + ".mp4"))) as c:
        a = c.streams.audio[0]
        rate = a.sample_rate
        data = np.concatenate([f.to_ndarray() for f in c.decode(a)], axis=1)[0]
    return data, rate


def test_music_is_lowered_by_amount_db_only_while_the_voice_sounds(service, tones, tmp_path):
    data, rate = mix_of(service, tmp_path, doc(tones, {"under": ["vo"], "amount_db": 12, "attack": 0.15,
                                                        "release": 0.4}), "ducked")
    before = band_db(data, rate, MUSIC_HZ, 0.5, 1.5)
    under = band_db(data, rate, MUSIC_HZ, 2.5, 3.5)
    after = band_db(data, rate, MUSIC_HZ, 4.8, 5.8)
    print(f"music band: before {before:.2f} dB, under the voice {under:.2f} dB, after {after:.2f} dB")
    assert abs((before - under) - 12) < 1.0
    assert abs(after - before) < 0.5
    # attack and release are ramps: half way through each the music is part way down
    mid_attack = band_db(data, rate, MUSIC_HZ, 2.025, 2.125)
    mid_release = band_db(data, rate, MUSIC_HZ, 4.1, 4.3)
    print(f"mid attack {mid_attack:.2f} dB, mid release {mid_release:.2f} dB")
    assert under + 1 < mid_attack < before - 1 and under + 1 < mid_release < before - 1
    # the voice itself is untouched
    plain, _ = mix_of(service, tmp_path, doc(tones, None), "plain")
    assert abs(band_db(data, rate, VOICE_HZ, 2.5, 3.5) - band_db(plain, rate, VOICE_HZ, 2.5, 3.5)) < 0.2
    assert abs(band_db(plain, rate, MUSIC_HZ, 2.5, 3.5) - before) < 0.5


def test_close_phrases_keep_the_music_down_between_them(tones):
    d = doc(tones, {"under": ["vo"], "amount_db": 6, "attack": 0.2, "release": 0.5})
    d["tracks"][1]["clips"] = [{"id": "v1", "asset": "voice", "start": 1, "source_in": 0, "source_out": 1},
                               {"id": "v2", "asset": "voice", "start": 2.5, "source_in": 0, "source_out": 1},
                               {"id": "v3", "asset": "voice", "start": 5, "source_in": 0, "source_out": 0.5}]
    proj = load_project(d)
    ducks = plan_ducks(proj, place_project(proj))
    assert [(float(s), float(e)) for s, e in ducks[0].spans] == [(1.0, 3.5), (5.0, 5.5)]


def test_duck_names_must_be_tracks(tones):
    from engines.errors import ValidationError
    with pytest.raises(ValidationError) as err:
        load_project(doc(tones, {"under": ["voo"], "amount_db": 12}))
    assert 'tracks[0].duck.under[0]: unknown track "voo" (did you mean "vo"?)' in err.value.problems
