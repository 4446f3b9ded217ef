"""Text of ffmpeg filter graphs: quoting, expressions, chains.

Only values the engine computed (numbers, its own labels and file names) reach a graph;
user text goes to drawtext through a file. ``quote`` still escapes both levels of
filter syntax so that a path or a name can never break out of its option.
"""

from __future__ import annotations

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
