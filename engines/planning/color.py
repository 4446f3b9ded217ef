"""How a source's pixels are read, stated in the graph: colour truth whatever the graph's shape.

ffmpeg's filter graph negotiates colour spaces and ranges between filters. Where a property is
left open (an untagged source, a bare ``scale``), ffmpeg picks one itself, and where streams meet
(``xfade``, ``overlay``, ``concat``) it reconciles them, reading an untagged stream as BT.601.
So the same clip came out in one colour alone and in another next to a tagged neighbour: its
colour depended on its window and its chunk. Here nothing is left open:

1. right after decode, ``setparams`` states the source's matrix, range, primaries and transfer
   (its tags, or the policy below for what is untagged);
2. the clip's ``scale`` converts with explicit ``in_``/``out_`` matrix and range to BT.709
   limited range (a no-op where the source already is), and a ``format`` pins the stream's
   colour space and range, so no filter downstream can ask for another;
3. the clip's stream is then tagged BT.709 (primaries and transfer too): every stream that meets
   another is BT.709 limited range and says so. Generated pictures (gaps, slates) are pinned
   the same way.

The policy for untagged sources (the one players use):
- matrix: BT.709 for HD (short side >= 720 lines or long side >= 1280 pixels, as displayed),
  BT.601 (SMPTE 170M) below; primaries and transfer follow the matrix;
- range: limited, unless the stream is tagged full or uses a JPEG-range pixel format (``yuvj*``);
- RGB sources (images): full range sRGB, converted with the BT.709 matrix;
- primaries are stated but not converted (BT.601 and BT.709 primaries differ little, and
  players do not convert them either); HDR (PQ/HLG) is tone-mapped to BT.709 (``upright_filters``).

Everything here is pure text for the filter graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.ffmpeg.probe import VideoInfo

# the probe's matrix names (scale's) -> setparams' colorspace names
_SETPARAMS_MATRIX = {"bt709": "bt709", "smpte170m": "smpte170m", "bt470": "bt470bg", "fcc": "fcc",
                     "smpte240m": "smpte240m", "bt2020": "bt2020nc"}
# a matrix's usual primaries and transfer, for sources that tag only their matrix
_COMPANIONS = {"bt709": ("bt709", "bt709"), "smpte170m": ("smpte170m", "smpte170m"),
               "bt470": ("bt470bg", "smpte170m"), "fcc": ("bt470m", "smpte170m"),
               "smpte240m": ("smpte240m", "smpte240m"), "bt2020": ("bt2020", "bt709")}

BT709_TAGS = "setparams=range=tv:colorspace=bt709:color_primaries=bt709:color_trc=bt709"


@dataclass(frozen=True)
class Interpretation:
    """How a source's pixels are to be read. ``matrix`` in scale's names (None: RGB)."""

    matrix: str | None
    range: str  # "tv" | "pc"
    primaries: str
    transfer: str

    def setparams(self) -> str:
        """The filter that states this interpretation on every decoded frame."""
        space = "gbr" if self.matrix is None else _SETPARAMS_MATRIX[self.matrix]
        return (f"setparams=range={self.range}:colorspace={space}:color_primaries={self.primaries}"
                f":color_trc={self.transfer}")


def is_hd(v: VideoInfo) -> bool:
    """HD as players judge an untagged picture: 720 lines or 1280 pixels wide, as displayed."""
    short, long = sorted(v.display_size)
    return short >= 720 or long >= 1280


def interpret(v: VideoInfo) -> Interpretation:
    """The source's tags, with the policy (module docstring) filling what is untagged."""
    if v.is_rgb:
        return Interpretation(None, v.color_range or "pc", v.color_primaries or "bt709",
                              v.color_trc or "iec61966-2-1")
    matrix = v.color_matrix if v.color_matrix in _SETPARAMS_MATRIX else ("bt709" if is_hd(v) else "smpte170m")
    primaries, transfer = _COMPANIONS[matrix]
    return Interpretation(matrix, v.color_range or "tv", v.color_primaries or primaries, v.color_trc or transfer)


def input_params(v: VideoInfo) -> str:
    """``setparams`` right after decode: the source's reading, stated (see ``interpret``)."""
    return interpret(v).setparams()


def to_bt709(v: VideoInfo) -> str:
    """``scale`` options (to append after ``scale=W:H``) converting to BT.709 limited range.

    Every option is explicit: the conversion never depends on what ffmpeg negotiates. An HDR
    source arrives here already tone-mapped to BT.709 limited range (``upright_filters``).
    """
    if v.is_hdr:
        return ":in_color_matrix=bt709:out_color_matrix=bt709:in_range=tv:out_range=tv"
    it = interpret(v)
    if it.matrix is None:  # RGB: swscale reads it as it is; only the output side needs saying
        return ":out_color_matrix=bt709:out_range=tv"
    return f":in_color_matrix={it.matrix}:out_color_matrix=bt709:in_range={it.range}:out_range=tv"


def pinned_format(pix_fmt: str) -> str:
    """``format`` that also fixes the colour space and range of the stream: nothing downstream
    can negotiate another, so ffmpeg never converts on its own where streams meet."""
    return f"format=pix_fmts={pix_fmt}:color_spaces=bt709:color_ranges=tv"
