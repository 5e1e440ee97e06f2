"""The CPU-bound half of a run: read, map, normalise and validate chunks of one file.

Large files are prepared in a helper process one or two chunks ahead, so that validation
(marshmallow, row by row) overlaps the merge into the store in the parent; small files are
prepared in-process. The helper writes nothing anywhere, exits when its parent dies, and any
error it meets is raised again in the parent, where the run fails as a whole.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ingest.errors import IngestError
from ingest.mapping import apply_mapping, map_columns
from ingest.normalise import normalise_frame
from ingest.readers import read_chunks, read_header
from ingest.registry import SourceSpec
from ingest.schemas import Checked, validate_frame

PARALLEL_BYTES = 8 << 20  # files above this size are prepared in a helper process


def prepared(path: Path, spec: SourceSpec, chunk_rows: int,
             parallel_bytes: int = PARALLEL_BYTES) -> Iterator[tuple[int, Checked]]:
    """Yield (rows read, validated chunk) for every chunk of the file, in order."""
    if path.stat().st_size <= parallel_bytes:
        yield from _prepare(path, spec, chunk_rows)
    else:
        yield from _in_helper(path, spec, chunk_rows)


def _prepare(path: Path, spec: SourceSpec, chunk_rows: int) -> Iterator[tuple[int, Checked]]:
    headers = read_header(path, format=spec.format, encoding=spec.encoding, sheet=spec.sheet)
    colmap = map_columns(path, headers, spec.columns)
    for chunk in read_chunks(path, format=spec.format, encoding=spec.encoding, sheet=spec.sheet,
                             chunk_rows=chunk_rows):
        frame = apply_mapping(chunk, colmap)
        yield len(frame), validate_frame(normalise_frame(frame, spec.kind), spec.kind, original=frame)


def _in_helper(path: Path, spec: SourceSpec, chunk_rows: int) -> Iterator[tuple[int, Checked]]:
    """Run ``_prepare`` in ``python -m ingest.prepare``; its pickled chunks arrive over a pipe.

    The pipe itself paces the helper (it blocks once a chunk is waiting) and ends it: when this
    process dies, the helper's next write fails and it exits.
    """
    helper = subprocess.Popen([sys.executable, "-m", "ingest.prepare"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    assert helper.stdin is not None and helper.stdout is not None
    try:
        pickle.dump((path, replace(spec, columns=dict(spec.columns)), chunk_rows), helper.stdin)
        helper.stdin.close()
        while True:
            message = _next(helper)
            if message[0] == "done":
                return
            if message[0] == "error":
                raise message[1]
            yield message[1], message[2]
    finally:
        helper.stdout.close()
        if helper.poll() is None:
            helper.kill()
        helper.wait(timeout=10)


def _next(helper: subprocess.Popen[bytes]) -> tuple[Any, ...]:
    """The helper's next message; a helper that died without one is an error, not a hang."""
    try:
        return pickle.load(helper.stdout)  # type: ignore[no-any-return,arg-type]
    except EOFError:
        code = helper.wait(timeout=10)
        raise IngestError(f"the helper preparing the file stopped (exit code {code})") from None


def _helper_main() -> None:
    """Prepare every chunk of the file named on stdin and write it to stdout, pickled."""
    path, spec, chunk_rows = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    try:
        try:
            for rows, checked in _prepare(path, spec, chunk_rows):
                pickle.dump(("chunk", rows, checked), out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
            message: tuple[Any, ...] = ("done",)
        except Exception as exc:  # noqa: BLE001 - carried to the parent, which fails the run
            message = ("error", exc if _picklable(exc) else IngestError(f"{type(exc).__name__}: {exc}"))
        pickle.dump(message, out)
        out.flush()
    except BrokenPipeError:
        os._exit(1)  # the parent is gone (kill -9 included): nobody will read this


def _picklable(exc: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(exc))
        return True
    except Exception:  # noqa: BLE001 - any failure means "send a plain error instead"
        return False


if __name__ == "__main__":
    _helper_main()
