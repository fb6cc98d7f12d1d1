"""The contract every collector keeps, and the errors it raises."""

from __future__ import annotations


class CollectorError(Exception):
    """A source could not be read; the message names the file, line or field and what was expected."""


class InputError(CollectorError):
    """Input the user gave is unusable as a whole (wrong format, missing column): nothing is stored.

    :param where: the file (and line, if known) at fault, e.g. ``posts.csv:1``.
    :param message: what was wrong and what was expected.
    """

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message
