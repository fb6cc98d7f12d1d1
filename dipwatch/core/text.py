"""Text from the store made safe to print on a terminal.

Outage labels, brand names and alert summaries come from config files, CSV imports, status pages
and the dashboard: anyone who can write one can put terminal escape sequences in it, which a
terminal would obey when the CLI prints it (retitle the window, hide text, rewrite the screen, on
some terminals answer back into the input).
"""

from __future__ import annotations

import re

# ECMA-48: CSI (ESC [ ... final byte), OSC and the other string commands (ESC ] P X ^ _ ... BEL or
# ESC \), then any other two-byte escape. What remains of C0, DEL and C1 goes after them.
_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"[\t\n\r]")


def printable(text: object) -> str:
    """``text`` on one line, without escape sequences and control characters (tabs and line breaks
    become spaces, so a label cannot shift a tab-separated listing's columns or fake a line)."""
    return _SPACE.sub(" ", _CONTROL.sub("", _SEQUENCE.sub("", str(text))))
