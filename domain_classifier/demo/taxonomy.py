"""The marketplace-sized demo taxonomy: families -> product types -> variants.

Read from ``vocabulary/taxonomy.json``. A family (footwear, toys...) holds brands with their
product lines, family-wide attributes and generic nouns; its product types (sneakers,
sandals...) have their own nouns; its variants (for men, for kids, running...) qualify any
of its types. A domain is one (type, variant) pair, ``MLB-SNEAKERS_FOR_MEN``, or the plain
type, ``MLB-SNEAKERS``. Siblings therefore share a great deal: every variant of a type
shares its nouns, lines and sizes, and every type of a family shares brands, lines and
attributes, so titles of neighbouring domains really are confusable.

Which domains a catalogue of ``n`` domains holds is fixed by a constant ranking (not by the
user's seed): variant-major over types interleaved across families, so that any ``n`` covers
every family before any type gets a second variant, and every type gets its plain domain
first. The ``unseen_reserve`` domains ranked right after the catalogue are the "unseen
domain" shift's, so that shift always has domains the catalogue lacks.

This module only reads and arranges the vocabulary; ``generator.py`` writes the titles.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

import numpy as np

_ORDER_SEED = 20_251_128  # fixes variant orders and which types sell a line; not the user's seed
_LINE_SHARE = 0.6  # share of a family's lines each type sells: siblings overlap heavily
_MIN_LINES = 3
_ID_RE = re.compile(r"MLB-[A-Z]+(?:_[A-Z]+)*")


@dataclass(frozen=True)
class Domain:
    id: str
    family: int  # index into the taxonomy's families
    type: int  # index of the product type, across all families
    variant: int  # 0 is the plain type
    pt: tuple[str, ...]  # head nouns, qualified by the variant's words
    es: tuple[str, ...]
    pt_attrs: tuple[str, ...]  # the variant's own words, also usable as attributes
    es_attrs: tuple[str, ...]
    sizes: tuple[str, ...]
    lines: tuple[tuple[str, str], ...]  # (brand, product line)


@dataclass(frozen=True)
class Family:
    name: str
    pt_attrs: tuple[str, ...]
    es_attrs: tuple[str, ...]
    pt_generic: tuple[str, ...]
    es_generic: tuple[str, ...]
    compat: bool  # lines are devices the product fits ("Capinha para iPhone 13")


@dataclass(frozen=True)
class Taxonomy:
    families: tuple[Family, ...]
    ranked: tuple[Domain, ...]  # every domain the vocabulary builds, in catalogue order of rank
    unseen_reserve: int

    @property
    def max_domains(self) -> int:
        return len(self.ranked) - self.unseen_reserve


def _read() -> dict:
    path = resources.files(__package__) / "vocabulary" / "taxonomy.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _qualified(nouns, words) -> tuple[str, ...]:
    """'Tênis' x ['Masculino'] -> 'Tênis Masculino': sellers put the variant after the noun."""
    if not words:
        return tuple(nouns)
    return tuple(f"{n} {w}" for n in nouns for w in words)


def _type_lines(rng, lines: list, n_types: int) -> list[tuple[tuple[str, str], ...]]:
    """Which of the family's lines each type sells: a random share, never fewer than a few."""
    out = []
    for _ in range(n_types):
        keep = rng.random(len(lines)) < _LINE_SHARE
        if keep.sum() < _MIN_LINES:
            keep[rng.choice(len(lines), size=min(_MIN_LINES, len(lines)), replace=False)] = True
        out.append(tuple(line for line, k in zip(lines, keep) if k))
    return out


def _family_domains(fi: int, raw: dict, type_base: int, rng) -> list[list[Domain]]:
    """Per type, its domains in variant order (plain first, then a fixed shuffle)."""
    where = f"vocabulary/taxonomy.json family {raw.get('name')!r}"
    try:
        lines = [(brand, line) for brand, names in raw["brands"] for line in names]
        variants = raw["variants"]
        types = raw["types"]
        sizes = tuple(raw.get("sizes", ()))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc!r}") from None
    if not lines or not variants or not types:
        raise ValueError(f"{where}: needs brands, variants and types")
    sold = _type_lines(rng, lines, len(types))
    out = []
    for ti, entry in enumerate(types):
        stem, pt, es, *rest = entry
        type_sizes = tuple(rest[0]) if rest else sizes
        order = [None, *(variants[k] for k in rng.permutation(len(variants)))]
        doms = []
        for vi, var in enumerate(order):
            suffix, vpt, ves = var if var else ("", (), ())
            doms.append(
                Domain(
                    id=f"MLB-{stem}_{suffix}" if suffix else f"MLB-{stem}",
                    family=fi,
                    type=type_base + ti,
                    variant=vi,
                    pt=_qualified(pt, vpt),
                    es=_qualified(es, ves),
                    pt_attrs=tuple(vpt),
                    es_attrs=tuple(ves),
                    sizes=type_sizes,
                    lines=sold[ti],
                )
            )
        out.append(doms)
    return out


def _rank(per_type: list[list[Domain]], n_families: int) -> tuple[Domain, ...]:
    """Variant-major, types interleaved across families: any prefix is spread evenly."""
    by_family: dict[int, list[list[Domain]]] = {}
    for doms in per_type:
        by_family.setdefault(doms[0].family, []).append(doms)
    interleaved = []
    for k in range(max(len(v) for v in by_family.values())):
        interleaved += [by_family[f][k] for f in range(n_families) if k < len(by_family[f])]
    depth = max(len(d) for d in interleaved)
    return tuple(doms[v] for v in range(depth) for doms in interleaved if v < len(doms))


def _check(tax: Taxonomy) -> None:
    """Fail at import, naming the file, rather than with a bad label deep in a chunk."""
    ids = [d.id for d in tax.ranked]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"vocabulary/taxonomy.json: duplicate domain ids {dupes[:5]}")
    bad = [i for i in ids if not _ID_RE.fullmatch(i)]
    if bad:
        raise ValueError(f"vocabulary/taxonomy.json: ids must be MLB-UPPER_SNAKE, got {bad[:5]}")
    if tax.max_domains < 2:
        raise ValueError("vocabulary/taxonomy.json: builds fewer than 2 domains")


@functools.lru_cache(maxsize=1)
def load() -> Taxonomy:
    """The taxonomy, built once; its structure is fixed by the file and _ORDER_SEED."""
    raw = _read()
    rng = np.random.default_rng(_ORDER_SEED)
    families, per_type = [], []
    for fi, fam in enumerate(raw["families"]):
        families.append(
            Family(
                fam["name"],
                tuple(fam["pt_attrs"]),
                tuple(fam["es_attrs"]),
                tuple(fam["pt_generic"]),
                tuple(fam["es_generic"]),
                bool(fam.get("compat", False)),
            )
        )
        per_type += _family_domains(fi, fam, len(per_type), rng)
    tax = Taxonomy(tuple(families), _rank(per_type, len(families)), int(raw["unseen_reserve"]))
    _check(tax)
    return tax


def select(n: int) -> tuple[tuple[Domain, ...], tuple[Domain, ...]]:
    """The catalogue's `n` domains sorted by id, and the unseen domains ranked after them."""
    tax = load()
    if not 2 <= n <= tax.max_domains:
        raise ValueError(f"domains must be in [2, {tax.max_domains}], got {n}")
    catalogue = sorted(tax.ranked[:n], key=lambda d: d.id)
    unseen = sorted(tax.ranked[n : n + tax.unseen_reserve], key=lambda d: d.id)
    return tuple(catalogue), tuple(unseen)
