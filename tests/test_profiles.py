from fractions import Fraction

import pytest

from engines.errors import ValidationError
from engines.ffmpeg.profiles import PROFILES, get_profile, resolve_encoder


def test_the_five_profiles_and_the_four_delivery_formats_exist():
    assert list(PROFILES) == ["draft_360p", "draft_480p", "preview_720p", "social_1080p", "master_4k",
                              "web_1080p_webm", "gif_480p", "prores_master", "audio_m4a"]
    assert [p.container for p in PROFILES.values()][4:] == ["mp4", "webm", "gif", "mov", "m4a"]


def test_drafts_never_upscale_and_deliveries_do():
    assert get_profile("draft_360p").output_size(1920, 1080) == (640, 360)
    assert get_profile("draft_360p").output_size(320, 240) == (320, 240)
    assert get_profile("social_1080p").output_size(1280, 720) == (1920, 1080)


def test_vertical_projects_keep_their_orientation():
    assert get_profile("social_1080p").output_size(1080, 1920) == (1080, 1920)
    assert get_profile("draft_480p").output_size(1080, 1920) == (480, 854)


def test_sizes_are_always_even():
    for p in PROFILES.values():
        for w, h in ((1918, 1080), (1000, 562), (720, 400), (518, 488)):
            ow, oh = p.output_size(w, h)
            assert ow % 2 == 0 and oh % 2 == 0


def test_fps_rules_cap_but_never_raise():
    assert get_profile("draft_360p").output_fps(Fraction(30)) == 30
    assert get_profile("draft_360p").output_fps(Fraction(60)) == 30  # a whole divisor: every frame on the timeline
    assert get_profile("draft_360p").output_fps(Fraction(50)) == 25
    assert get_profile("draft_360p").output_fps(Fraction(120)) == 30
    assert get_profile("draft_360p").output_fps(Fraction(60000, 1001)) == Fraction(30000, 1001)
    assert get_profile("draft_360p").output_fps(Fraction(15)) == 15
    assert get_profile("social_1080p").output_fps(Fraction(30000, 1001)) == Fraction(30000, 1001)
    assert get_profile("social_1080p").output_fps(Fraction(120)) == 60
    assert get_profile("master_4k").output_fps(Fraction(120)) == 120


def test_cpu_mapping_pins_quality_and_closed_gop():
    e = resolve_encoder(get_profile("social_1080p"), "cpu", Fraction(30))
    assert e.encoder == "libx264" and e.pix_fmt == "yuv420p"
    args = list(e.codec_args)
    assert args[args.index("-crf") + 1] == "21"
    assert args[args.index("-g") + 1] == "60"            # 2 s at 30 fps
    assert "+cgop" in args and args[args.index("-sc_threshold") + 1] == "0"


def test_master_is_ten_bit_hevc():
    e = resolve_encoder(get_profile("master_4k"), "cpu", Fraction(24))
    assert e.encoder == "libx265" and e.pix_fmt == "yuv420p10le"
    assert "keyint=48" in " ".join(e.codec_args)


@pytest.mark.parametrize("family,encoder,quality", [
    ("nvenc", "h264_nvenc", ("-cq", "22")),
    ("videotoolbox", "h264_videotoolbox", ("-q:v", "63")),
    ("vaapi", "h264_vaapi", ("-qp", "21")),
    ("qsv", "h264_qsv", ("-global_quality", "21")),
])
def test_gpu_mapping_rules(family, encoder, quality):
    e = resolve_encoder(get_profile("social_1080p"), family, Fraction(30))
    assert e.encoder == encoder and e.pix_fmt == "nv12"
    args = list(e.codec_args)
    assert args[args.index(quality[0]) + 1] == quality[1]
    assert args[args.index("-g") + 1] == "60"


def test_gpu_uploads_are_explicit():
    assert resolve_encoder(get_profile("draft_360p"), "vaapi", Fraction(24)).filter_tail == "format=nv12,hwupload"
    assert resolve_encoder(get_profile("master_4k"), "nvenc", Fraction(24)).pix_fmt == "p010le"
    assert resolve_encoder(get_profile("master_4k"), "nvenc", Fraction(24)).encoder == "hevc_nvenc"


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ValidationError, match="known: draft_360p"):
        get_profile("ultra")


def test_presets_and_crfs_are_the_measured_choices():
    """Chosen by bench/bench_presets.py (docs/presets.md): change them with a new measurement, not by hand."""
    assert {name: (p.preset, p.crf) for name, p in PROFILES.items()} == {
        "draft_360p": ("ultrafast", 32), "draft_480p": ("superfast", 30), "preview_720p": ("superfast", 26),
        "social_1080p": ("faster", 21), "master_4k": ("superfast", 16),
        # the delivery formats' own settings (docs/profiles.md#delivery-formats)
        "web_1080p_webm": ("good/4", 32), "gif_480p": ("palette", 0), "prores_master": ("hq", 0),
        "audio_m4a": ("-", 0)}


def test_every_profile_preset_has_its_encoder_s_chunk_post_roll():
    from engines.jobs.runner import LOOKAHEAD, LOOKAHEAD_X265

    for p in PROFILES.values():
        if p.codec in ("h264", "hevc"):  # VP9 pads by libvpx's own lookahead; ProRes, GIF and sound need none
            assert p.preset in (LOOKAHEAD_X265 if p.codec == "hevc" else LOOKAHEAD), p.name
    assert LOOKAHEAD_X265["superfast"] == 10 and LOOKAHEAD["superfast"] == 0  # x265 always looks ahead
