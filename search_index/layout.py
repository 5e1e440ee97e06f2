"""The index directory: versions side by side, a CURRENT pointer swapped atomically, one writer lock.

    <root>/CURRENT             name of the live version (replaced with os.replace: atomic)
    <root>/<version>/meta.json engine, schema, last change-log seq applied, built at
    <root>/<version>/data/     the engine's files
    <root>/write.lock          flock held by the one process that writes (sync or rebuild)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from search_index.errors import IndexBusy, IndexMismatch, IndexMissing

SCHEMA_VERSION = 4  # bump when documents or fields change: the index must then be rebuilt
KEEP_VERSIONS = 2  # the live one and the one before (readers may still hold it open)


@dataclass(frozen=True)
class Meta:
    """What a version says about itself."""

    engine: str
    schema: int
    last_seq: int
    built_at: str
    documents: int = 0


class Layout:
    """Paths and atomic operations on one index root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def current(self) -> Path:
        """The live version's directory; IndexMissing when none was built."""
        try:
            name = (self.root / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexMissing(f"no search index in {self.root}; run `gongxin index rebuild`") from None
        return self.root / name

    def exists(self) -> bool:
        """Whether a live version exists."""
        return (self.root / "CURRENT").is_file()

    def new_version(self, engine: str) -> Path:
        """A fresh, empty version directory beside the live one."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        path = self.root / f"v{stamp}-{engine}"
        path.mkdir(parents=True)
        return path

    def swap(self, version: Path) -> None:
        """Make ``version`` the live one atomically, then drop versions older than the previous one."""
        pointer = self.root / "CURRENT.tmp"
        pointer.write_text(version.name, encoding="utf-8")
        os.replace(pointer, self.root / "CURRENT")
        self._prune(version)

    def _prune(self, live: Path) -> None:
        # Called under the writer lock: versions newer than the live one are a crashed rebuild's.
        versions = sorted(p for p in self.root.iterdir() if p.is_dir() and p.name.startswith("v"))
        older = [p.name for p in versions if p.name < live.name]
        keep = {live.name, *older[len(older) - (KEEP_VERSIONS - 1):]}
        for path in versions:
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def read_meta(version: Path, engine: str) -> Meta:
        """The version's meta, checked against the configured engine and schema."""
        try:
            meta = Meta(**json.loads((version / "meta.json").read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise IndexMissing(f"the search index version {version} has no meta.json;"
                               " run `gongxin index rebuild`") from None
        if meta.engine != engine or meta.schema != SCHEMA_VERSION:
            raise IndexMismatch(
                f"the index in {version} was built by {meta.engine} (schema {meta.schema}), but"
                f" {engine} (schema {SCHEMA_VERSION}) is configured; run `gongxin index rebuild`")
        return meta

    @staticmethod
    def write_meta(version: Path, meta: Meta) -> None:
        """Replace the version's meta atomically."""
        temp = version / "meta.json.tmp"
        temp.write_text(json.dumps(asdict(meta)), encoding="utf-8")
        os.replace(temp, version / "meta.json")

    @contextlib.contextmanager
    def writing(self, wait: float = 30.0) -> Iterator[None]:
        """Hold the one writer lock; another holder for longer than ``wait`` seconds raises IndexBusy."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "write.lock", "a+", encoding="utf-8") as handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = handle.read().strip() or "another process"
                        raise IndexBusy(f"the search index in {self.root} is being written by {holder};"
                                        f" waited {wait:.0f} s") from None
                    time.sleep(0.1)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)
