"""A local file registered once is found again by its cheap identity, without a full hash."""

from __future__ import annotations

import os
import shutil

import pytest

from engines.media_v2 import library as library_module
from engines.media_v2.library import MediaLibrary
from engines.media_v2.registry import Registry
from engines.media_v2.storage import LocalStore


@pytest.fixture
def lib(tmp_path, monkeypatch):
    monkeypatch.setenv("CUTLITE_HOME", str(tmp_path / "home"))
    return MediaLibrary(Registry(f"sqlite:///{tmp_path / 'db.sqlite'}"), stores={"dev": LocalStore(tmp_path / "o")})


def count_full_hashes(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = library_module.sha256_file

    def counting(path):  # noqa: ANN001
        calls.append(str(path))
        return real(path)
    monkeypatch.setattr(library_module, "sha256_file", counting)
    return calls


def test_an_unchanged_file_is_found_without_hashing_it_again(lib, media, tmp_path, monkeypatch):
    src = tmp_path / "clip.mp4"
    shutil.copyfile(media["red"], src)
    first, created = lib.register_file("acme", "dev", src)
    assert created
    hashed = count_full_hashes(monkeypatch)
    again, created = lib.register_file("acme", "dev", src)
    assert not created and again.id == first.id and hashed == []


def test_a_changed_file_is_hashed_and_registered_anew(lib, media, tmp_path, monkeypatch):
    src = tmp_path / "clip.mp4"
    shutil.copyfile(media["red"], src)
    first, _ = lib.register_file("acme", "dev", src)
    shutil.copyfile(media["blue"], src)  # other bytes at the same path
    hashed = count_full_hashes(monkeypatch)
    second, created = lib.register_file("acme", "dev", src)
    assert created and second.id != first.id and hashed == [str(src)]


def test_a_touched_file_is_hashed_again_and_keeps_its_asset(lib, media, tmp_path, monkeypatch):
    src = tmp_path / "clip.mp4"
    shutil.copyfile(media["red"], src)
    first, _ = lib.register_file("acme", "dev", src)
    os.utime(src, ns=(1, 1))
    hashed = count_full_hashes(monkeypatch)
    again, created = lib.register_file("acme", "dev", src)
    assert not created and again.id == first.id and hashed == [str(src)]


def test_another_tenant_never_gets_the_note(lib, media, tmp_path, monkeypatch):
    src = tmp_path / "clip.mp4"
    shutil.copyfile(media["red"], src)
    first, _ = lib.register_file("acme", "dev", src)
    other, created = lib.register_file("globex", "dev", src)
    assert created and other.id != first.id and other.tenant == "globex"
