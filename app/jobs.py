"""What the scheduler runs: ingest one source, then the steps that follow it, composed here.

A job never raises: a failed file is recorded by the ingest run and logged here; anything
unexpected is logged with its traceback and swallowed, so one bad source never stops the others.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from credit.clock import beijing_today
from credit.db import make_engine, make_session_factory
from ingest.registry import load_registry

if TYPE_CHECKING:
    from ingest.runs import RunReport

log = logging.getLogger(__name__)

_factories: dict[str, sessionmaker[Session]] = {}
_factories_lock = threading.Lock()


def session_factory_for(database_url: str) -> sessionmaker[Session]:
    """The process's one session factory for this store, so jobs share one engine and its pool."""
    with _factories_lock:
        factory = _factories.get(database_url)
        if factory is None:
            factory = _factories[database_url] = make_session_factory(make_engine(database_url))
        return factory


def dispose_engines() -> None:
    """Close the pooled connections of every cached engine (at shutdown and between tests)."""
    with _factories_lock:
        factories = list(_factories.values())
        _factories.clear()
    for factory in factories:
        bind = factory.kw.get("bind")
        if bind is not None:
            bind.dispose()


def ingest_job(settings: Settings, source_id: str) -> None:
    """Run one source's files and the steps after them; log the outcome and never raise."""
    try:
        reports = run_ingest(settings, source_id)
    except Exception:  # noqa: BLE001 - the edge of a job: log it, keep the other sources running
        log.exception("ingest job for source %s failed unexpectedly", source_id)
        return
    log_reports(source_id, reports)
    try:
        after_ingest(settings, reports)
    except Exception:  # noqa: BLE001 - same edge: the ingest itself is already committed
        log.exception("steps after the ingest of source %s failed", source_id)


def run_ingest(settings: Settings, source_id: str) -> list[RunReport]:
    """Ingest the source's new files with the registry as it is now (it may have been edited)."""
    # Imported here so that the scheduler module loads even when the ingest pipeline cannot.
    from ingest.runs import run_source

    spec = load_registry(settings.sources).get(source_id)
    return run_source(session_factory_for(settings.database_url), spec)


def log_reports(source_id: str, reports: Sequence[RunReport]) -> None:
    """One line per applied or failed file, one summary line per run; unchanged files at debug."""
    for report in reports:
        _log_report(source_id, report)
    if not reports:
        log.debug("ingest %s: no files", source_id)
        return
    tally = Counter(report.status for report in reports)
    log.info("ingest %s: %d applied, %d unchanged, %d failed", source_id,
             tally["applied"], tally["unchanged"], tally["failed"])


def _log_report(source_id: str, report: RunReport) -> None:
    if report.status == "failed":
        log.error("ingest %s: %s failed: %s", source_id, report.path, report.error)
    elif report.status == "unchanged":
        log.debug("ingest %s: %s unchanged (already applied)", source_id, report.path)
    else:
        counts = ", ".join(f"{name} {n}" for name, n in getattr(report, "counts", {}).items())
        seconds = getattr(report, "seconds", 0.0)
        log.info("ingest %s: %s %s (%s) in %.1f s", source_id, report.path, report.status,
                 counts or "no counts", seconds)


def after_ingest(settings: Settings, reports: Sequence[RunReport]) -> None:
    """The steps that follow an ingest run, in order; each opens and commits its own unit of work.

    When a file was applied, the list rules run for today over the entities it touched, then
    the search index catches up from the change log (which now holds both), then the
    drawn inspection tasks named by ingested results are marked done (never raising), then the
    credit risk classes of the entities changed since the last classification are recomputed.
    """
    applied = [report for report in reports if report.status == "applied"]
    if applied:
        apply_rules(settings, entity_ids=sorted(set().union(*(r.entities for r in applied))))
        sync_index(settings)
        link_results(settings, entity_ids=sorted(set().union(*(r.entities for r in applied))))
        classify_risk(settings)


def link_results(settings: Settings, entity_ids: Sequence[int] | None = None) -> None:
    """Mark drawn inspection tasks done from the ingested results naming them; logs and never raises."""
    from credit.inspection_results import link_ingested_results

    try:
        with session_factory_for(settings.database_url)() as session:
            linked = link_ingested_results(session, entity_ids)
            session.commit()
    except Exception:  # noqa: BLE001 - the edge of a job step: the ingest and the other steps are done
        log.exception("linking ingested inspection results to their tasks failed")
        return
    if linked:
        log.info("inspection results: %d drawn task(s) completed from ingested records", linked)


def daily_job(settings: Settings) -> None:
    """The daily run of the dated list rules over every entity, the index sync, then the bulk dump; never raises."""
    try:
        apply_rules(settings)
        sync_index(settings)
    except Exception:  # noqa: BLE001 - the edge of a job: log it, the next day runs again
        log.exception("daily list rules failed")
    try:
        write_bulk(settings)
    except Exception:  # noqa: BLE001 - same edge: the rules and the index are already done
        log.exception("daily bulk export failed")


def write_bulk(settings: Settings, as_of: date | None = None) -> None:
    """Write the day's bulk dump (today in Beijing) into ``settings.bulk_dir`` from one read snapshot."""
    from blacklist.bulk import export_bulk, read_snapshot

    with read_snapshot(settings.database_url) as session:
        dump = export_bulk(session, settings.bulk_dir, as_of or beijing_today(), keep=settings.bulk_keep)
    log.info("bulk dump %s: %s, at change-log seq %d", dump.date,
             ", ".join(f"{f.name} {f.rows} rows" for f in dump.files), dump.seq)


def apply_rules(settings: Settings, as_of: date | None = None, entity_ids: Sequence[int] | None = None) -> None:
    """Apply the dated list rules for ``as_of`` (today in Beijing) to all or some entities."""
    from blacklist.rules import apply_list_rules

    day = as_of or beijing_today()
    with session_factory_for(settings.database_url)() as session:
        report = apply_list_rules(session, day, entity_ids=entity_ids)
    log.info("list rules for %s: %s", day, dict(report.counts) or "no changes")


def sync_index(settings: Settings) -> None:
    """Bring this node's search index up to the store's change log (building it if missing)."""
    from search_index.index import SearchIndex
    from search_index.maintain import sync

    index = SearchIndex(settings.index_dir, settings.search_engine)
    with session_factory_for(settings.database_url)() as session:
        report = sync(session, index)
    log.info("search index %s: %d change(s), %d document(s) written, %d removed, at seq %d",
             "rebuilt" if report.rebuilt else "synced", report.changes, report.updated, report.deleted,
             report.last_seq)


def monthly_risk_job(settings: Settings) -> None:
    """The monthly full classification of credit risk classes (windows age, so everyone moves); never raises."""
    try:
        classify_risk(settings, full=True)
    except Exception:  # noqa: BLE001 - the edge of a job: log it, the changed entities still follow each ingest
        log.exception("monthly credit risk classification failed")


def classify_risk(settings: Settings, *, full: bool = False, as_of: date | None = None) -> None:
    """Recompute the credit risk classes as of ``as_of`` (today in Beijing): of every entity, or of
    those changed since the last classification; one unit of work."""
    from credit.risk import classify, classify_changed

    day = as_of or beijing_today()
    with session_factory_for(settings.database_url)() as session:
        report = classify(session, day) if full else classify_changed(session, day)
        session.commit()
    log.info("credit risk classes as of %s (%s, policy %s): %d assessed, %d changed; %s", day, report.scope,
             report.policy_version, report.assessed, report.changed, dict(sorted(report.counts.items())))
