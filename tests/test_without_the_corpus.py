"""A clone without the real-media corpus passes: every test that reads the corpus skips, none fails.

The corpus (``CUTLITE_REAL_MEDIA``) is not part of the repository, and CI's machine has it, so a test
that opens a corpus file without the skip marker fails only for a newcomer. This runs every test file
that refers to the corpus again, in a pytest of its own whose ``CUTLITE_REAL_MEDIA`` is an empty folder,
and requires that every result is a pass or a skip saying where the corpus was looked for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# the names by which a test reaches the corpus: conftest's folder and its skip markers
CORPUS_NAMES = ("REAL_MEDIA", "needs_real_", "needs_corpus")


def files_that_read_the_corpus() -> list[Path]:
    return sorted(p for p in TESTS.glob("test_*.py")
                  if p.name != Path(__file__).name and any(n in p.read_text() for n in CORPUS_NAMES))


def test_only_conftest_knows_where_the_corpus_is():
    """A test that found the corpus by its own path would escape the run below: all go through REAL_MEDIA."""
    offenders = [p.name for p in TESTS.glob("*.py")
                 if p.name not in ("conftest.py", Path(__file__).name)
                 and any(s in p.read_text() for s in ('"shared"', "media/real", "'shared'"))]
    assert offenders == [], offenders


@pytest.mark.timeout(900)
def test_every_corpus_test_skips_and_nothing_fails_without_the_corpus(tmp_path):
    empty = tmp_path / "no-corpus"
    empty.mkdir()
    files = files_that_read_the_corpus()
    assert len(files) >= 5, files  # the corpus tests are where they were: probing, proxies, interchange...
    report = tmp_path / "report.xml"
    env = {k: v for k, v in os.environ.items() if k != "CUTLITE_HOME"}  # the inner run makes its own
    env["CUTLITE_REAL_MEDIA"] = str(empty)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "timeout=300",
                          "--basetemp", str(tmp_path / "inner"), "--junitxml", str(report), *map(str, files)],
                         cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=880)
    cases = ET.parse(report).getroot().iter("testcase")
    failed, skipped, passed = [], [], 0
    for case in cases:
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(name)
        elif (skip := case.find("skipped")) is not None:
            skipped.append((name, skip.get("message", "")))
        else:
            passed += 1
    assert failed == [] and out.returncode == 0, (failed, out.stdout[-3000:])
    message = f"needs the real-media corpus at {empty.resolve()} (set CUTLITE_REAL_MEDIA to its folder)"
    wrong = [(name, why) for name, why in skipped if message not in why]
    assert wrong == [], wrong  # every skip is the corpus's one message, naming where it looked
    assert passed > 0 and len(skipped) >= 20, (passed, len(skipped))
    print(f"without the corpus: {passed} passed, {len(skipped)} skipped in {len(files)} files")
