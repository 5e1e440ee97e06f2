"""Index documents built in a helper process, so a rebuild uses both cores.

Building a document (store read, normalisation, grams, pinyin) costs about as much Python time as
the engine's side of indexing it; in a helper (`python -m search_index.producer`) the two overlap.
The helper reads the store through its own read-only connection and streams pickled batches
over a pipe, which paces it and ends it when the parent goes away.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from search_index.engine import IndexDoc
from search_index.errors import SearchError


def documents_in_helper(url: str, batch: int) -> Iterator[list[IndexDoc]]:
    """Every entity's document in id order, ``batch`` at a time, built by a helper process."""
    helper = subprocess.Popen([sys.executable, "-m", "search_index.producer"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    assert helper.stdin is not None and helper.stdout is not None
    try:
        pickle.dump((url, batch), helper.stdin)
        helper.stdin.close()
        while (item := _next(helper)) is not None:
            yield item
    finally:
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
    """The helper's side: read (url, batch) from stdin, write ("docs", batch) items, then ("docs", None)."""
    from credit.db import make_engine, make_session_factory
    from search_index.documents import iter_documents

    url, batch = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    engine = make_engine(url, read_only=True)
    try:
        with make_session_factory(engine)() as session:
            for docs in iter_documents(session, batch):
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
