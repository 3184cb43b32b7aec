"""Disk faults for real, under a test's state directory.

- `read_only(path)`: `path` can be made read-only and writable again. As root (CI),
  `path` is a small tmpfs of its own, remounted `ro` (EROFS): root ignores file
  modes, so chmod would prove nothing. As anyone else, chmod 0500 (EACCES); skipped
  for a root that may not mount.
- `small_disk(path)`: `path` is a small tmpfs of its own that can be filled up
  (ENOSPC) and freed again. Needs root (a mount); skipped otherwise, where a test
  may fall back to `inject_enospc`.
- `inject_enospc(monkeypatch, path)`: the fault-injecting fallback: `os.fsync` of a
  file under `path` fails with ENOSPC (the temp file is written first, as on a
  full disk).

Every mount is undone (lazily, should a process still hold a file there).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MIB = 1024 * 1024


@dataclass
class Fault:
    on: Callable[[], None]  # the fault starts
    off: Callable[[], None]  # the disk recovers
    errno: str  # what a write gets meanwhile: ENOSPC, EROFS or EACCES


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


@functools.cache
def can_mount() -> bool:
    """Root that may mount a tmpfs here (not every container may)."""
    if os.geteuid() != 0:
        return False
    probe = Path(tempfile.mkdtemp(prefix="agy-mount-probe-"))
    try:
        _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe))
    except (OSError, subprocess.CalledProcessError):
        return False
    else:
        _umount(probe)
        return True
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


@functools.cache
def chmod_stops_writes() -> bool:
    """False for root (file modes do not apply to it), unless it lost CAP_DAC_OVERRIDE."""
    probe = Path(tempfile.mkdtemp(prefix="agy-chmod-probe-"))
    try:
        probe.chmod(0o500)
        (probe / "x").touch()
    except PermissionError:
        return True
    else:
        return False
    finally:
        probe.chmod(0o700)
        shutil.rmtree(probe, ignore_errors=True)


@contextlib.contextmanager
def _tmpfs(path: Path, size_mib: int) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size_mib}m,mode=0755", "tmpfs", str(path))
    try:
        yield
    finally:
        _umount(path)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Fault]:
    """`path` (made if need be, left empty) that `on()` makes read-only."""
    if can_mount():
        with _tmpfs(path, 8):
            yield Fault(
                on=lambda: _mount("-o", "remount,ro", str(path)),
                off=lambda: _mount("-o", "remount,rw", str(path)),
                errno="EROFS",
            )
        return
    if not chmod_stops_writes():
        pytest.skip("root that may not mount: chmod would not stop a write")
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield Fault(on=lambda: path.chmod(0o500), off=lambda: path.chmod(0o755), errno="EACCES")
    finally:
        path.chmod(0o755)


@contextlib.contextmanager
def small_disk(path: Path, size_mib: int = 48) -> Iterator[Fault]:
    """`path` on a tmpfs of its own, big enough for a harness's conversation; `on()`
    fills it to the last byte."""
    if not can_mount():
        pytest.skip("filling a disk needs a tmpfs of its own: root that may mount")
    with _tmpfs(path, size_mib):
        filler = path / ".filler"

        def fill() -> None:
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            try:
                for chunk in (MIB, 4096, 1):  # to the last byte
                    block = b"\0" * chunk
                    try:
                        while True:
                            os.write(fd, block)
                    except OSError as e:
                        if e.errno != errno.ENOSPC:
                            raise
            finally:
                os.close(fd)

        def free() -> None:
            filler.unlink(missing_ok=True)

        try:
            yield Fault(on=fill, off=free, errno="ENOSPC")
        finally:
            free()


def inject_enospc(monkeypatch: pytest.MonkeyPatch, path: Path) -> Fault:
    """The fallback for a process that may not mount: syncing a file under `path`
    fails with ENOSPC while the fault is on."""
    real = os.fsync
    state = {"on": False}

    def fsync(fd: int) -> None:
        if state["on"] and os.readlink(f"/proc/self/fd/{fd}").startswith(str(path)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return Fault(on=lambda: state.update(on=True), off=lambda: state.update(on=False), errno="ENOSPC")
