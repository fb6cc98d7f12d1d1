"""Downloads the tabs share: a CSV file for ``dcc.Download``."""

from __future__ import annotations

import io

from dash import dcc


def csv_download(columns, rows, name: str) -> dict:
    """A CSV file for dcc.Download, written by the export code (formula-neutralised)."""
    from analysis.export import write_csv

    buffer = io.StringIO()
    write_csv(list(columns), rows, buffer)
    return dcc.send_string(buffer.getvalue(), name)
