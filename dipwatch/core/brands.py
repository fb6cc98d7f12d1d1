"""Brands and the terms that say a post mentions one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from dipwatch.core.errors import BadValueError

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def normalise_brand_name(name: str) -> str:
    """Return the brand's key as stored: lower case, checked against ``NAME_PATTERN``.

    :raises ValueError: naming what was expected.
    """
    key = name.strip().lower()
    if not NAME_PATTERN.match(key):
        raise BadValueError(
            f"brand name {name!r} is not valid: expected 1-64 characters of a-z, 0-9, '_' or '-', "
            "starting with a letter or digit"
        )
    return key


def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    # Longest first, so "Acme Retail" wins over "Acme" and the matched term is the most specific.
    parts = [r"\s+".join(re.escape(w) for w in t.split()) for t in sorted(terms, key=len, reverse=True)]
    # Lookarounds instead of \b: \b fails next to non-word characters at a term's edge ("M&S", "@acme").
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Brand:
    """A brand: its key, display name, match terms, exclusions, competitors and per-source settings."""

    key: str
    name: str
    terms: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()
    sources: dict[str, dict] = field(default_factory=dict)
    origin: str = "config"
    alerts: object = None  # analysis.alerts.AlertRules for config brands; None: defaults

    @cached_property
    def _terms_re(self) -> re.Pattern[str] | None:
        return _term_pattern(self.terms)

    @cached_property
    def _exclude_re(self) -> re.Pattern[str] | None:
        return _term_pattern(self.exclude)

    def match(self, text: str) -> str | None:
        """Return the term that ``text`` mentions this brand by, or None.

        Case-insensitive, on word boundaries ("Next" does not match "nextdoor"). Text inside an
        exclusion phrase does not count: "acme anvil" excluded leaves "Acme" in "Acme anvil" unmatched,
        while "Acme anvil, and Acme's site is down" still matches on the second "Acme".
        """
        if self._terms_re is None:
            return None
        if self._exclude_re is not None:
            text = self._exclude_re.sub(lambda m: " " * len(m.group(0)), text)
        found = self._terms_re.search(text)
        if found is None:
            return None
        spoken = found.group(0).lower()
        for term in self.terms:
            if " ".join(term.lower().split()) == " ".join(spoken.split()):
                return term
        return found.group(0)


def brand_from_name(name: str, origin: str = "import") -> Brand:
    """A brand known only by its name (created by ``dipwatch import``): matched by its name alone."""
    key = normalise_brand_name(name)
    return Brand(key=key, name=name.strip(), terms=(name.strip(),), origin=origin)


def known_brands(settings, store) -> dict[str, Brand]:
    """Brands of the config (``settings.brands``), plus those the store knows (created by
    ``dipwatch import`` or the demo). Here, not in dipwatch.measures: `dipwatch import` needs it,
    and measures loads pandas and numpy, which cost an import a second and made its process, and the
    workers it forks, larger."""
    brands = dict(settings.brands)
    for row in store.list_brands():
        if row["key"] not in brands:
            brands[row["key"]] = Brand(key=row["key"], name=row["name"], terms=tuple(row["terms"]),
                                       competitors=tuple(row["competitors"]), origin=row["origin"])
    return brands


def related_brands(brands: dict, key: str) -> set[str]:
    """The keys of ``key``'s competitors and of the brands that name it as theirs (among ``brands``,
    key -> :class:`Brand`): an outage of one of them draws posts comparing the two."""
    own = set(getattr(brands.get(key), "competitors", ()) or ())
    named_by = {k for k, b in brands.items() if key in (getattr(b, "competitors", ()) or ())}
    return (own | named_by) - {key}
