"""The one base of the errors a user causes and can fix; the CLI prints their message on one line
and exits 2. Any other exception is a bug: the CLI shows its traceback and exits 1."""

from __future__ import annotations


class UserError(Exception):
    """A bad input, setting or file; the message names the file, line or field and what was expected."""


class BadValueError(UserError, ValueError):
    """A value the user gave (an option, a setting, a field) that cannot be used. Also a
    ``ValueError``, so code that validates values with ``except ValueError`` keeps working."""
