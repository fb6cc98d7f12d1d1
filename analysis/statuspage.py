"""Outage windows from an Atlassian Statuspage v2 export (``incidents.json`` or ``summary.json``).

The public API (``/api/v2/incidents.json``, ``/api/v2/summary.json``) gives an object with a list
``incidents``; each incident has ``id``, ``name``, ``impact``, ``created_at``, ``started_at``,
``resolved_at`` and ``incident_updates`` (newest first). Pure: JSON text in, records out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from dipwatch.core.errors import BadValueError
from dipwatch.core.times import parse_time

# Statuspage impact -> our severity. "none" means the page set no impact level; we do not invent one.
IMPACTS = {"minor": "minor", "major": "major", "critical": "critical", "maintenance": "maintenance",
           "none": "unknown"}
RESOLVED = ("resolved", "postmortem")


class StatuspageError(BadValueError):
    """A file that is not Statuspage v2 JSON, or an incident that cannot be a window; names the field."""


@dataclass(frozen=True)
class Phase:
    """When an incident entered a status (investigating, identified, monitoring, resolved, ...)."""

    status: str
    at: datetime


@dataclass(frozen=True)
class Incident:
    """One incident as an outage window: ``end`` None while it is unresolved."""

    external_id: str
    label: str
    start: datetime
    end: datetime | None
    severity: str
    status: str
    phases: tuple[Phase, ...]


def parse_statuspage(text: str, name: str) -> list[Incident]:
    """Parse a Statuspage v2 ``incidents.json`` or ``summary.json``; all or nothing.

    Start is ``started_at``, else ``created_at``; end is ``resolved_at``, else the time of the
    ``resolved`` update, else open-ended (``summary.json`` lists only unresolved incidents, so its
    ``resolved_at`` is always null).

    :param text: the file's contents.
    :param name: the file's name, for messages.
    :raises StatuspageError: naming the file, the incident and the field at fault.
    """
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise StatuspageError(f"{name}: not JSON ({exc.msg} at line {exc.lineno}); expected a Statuspage "
                              "v2 incidents.json or summary.json") from None
    if not isinstance(data, dict) or not isinstance(data.get("incidents"), list):
        raise StatuspageError(f"{name}: incidents: missing; expected a Statuspage v2 incidents.json or "
                              "summary.json (an object with a list 'incidents')")
    incidents = [_incident(raw, f"{name}: incidents[{i}]") for i, raw in enumerate(data["incidents"])]
    seen: set[str] = set()
    for incident in incidents:
        if incident.external_id in seen:
            raise StatuspageError(f"{name}: incident {incident.external_id!r} appears twice")
        seen.add(incident.external_id)
    return incidents


def _incident(raw, where: str) -> Incident:
    if not isinstance(raw, dict):
        raise StatuspageError(f"{where}: expected an incident object, found {type(raw).__name__}")
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise StatuspageError(f"{where}.id: missing; expected the incident's id")
    where = f"{where} (id {ident})"
    start_field = "started_at" if raw.get("started_at") else "created_at"
    if not raw.get(start_field):
        raise StatuspageError(f"{where}.started_at: missing, and no created_at; expected an ISO 8601 time")
    start = _time(raw[start_field], where, start_field)
    impact = raw.get("impact") or "none"
    if impact not in IMPACTS:
        raise StatuspageError(f"{where}.impact: {impact!r}; expected one of {', '.join(IMPACTS)}")
    updates = raw.get("incident_updates") or []
    if not isinstance(updates, list):
        raise StatuspageError(f"{where}.incident_updates: expected a list")
    phases = _phases(updates, where)
    end = _time(raw["resolved_at"], where, "resolved_at") if raw.get("resolved_at") else None
    status = str(raw.get("status") or "")
    if end is None and status in RESOLVED:
        end = next((p.at for p in phases if p.status == "resolved"), None)
    if end is not None and end <= start:
        raise StatuspageError(f"{where}.resolved_at: {end.isoformat()} is not after the start "
                              f"{start.isoformat()} ({start_field})")
    label = str(raw.get("name") or "").strip() or f"Statuspage incident {ident}"
    return Incident(ident, label[:200], start, end, IMPACTS[impact], status, phases)


def _phases(updates: list, where: str) -> tuple[Phase, ...]:
    """The first update of each run of equal statuses, oldest first (12 'investigating' updates of
    GitHub's incident kz4khcgdsfdv are one phase, not twelve)."""
    timed = []
    for i, update in enumerate(updates):
        spot = f"{where}.incident_updates[{i}]"
        if not isinstance(update, dict) or not update.get("status"):
            raise StatuspageError(f"{spot}.status: missing; expected investigating, identified, ...")
        field = "display_at" if update.get("display_at") else "created_at"
        timed.append(Phase(str(update["status"]), _time(update.get(field), spot, field)))
    timed.sort(key=lambda p: p.at)
    phases: list[Phase] = []
    for phase in timed:
        if not phases or phases[-1].status != phase.status:
            phases.append(phase)
    return tuple(phases)


def _time(value, where: str, field: str) -> datetime:
    try:
        return parse_time(value, None, f"{where}.{field}")
    except ValueError as exc:
        raise StatuspageError(str(exc)) from None
