"""Statuspage v2 JSON -> outage windows, on hand-written files in the real API's shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analysis.statuspage import Phase, StatuspageError, parse_statuspage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statuspage"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def parse_fixture(name: str):
    return parse_statuspage((FIXTURES / name).read_text(encoding="utf-8"), name)


def test_incidents_json_gives_windows_with_phases():
    unresolved, resolved = parse_fixture("incidents.json")
    assert resolved.external_id == "inc1resolved01"
    assert resolved.label == "Checkout unavailable"
    assert resolved.start == at("2026-03-01T18:00:00")  # started_at wins over created_at 18:02:10
    assert resolved.end == at("2026-03-01T20:15:30.500")
    assert resolved.severity == "major"
    # oldest first; the two investigating updates (18:02:10, 18:20) are one phase
    assert resolved.phases == (
        Phase("investigating", at("2026-03-01T18:02:10.123")),
        Phase("identified", at("2026-03-01T18:40:00")),
        Phase("monitoring", at("2026-03-01T19:30:00")),
        Phase("resolved", at("2026-03-01T20:15:30.500")),
    )
    assert unresolved.end is None  # open-ended while unresolved
    assert unresolved.severity == "unknown"  # impact "none": no level set, none invented


def test_summary_json_with_null_resolved_at_is_open_ended():
    (incident,) = parse_fixture("summary.json")
    assert incident.external_id == "inc2noimpact2"
    assert incident.end is None
    assert incident.severity == "minor"
    assert [p.status for p in incident.phases] == ["investigating", "monitoring"]


def incident(**changes) -> dict:
    base = {"id": "abc123", "name": "Down", "status": "investigating", "impact": "major",
            "created_at": "2026-03-01T10:00:00Z", "started_at": None, "resolved_at": None,
            "incident_updates": []}
    return {**base, **changes}


def test_created_at_is_the_start_when_started_at_is_missing():
    (found,) = parse_statuspage(json.dumps({"incidents": [incident()]}), "x.json")
    assert found.start == at("2026-03-01T10:00:00")
    assert found.phases == ()


def test_resolved_status_without_resolved_at_ends_at_the_resolved_update():
    updates = [{"status": "resolved", "created_at": "2026-03-01T12:00:00Z"},
               {"status": "investigating", "created_at": "2026-03-01T10:00:00Z"}]
    raw = incident(status="resolved", incident_updates=updates)
    (found,) = parse_statuspage(json.dumps({"incidents": [raw]}), "x.json")
    assert found.end == at("2026-03-01T12:00:00")


@pytest.mark.parametrize(("text", "message"), [
    ("<html>", "x.json: not JSON"),
    ('{"status": {"indicator": "none"}}', "x.json: incidents: missing; expected a Statuspage v2"),
    ("[1, 2]", "x.json: incidents: missing"),
    (json.dumps({"incidents": [incident(created_at=None)]}),
     "x.json: incidents[0] (id abc123).started_at: missing, and no created_at"),
    (json.dumps({"incidents": [incident(id="")]}), "x.json: incidents[0].id: missing"),
    (json.dumps({"incidents": [incident(impact="huge")]}), "incidents[0] (id abc123).impact: 'huge'"),
    (json.dumps({"incidents": [incident(created_at="yesterday")]}),
     "incidents[0] (id abc123).created_at: 'yesterday' is not a date"),
    (json.dumps({"incidents": [incident(resolved_at="2026-03-01T09:00:00Z")]}),
     "incidents[0] (id abc123).resolved_at: 2026-03-01T09:00:00+00:00 is not after the start"),
    (json.dumps({"incidents": [incident(incident_updates=[{"body": "x"}])]}),
     "incidents[0] (id abc123).incident_updates[0].status: missing"),
    (json.dumps({"incidents": [incident(), incident()]}), "incident 'abc123' appears twice"),
])
def test_bad_files_name_the_field(text, message):
    with pytest.raises(StatuspageError) as caught:
        parse_statuspage(text, "x.json")
    assert message in str(caught.value)
