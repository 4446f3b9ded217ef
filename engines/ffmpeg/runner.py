"""The one module that starts ffmpeg processes.

- ``find_ffmpeg``: ``CUTLITE_FFMPEG``, then ``ffmpeg`` on PATH, then the imageio-ffmpeg wheel's binary.
- ``FFmpegRunner.run``: argument lists only (never a shell), each ffmpeg in its own process group
  so cancel and timeouts end it with its children, ``-progress pipe:1`` for progress, a bounded
  stderr tail, always reaped. Failures raise an ``FFmpegError`` leaf chosen by stderr pattern.
- ``detect_hardware``: lists encoders, then proves each GPU candidate with a trial encode
  (ffmpeg lists NVENC on machines that cannot use it); cached once per process.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engines.errors import (
    Cancelled,
    DiskFull,
    EncoderUnavailable,
    FFmpegError,
    FFmpegNotFound,
    FFmpegTimeout,
    InputUnreadable,
)

from . import binary_facts
from .profiles import GPU_FAMILIES, PROFILES, encoder_name, resolve_encoder
from .stderr import ERROR, StderrTail

ProgressCallback = Callable[[dict[str, str]], None]


_REAPER_CODE = r"""
import os, signal, sys
groups = set()
for line in sys.stdin:
    op, _, pgid = line.strip().partition(" ")
    if pgid.isdigit():
        (groups.add if op == "+" else groups.discard)(int(pgid))
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class _Reaper:
    """Ends our ffmpeg process groups if this process dies, however it dies.

    ffmpeg ignores SIGPIPE, so losing its progress pipe does not stop it: a ``kill -9`` of cutlite
    would leave it running (measured). Linux's PR_SET_PDEATHSIG would cover Linux only and needs
    ``preexec_fn``, which is unsafe in a threaded program (this runner is called from threads).
    So: one helper process per cutlite process holds a pipe from us; each ffmpeg group is
    registered on start and removed on exit; at EOF (we died) it SIGKILLs what is registered.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid = 0

    def ready(self) -> None:
        """Start the helper now, before an ffmpeg is: starting it takes milliseconds, and a death of
        this process between an ffmpeg's start and its registration would leave that ffmpeg
        running (seen once in the kill -9 test); what remains is the few microseconds between
        ``Popen`` returning and ``watch``."""
        with self._lock:
            self._start_if_needed()

    def _start_if_needed(self) -> None:
        if self._proc is None or self._pid != os.getpid() or self._proc.poll() is not None:
            # -I -S: no site packages, no environment: the helper starts in a third of the time
            self._proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _REAPER_CODE], stdin=subprocess.PIPE,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True, close_fds=True)
            self._pid = os.getpid()

    def _send(self, line: str) -> None:
        with self._lock:
            self._start_if_needed()
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(line.encode())
                self._proc.stdin.flush()
            except OSError:
                self._proc = None

    def watch(self, pgid: int) -> None:
        self._send(f"+ {pgid}\n")

    def forget(self, pgid: int) -> None:
        self._send(f"- {pgid}\n")


_REAPER = _Reaper()


def find_ffmpeg() -> str:
    configured = os.environ.get("CUTLITE_FFMPEG")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise FFmpegNotFound(f"CUTLITE_FFMPEG={configured} is not an executable file", stage="locate",
                                 hint="point CUTLITE_FFMPEG at an ffmpeg binary or unset it")
        return configured
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    bundled = binary_facts.recall("bundled")  # imageio-ffmpeg's binary, found (and run) by an earlier process
    if bundled:
        return bundled
    try:
        import imageio_ffmpeg
        bundled = imageio_ffmpeg.get_ffmpeg_exe()
        binary_facts.note("bundled", bundled, bundled)
        return bundled
    except Exception as exc:  # the wheel raises RuntimeError when its binary is missing
        raise FFmpegNotFound("ffmpeg not found", stage="locate",
                             hint="pip install imageio-ffmpeg (a dependency of cutlite), put ffmpeg on "
                                  f"PATH or set CUTLITE_FFMPEG ({exc})") from None


# stderr pattern -> (error class, hint). First match wins; anything else is a plain FFmpegError.
_KNOWN_FAILURES: tuple[tuple[re.Pattern[str], type[FFmpegError], str], ...] = tuple(
    (re.compile(p, re.I), cls, hint) for p, cls, hint in (
        (r"No space left on device|File too large|Disk quota exceeded", DiskFull,
         "the output disk is full: free space or write to another location"),
        (r"Unknown encoder|No NVENC capable devices|Cannot load libcuda|OpenEncodeSessionEx failed|"
         r"Failed to (initialise|create) VAAPI|Device creation failed|No VA display found|"
         r"Error creating a MFX session|cannot open the VideoToolbox|Error while opening encoder",
         EncoderUnavailable, "the encoder cannot run on this machine: render with --hw cpu "
                             "(or fix the GPU driver), and check `cutlite doctor`"),
        (r"No such file or directory|Invalid data found when processing input|moov atom not found|"
         r"could not find codec parameters|Error opening input", InputUnreadable,
         "an input file is missing or unreadable: run `cutlite plan` to list the assets it uses"),
        (r"Permission denied", InputUnreadable, "a file cannot be read or written: check permissions"),
    ))


def key_line(stderr_tail: str) -> str:
    """The line that explains a failure: the first matching a known pattern, else the first error
    line, else the first."""
    lines = [re.sub(r" @ 0x[0-9a-f]+", "", ln).strip() for ln in stderr_tail.splitlines()
             if ln.strip() and not ln.startswith("[... ")]
    for ln in lines:
        if any(pattern.search(ln) for pattern, _, _ in _KNOWN_FAILURES):
            return ln
    errors = [ln for ln in lines if ERROR.search(ln)]
    return (errors or lines or ["no error output"])[0]


def classify_failure(stderr_tail: str) -> tuple[type[FFmpegError], str]:
    for pattern, cls, hint in _KNOWN_FAILURES:
        if pattern.search(stderr_tail):
            return cls, hint
    return FFmpegError, ("ffmpeg refused the job: the stderr tail says why; if the filter graph is at "
                         "fault, report it with the output of `cutlite plan --json`")


@dataclass
class RunResult:
    argv: list[str]
    returncode: int
    elapsed: float
    stderr_tail: str
    progress: dict[str, str] = field(default_factory=dict)
    decode_errors: int = 0  # lines where a decoder complained about damaged input (the pass still succeeded)
    decode_examples: list[str] = field(default_factory=list)


class FFmpegRunner:
    def __init__(self, ffmpeg: str | None = None) -> None:
        self.ffmpeg = ffmpeg or find_ffmpeg()

    @functools.cached_property
    def version(self) -> str:
        """The binary's version (``ffmpeg -version``), remembered on disk for this binary."""
        fact = f"version:{os.path.realpath(self.ffmpeg)}"
        known = binary_facts.recall(fact)
        if known:
            return known
        out = subprocess.run([self.ffmpeg, "-hide_banner", "-version"], capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL)
        first = (out.stdout.splitlines() or ["unknown"])[0]
        m = re.match(r"ffmpeg version (\S+)", first)
        version = m.group(1) if m else first
        if out.returncode == 0 and m:
            binary_facts.note(fact, self.ffmpeg, version)
        return version

    def run(self, args: list[str], *, stage: str, cwd: str | Path | None = None,
            timeout: float | None = None, cancel: threading.Event | None = None,
            on_progress: ProgressCallback | None = None, stall_timeout: float | None = None,
            **context: object) -> RunResult:
        """Run ``ffmpeg`` with ``args``; raise an FFmpegError leaf, FFmpegTimeout or Cancelled.

        ``stall_timeout`` ends a run whose progress (frames, output time) has not moved for that
        many seconds: ffmpeg can, rarely, deadlock with every thread waiting (seen with 9.0).
        """
        argv = [self.ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-v", "warning", "-progress", "pipe:1", *args]
        tail = StderrTail()
        progress: dict[str, str] = {}
        start = time.monotonic()
        _REAPER.ready()
        try:
            proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            raise FFmpegNotFound(f"cannot start ffmpeg: {exc}", stage=stage, argv=argv,
                                 hint="check CUTLITE_FFMPEG or reinstall imageio-ffmpeg") from None
        _REAPER.watch(proc.pid)
        exited = threading.Event()  # set the moment ffmpeg exits (Popen.wait(timeout) polls: up to 16 ms late)
        readers = [threading.Thread(target=_read_stderr, args=(proc.stderr, tail), daemon=True),
                   threading.Thread(target=_read_progress, args=(proc.stdout, progress, on_progress), daemon=True),
                   threading.Thread(target=_wait_for_exit, args=(proc, exited), daemon=True)]
        for r in readers:
            r.start()
        outcome = "done"
        moved, last = start, None
        try:
            while not exited.wait(0.05):
                if cancel is not None and cancel.is_set():
                    outcome = "cancelled"
                    break
                now = time.monotonic()
                if timeout is not None and now - start > timeout:
                    outcome = "timeout"
                    break
                if stall_timeout is not None:
                    seen = (progress.get("frame"), progress.get("out_time_us"))
                    if seen != last:
                        moved, last = now, seen
                    elif now - moved > stall_timeout:
                        outcome = "stalled"
                        break
        except KeyboardInterrupt:
            outcome = "interrupted"
        finally:
            if proc.poll() is None:
                _end_process_group(proc)
            proc.wait()
            _REAPER.forget(proc.pid)
            for r in readers:
                r.join(timeout=5)
        elapsed = time.monotonic() - start
        stderr_tail = tail.text()
        ctx = dict(context, argv=argv, returncode=proc.returncode, stderr_tail=stderr_tail)
        if tail.decode_errors:
            ctx["decode_errors"] = tail.decode_errors
        if outcome in ("cancelled", "interrupted"):
            raise Cancelled("cancelled by the user", stage=stage, **ctx)
        if outcome == "stalled":
            raise FFmpegTimeout(f"ffmpeg made no progress for {stall_timeout:.0f} s (stalled at frame "
                                f"{progress.get('frame', '0')})", stage=stage, retryable=True, stalled=True,
                                hint="a rare ffmpeg deadlock or a stalled input; retrying usually succeeds", **ctx)
        if outcome == "timeout":
            raise FFmpegTimeout(f"ffmpeg ran longer than {timeout:.0f} s", stage=stage, retryable=True,
                                hint="the input may be stalled or the machine overloaded; retry, or raise "
                                     "the timeout", **ctx)
        if proc.returncode == -signal.SIGXFSZ:  # killed at the file-size limit (ulimit -f): no stderr line
            raise DiskFull(f"ffmpeg reached the file-size limit during {stage} (SIGXFSZ)", stage=stage,
                           hint="the output disk or quota is full (or `ulimit -f` is set): free space or raise "
                                "the limit, then resume", **ctx)
        if proc.returncode != 0:
            cls, hint = classify_failure(stderr_tail)
            raise cls(f"ffmpeg failed during {stage} (exit {proc.returncode}): {key_line(stderr_tail)}", stage=stage,
                      hint=hint, **ctx)
        return RunResult(argv, proc.returncode, elapsed, stderr_tail, dict(progress), tail.decode_errors,
                         list(tail.decode_examples))

    def list_encoders(self) -> set[str]:
        out = subprocess.run([self.ffmpeg, "-hide_banner", "-encoders"], capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL)
        names = set()
        for line in out.stdout.splitlines():
            m = re.match(r"\s*V[A-Z.]{5}\s+(\S+)", line)
            if m:
                names.add(m.group(1))
        return names

    def trial_encode(self, family: str, codec: str, timeout: float = 20) -> tuple[bool, str]:
        """Encode a few tiny frames with the real argument set; (worked, reason)."""
        settings = resolve_encoder(PROFILES["draft_360p" if codec == "h264" else "master_4k"], family,
                                   fps=PROFILES["draft_360p"].fps_cap or 24)
        vf = "format=" + settings.pix_fmt if settings.filter_tail is None else settings.filter_tail
        args = ["-v", "error", *settings.global_args, "-f", "lavfi", "-i", "color=c=black:s=256x256:r=24:d=0.25",
                "-vf", vf, "-frames:v", "3", "-c:v", settings.encoder, *settings.codec_args, "-f", "null", "-"]
        try:
            self.run(args, stage="hardware_probe", timeout=timeout)
        except FFmpegError as exc:
            return False, key_line(exc.stderr_tail)[:300]
        return True, "trial encode succeeded"


def _wait_for_exit(proc: subprocess.Popen[bytes], exited: threading.Event) -> None:
    proc.wait()
    exited.set()


def _read_stderr(stream, tail: StderrTail) -> None:
    for raw in iter(stream.readline, b""):
        tail.add(raw.decode("utf-8", "replace"))
    stream.close()


def _read_progress(stream, progress: dict[str, str], on_progress: ProgressCallback | None) -> None:
    block: dict[str, str] = {}
    for raw in iter(stream.readline, b""):
        key, _, value = raw.decode("utf-8", "replace").strip().partition("=")
        block[key] = value
        if key == "progress":
            progress.update(block)
            if on_progress is not None:
                on_progress(dict(block))
            block = {}
    stream.close()


def _end_process_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole group (ffmpeg finishes its file trailer quickly), then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


# ---------------------------------------------------------------- hardware detection

@dataclass(frozen=True)
class EncoderProbe:
    family: str
    codec: str
    encoder: str
    listed: bool
    usable: bool
    reason: str


@dataclass(frozen=True)
class HardwareReport:
    ffmpeg: str
    ffmpeg_version: str
    probes: tuple[EncoderProbe, ...]

    def usable(self, family: str, codec: str) -> bool:
        if family == "cpu":
            return True
        return any(p.usable for p in self.probes if p.family == family and p.codec == codec)

    def reason(self, family: str, codec: str) -> str:
        for p in self.probes:
            if p.family == family and p.codec == codec:
                return p.reason
        return "not probed"


def probe_hardware(runner: FFmpegRunner) -> HardwareReport:
    """List encoders, then trial-encode every listed GPU encoder (uncached)."""
    listed = runner.list_encoders()
    probes = []
    for family in GPU_FAMILIES:
        for codec in ("h264", "hevc"):
            enc = encoder_name(family, codec)
            if enc not in listed:
                probes.append(EncoderProbe(family, codec, enc, False, False, "not in this ffmpeg build"))
                continue
            ok, reason = runner.trial_encode(family, codec)
            probes.append(EncoderProbe(family, codec, enc, True, ok, reason))
    return HardwareReport(runner.ffmpeg, runner.version, tuple(probes))


_hardware_lock = threading.Lock()
_hardware_cache: dict[str, HardwareReport] = {}


def detect_hardware(runner: FFmpegRunner | None = None, *, refresh: bool = False) -> HardwareReport:
    """``probe_hardware`` once per machine set-up: kept in this process and on disk
    (``hardware_cache``), keyed by the ffmpeg binary, the GPU device nodes and the drivers.
    ``refresh`` probes again and replaces both."""
    from . import hardware_cache

    runner = runner or FFmpegRunner()
    with _hardware_lock:
        report = None if refresh else _hardware_cache.get(runner.ffmpeg)
        if report is not None:
            return report
        identity = hardware_cache.machine_identity(runner.ffmpeg)
        stored = None if refresh or identity is None else hardware_cache.load(identity)
        if stored is not None:
            report = HardwareReport(stored["ffmpeg"], stored["ffmpeg_version"],
                                    tuple(EncoderProbe(**p) for p in stored["probes"]))
        else:
            report = probe_hardware(runner)
            if identity is not None:
                hardware_cache.store(identity, report)
        _hardware_cache[runner.ffmpeg] = report
        return report
