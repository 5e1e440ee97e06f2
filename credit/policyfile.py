"""Reading a policy file: TOML, whose failure to read or parse is the loader's own error, naming the file.

Every policy (publicity periods, list rules, objections, workdays, risk classes, inspections) is a
dated, cited TOML file; each loader checks its own keys after this common first step.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read_policy_file(path: Path, error: type[Exception]) -> dict[str, Any]:
    """The parsed TOML at ``path``; ``error("<path>: <why>")`` when it cannot be read or parsed."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise error(f"{path}: {exc}") from exc
