"""Outage windows into the store: added by hand, imported from a CSV file or a status page, or
proposed by detection (stored as candidates that count once confirmed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from analysis.detect import Candidate, DetectParams
from analysis.statuspage import Incident, StatuspageError, parse_statuspage
from analysis.windows import Window, WindowError, make_window, read_windows_csv
from dipwatch.core.brands import known_brands
from dipwatch.core.config import Settings
from dipwatch.measures import plan_detection
from dipwatch.store import Store


def add_window(settings: Settings, store: Store, brand: str, start: str, end: str | None, label: str,
               severity: str, tz: tzinfo | None) -> tuple[int, Window]:
    """Store one outage window given by hand; return its id and the window."""
    window = make_window(brand, start, end, label, severity, known_brands(settings, store), tz)
    (outage_id,) = store.add_outages([{**window.__dict__, "origin": "manual"}])
    return outage_id, window


def import_windows(settings: Settings, store: Store, path: Path, tz: tzinfo | None) -> tuple[list[int],
                                                                                              list[Window]]:
    """Store the windows of a CSV file (brand,start,end,label[,severity]), all or nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise WindowError(f"{path}: not UTF-8 text; expected a CSV file") from None
    windows = read_windows_csv(text, str(path), known_brands(settings, store), tz)
    return store.add_outages([{**w.__dict__, "origin": "import"} for w in windows]), windows


def import_statuspage(settings: Settings, store: Store, path: Path,
                      brand: str) -> tuple[list[tuple[int, str]], list[Incident]]:
    """Store the incidents of a Statuspage v2 file as ``brand``'s windows (updating those imported
    before); return ``(outage_id, "added"|"updated")`` per incident, and the incidents."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StatuspageError(f"{path}: not UTF-8 text; expected Statuspage v2 JSON") from None
    incidents = parse_statuspage(text, str(path))
    known = known_brands(settings, store)
    rows = []
    for incident in incidents:
        window = make_window(brand, incident.start, incident.end, incident.label, incident.severity, known)
        rows.append({**window.__dict__, "origin": "statuspage", "external_id": incident.external_id,
                     "phases": [(p.status, p.at) for p in incident.phases]})
    return store.upsert_outages(rows), incidents


@dataclass(frozen=True)
class Detection:
    """What a detection run found: every candidate, the ones stored (not overlapping a known
    outage), and ``(outage_id, "added"|"updated")`` for each stored one."""

    candidates: list[Candidate]
    fresh: list[Candidate]
    results: list[tuple[int, str]]
    # Per stored candidate's start: the related brand's outage it falls in, as "Name's outage 'label'".
    coincides: dict[datetime, str]


def detect_into_store(store: Store, brand: str, start: datetime | None, end: datetime | None,
                      params: DetectParams | None = None, brands: dict | None = None) -> Detection:
    """Store ``brand``'s outage candidates as windows of origin 'detected' (running again updates
    them), labelled as :func:`dipwatch.measures.plan_detection` says.

    :param brands: every brand (key -> Brand), for the candidates that fall in a related brand's outage.
    :raises ValueError: when the brand has too little history to detect anything.
    """
    plan = plan_detection(store, brand, brands or {}, params or DetectParams(), start, end)
    return Detection(plan.candidates, plan.fresh, store.upsert_outages(plan.rows), plan.coincides)
