"""ffmpeg's stderr as a person reading a failure needs it: the first lines that say what went
wrong and the last lines, with known harmless noise left out.

A plain last-40-lines tail of a failed 600-clip audio pass held five lines of "Codec AVOption
... has not been used for any stream" and nothing about the cause: the cause is usually the first
error, and what ffmpeg says last (its exit reason) comes after a long run of repeats.
Decode errors (corrupted packets, missing references, truncated data) are counted on their own,
with a few examples: a pass that succeeds despite them must still say so.
"""

from __future__ import annotations

import collections
import re

# known harmless lines: never the cause of a failure
NOISE = tuple(re.compile(p) for p in (
    r"Codec AVOption \S+ \(.*\) has not been used for any stream",
    r"Guessed Channel Layout for Input Stream",
    r"deprecated pixel format used, make sure you did set range correctly",
    r"^\s*Last message repeated \d+ times?\s*$",
    r"Timestamps are unset in a packet for stream",
    r"No accelerated colorspace conversion found",
    r"Multiple -filter/-af/-vf options specified",
))
# lines that say what went wrong
ERROR = re.compile(r"error|invalid|fail|cannot|could not|unable|not found|no such|corrupt|missing|denied|"
                   r"unknown|refus|too large|mismatch|overflow|truncat|abort|exceed", re.I)
# a decoder's complaints about its input: the media is damaged where these are logged
DECODE_ERROR = re.compile(
    r"error while decoding|decode_slice_header error|concealing \d+ (DC|AC|MV)|Invalid NAL unit|"
    r"non-existing PPS|no frame!|missing picture in access unit|Packet corrupt|corrupt (input )?packet|"
    r"Invalid data found when processing input|error in slice|(top|left) block unavailable|"
    r"Error splitting the input into NAL units|mmco: unref short failure|Reference \d+ >= \d+|"
    r"Number of bands .* exceeds limit|Prediction is not allowed|channel element \d+\.\d+ is not allocated|"
    r"Input buffer exhausted before END element|Invalid frame dimensions|Truncated|"
    r"Error submitting packet to decoder|partial file|Could not find ref with POC|error reading header|"
    r"Reserved bit set|Error parsing|ac-tex damaged|Warning MVs not available|"
    r"out of range intra chroma pred mode|cabac decode of qscale diff failed|corrupted macroblock",
    re.I)
FIRST_ERRORS = 10
LAST_LINES = 30
DECODE_EXAMPLES = 5


def is_noise(line: str) -> bool:
    return any(p.search(line) for p in NOISE)


class StderrTail:
    """Collects ffmpeg's stderr lines (bounded memory) and gives back the lines worth reading."""

    def __init__(self, first_errors: int = FIRST_ERRORS, last_lines: int = LAST_LINES) -> None:
        self._first: list[tuple[int, str]] = []
        self._last: collections.deque[tuple[int, str]] = collections.deque(maxlen=last_lines)
        self._first_errors = first_errors
        self._seen = 0
        self.noise = 0           # harmless lines left out
        self.decode_errors = 0   # lines where a decoder complained about its input
        self.decode_examples: list[str] = []

    def add(self, line: str) -> None:
        line = line.rstrip()
        if not line.strip():
            return
        if is_noise(line):
            self.noise += 1
            return
        if DECODE_ERROR.search(line):
            self.decode_errors += 1
            if len(self.decode_examples) < DECODE_EXAMPLES:
                self.decode_examples.append(line)
        entry = (self._seen, line)
        self._seen += 1
        if len(self._first) < self._first_errors and ERROR.search(line):
            self._first.append(entry)
        self._last.append(entry)

    def text(self) -> str:
        """The first error lines, then the last lines, in order; a marker where lines were left out."""
        kept = sorted({*self._first, *self._last})
        out: list[str] = []
        previous = -1
        for index, line in kept:
            if index != previous + 1:
                out.append(f"[... {index - previous - 1} line(s) left out ...]")
            out.append(line)
            previous = index
        return "\n".join(out)
