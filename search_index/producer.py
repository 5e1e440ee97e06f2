"""Index documents built in helper processes, so a rebuild uses every core.

Building a document (store read, normalisation, grams, pinyin) costs several times the engine's
side of indexing it; in helpers (`python -m search_index.producer`) the two overlap, and two
helpers each build every other entity's document. Each helper reads the store through its own
read-only connection and streams pickled batches over a pipe, which paces it and ends it when the
parent goes away; the parent takes their batches in turn.
"""

from __future__ import annotations

import gc
import pickle
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from search_index.engine import IndexDoc
from search_index.errors import SearchError


# Python's cyclic collector runs a pass every 700 allocations by default. Building and indexing
# a document allocates a few hundred objects that live for one batch and form no cycles: at a
# million documents those passes cost a sixth of a tantivy rebuild (117 s → 92–97 s, measured
# in the helpers and the indexing process). During a rebuild it runs every 100,000 allocations.
REBUILD_GC_THRESHOLD = (100_000, 50, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often inside the block (cycles are still collected)."""
    previous = gc.get_threshold()
    gc.set_threshold(*REBUILD_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def documents_in_helper(url: str, batch: int, helpers: int = 1) -> Iterator[list[IndexDoc]]:
    """Every entity's document, ``batch`` at a time, built by ``helpers`` processes (each in id order)."""
    running: list[subprocess.Popen[bytes]] = []
    try:
        for part in range(helpers):
            helper = subprocess.Popen([sys.executable, "-m", "search_index.producer"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE)
            running.append(helper)
            assert helper.stdin is not None
            pickle.dump((url, batch, part, helpers), helper.stdin)
            helper.stdin.close()
        active = list(running)
        while active:
            for helper in list(active):
                item = _next(helper)
                if item is None:
                    active.remove(helper)
                else:
                    yield item
    finally:
        for helper in running:
            helper.kill()
            helper.wait()


def _next(helper: subprocess.Popen[bytes]) -> list[IndexDoc] | None:
    try:
        kind, payload = pickle.load(helper.stdout)  # type: ignore[arg-type]
    except EOFError:
        raise SearchError(f"the document helper stopped unexpectedly (exit {helper.wait()})") from None
    if kind == "error":
        raise SearchError(f"the document helper failed: {payload}")
    return payload  # type: ignore[no-any-return]


def _serve() -> None:
    """The helper's side: read (url, batch, part, parts) from stdin, write ("docs", batch) items, then
    ("docs", None)."""
    from credit.db import make_engine, make_session_factory
    from search_index.documents import iter_documents

    url, batch, part, parts = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    engine = make_engine(url, read_only=True)
    try:
        with fewer_collections(), make_session_factory(engine)() as session:
            for docs in iter_documents(session, batch, part, parts):
                _send(out, ("docs", docs))
        _send(out, ("docs", None))
    except BrokenPipeError:
        return  # the parent went away: nothing to tell
    except Exception as exc:  # noqa: BLE001 - the edge of the helper: tell the parent what failed
        _send(out, ("error", f"{type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()


def _send(out: Any, item: tuple[str, Any]) -> None:
    pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


if __name__ == "__main__":
    _serve()
