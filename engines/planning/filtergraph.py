"""Text of ffmpeg filter graphs: quoting, expressions, chains.

Only values the engine computed (numbers, its own labels and file names) reach a graph;
user text goes to drawtext through a file. ``quote`` still escapes both levels of
filter syntax so that a path or a name can never break out of its option.
"""

from __future__ import annotations

import re
from fractions import Fraction

from engines.model.timebase import fraction_text, to_ffmpeg_seconds


def quote(value: str) -> str:
    """An option value safe at both levels: option (``:`` ``'`` ``\\``) and graph (``[],;``)."""
    inner = value.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    return "'" + inner.replace("\\", "\\\\").replace("'", "\\'").replace("[", "\\[").replace(
        "]", "\\]").replace(",", "\\,").replace(";", "\\;") + "'"


def num(x: float | Fraction | int) -> str:
    """A number for an option value: integers plainly, others with up to 6 decimals."""
    if isinstance(x, Fraction):
        x = float(x)
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    if isinstance(x, int):
        return str(x)
    return f"{x:.6f}".rstrip("0").rstrip(".")


def rate(fps: Fraction) -> str:
    return fraction_text(fps)


def piecewise_linear(points: list[tuple[Fraction, float]], var: str) -> str:
    """An expression in ``var`` (seconds): linear between points, flat outside them.

    Commas are escaped because the expression sits inside a filter option.
    """
    if len({v for _, v in points}) == 1:
        return num(points[0][1])
    expr = num(points[-1][1])
    for (t0, v0), (t1, v1) in reversed(list(zip(points, points[1:]))):
        if t1 == t0:
            seg = num(v1)
        else:
            seg = f"{num(v0)}+({num(v1 - v0)})*({var}-{to_ffmpeg_seconds(t0)})/{to_ffmpeg_seconds(t1 - t0)}"
        expr = f"if(lt({var}\\,{to_ffmpeg_seconds(t1)})\\,{seg}\\,{expr})"
    return f"if(lt({var}\\,{to_ffmpeg_seconds(points[0][0])})\\,{num(points[0][1])}\\,{expr})"


def chain(inputs: list[str], filters: list[str | None], output: str) -> str:
    """``[in]f1,f2[out]``; ``None`` filters are left out."""
    body = ",".join(f for f in filters if f)
    return "".join(f"[{i}]" for i in inputs) + (body or "null") + f"[{output}]"


CHAIN_SEPARATOR = ";\n"  # the plan writes one chain per line
_LEADING = re.compile(r"^(?:\[[^\]]*\])*")
_TRAILING = re.compile(r"(?:\[[^\]]*\])*$")
_LABEL = re.compile(r"\[([^\]]*)\]")


def graph_parts(graph: str) -> list[str]:
    """``graph`` cut into its independent parts (chains linked by no label), in order.

    ffmpeg 9 runs one ``-filter_complex`` as one scheduling unit; a graph whose picture and sound
    parts share it deadlocks now and then at the end of the stream (measured: 4 of 30 runs of a
    preview window, 0 of 150 with two graphs). Each part is given its own ``-filter_complex``: the
    same filters, the same frames and samples, the same bytes out. Input streams (``[0:1]``)
    do not link chains: each graph reads its own.
    """
    chains = graph.split(CHAIN_SEPARATOR)
    owner = list(range(len(chains)))

    def root(i: int) -> int:
        while owner[i] != i:
            owner[i] = owner[owner[i]]
            i = owner[i]
        return i

    made: dict[str, int] = {}
    used: list[tuple[int, str]] = []
    for i, text in enumerate(chains):
        for label in _LABEL.findall(_TRAILING.search(text).group(0)):
            made[label] = i
        used += [(i, label) for label in _LABEL.findall(_LEADING.match(text).group(0))]
    for i, label in used:
        if label in made:
            owner[root(i)] = root(made[label])
    parts: dict[int, list[str]] = {}  # insertion order: by each part's first chain
    for i, text in enumerate(chains):
        parts.setdefault(root(i), []).append(text)
    return [CHAIN_SEPARATOR.join(p) for p in parts.values()]
