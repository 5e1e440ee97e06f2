"""Settings for Gongxin: the only module that reads environment variables.

Defaults run on one machine (SQLite and the search index under ``instance/``);
every setting can be overridden by a ``GONGXIN_*`` environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"


def _flag(value: str | None, default: bool) -> bool:
    """Read an on/off environment value; anything unrecognised keeps the default."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    return default


@dataclass(frozen=True)
class Settings:
    """Plain settings object handed to ``create_app`` and to domain code."""

    database_url: str = f"sqlite:///{INSTANCE / 'gongxin.db'}"
    index_dir: Path = INSTANCE / "index"
    search_engine: str = "whoosh"
    sources: Path = ROOT / "sources.toml"
    scheduler: bool = False
    testing: bool = False
    # Per-address limits on the public API, "N/unit" (second, minute, hour, day) or "off": every
    # public request, and the stricter one for submitting objections (app/ratelimit.py).
    rate_limit: str = "120/minute"
    objection_rate_limit: str = "5/hour"
    # Where the limits count: "memory://" (this process only) or "redis://host:port/db", shared by
    # every process and node on that Redis whose key prefix is the same.
    rate_limit_storage: str = "memory://"
    rate_limit_prefix: str = "gongxin"
    # Daily bulk dumps (blacklist/bulk.py): where they are written and served from, how many are kept.
    bulk_dir: Path = INSTANCE / "bulk"
    bulk_keep: int = 7
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_overrides(self, **changes: Any) -> "Settings":
        """Return a copy with some settings changed (tests use this, never globals)."""
        return replace(self, **changes)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment, falling back to the one-machine defaults."""
    env = os.environ if environ is None else environ
    base = Settings()
    return Settings(
        database_url=env.get("GONGXIN_DATABASE_URL", base.database_url),
        index_dir=Path(env.get("GONGXIN_INDEX_DIR", str(base.index_dir))),
        search_engine=env.get("GONGXIN_SEARCH_ENGINE", base.search_engine),
        sources=Path(env.get("GONGXIN_SOURCES", str(base.sources))),
        scheduler=_flag(env.get("GONGXIN_SCHEDULER"), base.scheduler),
        rate_limit=env.get("GONGXIN_RATE_LIMIT", base.rate_limit),
        objection_rate_limit=env.get("GONGXIN_OBJECTION_RATE_LIMIT", base.objection_rate_limit),
        rate_limit_storage=env.get("GONGXIN_RATE_LIMIT_STORAGE", base.rate_limit_storage),
        rate_limit_prefix=env.get("GONGXIN_RATE_LIMIT_PREFIX", base.rate_limit_prefix),
        bulk_dir=Path(env.get("GONGXIN_BULK_DIR", str(base.bulk_dir))),
        bulk_keep=int(env.get("GONGXIN_BULK_KEEP", base.bulk_keep)),
    )
