"""Deterministic synthetic marketplace listing titles: the project's demo data.

The generator writes Mercado Libre-style product titles in Brazilian Portuguese and
Spanish, labelled with a product "domain" (``MLB-SHAMPOOS``, ``MLB-CELLPHONE_COVERS``...).
Domains are grouped into families (hair care, hair appliances, beauty, phones, kitchen,
fashion) whose members share brands, product lines and attributes, so siblings are
genuinely confusable. Titles are assembled from a head noun, brand, product line,
attributes, a size and seller noise, in varied orders and casings, then roughened:

* ~12% of titles carry no head noun (``Elseve Hidra Hialurônico 400ml``) and ~5% only a
  family-wide one (``Kit Capilar Elseve ...``), which makes them ambiguous between
  siblings that share the line; such titles mostly carry family-wide attributes too;
* ~6% also name a sibling's noun (``Kit Shampoo + Condicionador Pantene``);
* ~30% lose their accents, ~10% get a typo, ~5% an extra space, and every title is cut
  at a word boundary to the marketplace's 60-character limit, so long ones lose their tail;
* a ``label_noise`` share of rows is relabelled to another domain, 80% of the time a
  sibling, since that is what real miscategorisations look like.

The words themselves are data, in ``vocabulary/``: one JSON file per family plus
``languages.json`` for the tables shared across families. This module only assembles them.

That is the default catalogue of 32 domains (``DEFAULT_DOMAINS``), kept byte for byte as it
always was. Any other ``domains`` (2 to :func:`max_domains`, 2,304) draws from the
marketplace-sized taxonomy of ``vocabulary/taxonomy.json`` (see ``taxonomy.py``): the same
title machinery over families -> product types -> variants, with exact domain sizes (a floor
of :func:`domain_floor` rows each, so split keeps every domain, plus a Zipf share of the rest)
and label noise that swaps a row's title rather than its label, so the sizes stay exact.

Domain sizes are Zipf-like: the domain at rank r weighs ``1 / r**zipf_exponent`` over a
fixed ordering of the domains (shuffled with a constant, not with ``seed``). No
flattening is applied: with 32 domains and exponent 1.0 the smallest domain still gets
~0.77% of the rows (~150 of 20,000), while the largest gets ~25%.

A TF-IDF char n-gram + linear SVM baseline scores about 0.90-0.92 macro-F1 on 12k/4k rows.
Output is a Parquet file written chunk by chunk, so memory stays flat at any size.
Chunk ``i`` draws all its randomness from ``SeedSequence([seed, i])``
(``[seed, i, 1]`` for :func:`generate_batch`), so the same arguments, ``chunk_rows``
included, give a byte-identical file.
"""

from __future__ import annotations

import functools
import json
import os
import unicodedata
from dataclasses import dataclass
from importlib import resources
from numbers import Integral, Real
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from domain_classifier.demo import taxonomy

LANGUAGES = ("pt", "es")
SHIFTS = ("none", "new_brands", "domain_mix", "unseen_domain", "language_switch")

# ---------------------------------------------------------------------------
# Vocabulary, read once at import from vocabulary/*.json. Word lists are drawn from
# uniformly, so a word listed twice is twice as likely. A family's "lines" are
# [brand, product line, codes]: the codes are the letters of the family's domains that
# sell the line, and one line sold by several siblings is what makes them confusable.
# ---------------------------------------------------------------------------

_CATALOGUE_FAMILY_NAMES = ("hair_care", "hair_appliances", "beauty", "phones", "kitchen", "fashion")
# Pet supplies never appear in the catalogue: they are the "unseen_domain" shift.
_UNSEEN_FAMILY_NAME = "pets"


@dataclass(frozen=True)
class _DomainSpec:
    id: str
    code: str  # the letter the family's lines use for this domain
    pt: tuple[str, ...]  # head nouns
    es: tuple[str, ...]
    pt_attrs: tuple[str, ...] = ()
    es_attrs: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    makers: tuple[str, ...] = ()  # accessory makers named besides the compatible device
    compat: bool = False  # the line is a device it fits ("Capinha para iPhone 13")


@dataclass(frozen=True)
class _FamilySpec:
    name: str
    domains: tuple[_DomainSpec, ...]
    lines: tuple[tuple[str, str, str], ...]  # (brand, product line, codes)
    pt_attrs: tuple[str, ...]
    es_attrs: tuple[str, ...]
    # Family-wide words sellers use instead of the product's noun ("Kit Capilar").
    pt_generic: tuple[str, ...] = ()
    es_generic: tuple[str, ...] = ()


def _read_vocabulary(name: str) -> dict:
    # Through importlib.resources so an installed wheel reads its own package data.
    path = resources.files(__package__) / "vocabulary" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _frozen(raw: dict) -> dict:
    """JSON lists as tuples, so the loaded vocabulary cannot be edited by accident."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


def _load_family(name: str) -> _FamilySpec:
    raw = _read_vocabulary(name)
    try:
        domains = tuple(_DomainSpec(**_frozen(d)) for d in raw.pop("domains"))
        lines = tuple(tuple(line) for line in raw.pop("lines"))
        family = _FamilySpec(name, domains, lines, **_frozen(raw))
    except (KeyError, TypeError) as exc:  # a missing or misspelt key
        raise ValueError(f"vocabulary/{name}.json: {exc}") from None
    _check_family(family)
    return family


def _check_family(family: _FamilySpec) -> None:
    """Fail at import, naming the file, rather than deep inside a chunk's title loop."""
    where = f"vocabulary/{family.name}.json"
    codes = [d.code for d in family.domains]
    if not codes or len(set(codes)) != len(codes) or any(len(c) != 1 for c in codes):
        raise ValueError(f"{where}: domains need distinct one-letter codes, got {codes}")
    if any(len(line) != 3 for line in family.lines):
        raise ValueError(f"{where}: every line must be [brand, product line, codes]")
    unsold = [d.id for d in family.domains if not any(d.code in c for _, _, c in family.lines)]
    if unsold:
        raise ValueError(f"{where}: no line is sold by {unsold}")


def _by_language(table: dict) -> dict[str, tuple[str, ...]]:
    return {lang: tuple(table[lang]) for lang in LANGUAGES}


_CATALOGUE_FAMILIES = tuple(_load_family(name) for name in _CATALOGUE_FAMILY_NAMES)
_PETS = _load_family(_UNSEEN_FAMILY_NAME)
_LANGUAGE_TABLES = _read_vocabulary("languages")
# Brands and lines sold under another name in Spanish-speaking markets.
_ES_BRANDS: dict[str, str] = _LANGUAGE_TABLES["es_brands"]
_ES_LINES: dict[str, str] = _LANGUAGE_TABLES["es_lines"]
# Invented names, checked at import against every training brand and line, used by the
# "new_brands" shift so a model meets product names it cannot have memorised.
_NEW_BRANDS = tuple(_LANGUAGE_TABLES["new_brands"])
_NEW_LINES = tuple(_LANGUAGE_TABLES["new_lines"])
_SELLER_NOISE = _by_language(_LANGUAGE_TABLES["seller_noise"])
_SIBLING_JOINS = _by_language(_LANGUAGE_TABLES["sibling_joins"])
_COMPAT_WORDS = _by_language(_LANGUAGE_TABLES["compat_words"])

# ---------------------------------------------------------------------------
# Shape of a title: templates, modes and the odds of each roughening.
# ---------------------------------------------------------------------------

# Slot orders: N noun, B brand+line, A attributes, S size. "NBAS" is the house style.
_TEMPLATES = ("NBAS", "NBSA", "BNAS", "NABS", "BNSA", "ANBS", "NSBA")
_TEMPLATE_P = (0.34, 0.18, 0.14, 0.14, 0.08, 0.06, 0.06)
# Title modes. Ambiguous ones (>= _NOUNLESS) are ordered last so "mode >= _NOUNLESS"
# means "has no noun of its own".
_NORMAL, _SIBLING, _NOUNLESS, _GENERIC = range(4)
_MODE_P = (0.77, 0.06, 0.12, 0.05)
_MAX_TITLE = 60  # Mercado Libre's limit on title length
_N_ATTRS_P = (0.15, 0.35, 0.32, 0.18)
_N_NOISE_P = (0.55, 0.33, 0.12)
_CASE_P = (0.50, 0.22, 0.18, 0.10)  # as written, Title, UPPER, lower
_ORDER_SEED = 20_240_601  # fixes the Zipf ranking; deliberately not the user's seed
_SIBLING_NOISE_SHARE = 0.8
_NOUNLESS_SHARED_ATTRS = 0.75
_UNSEEN_SHARE = 0.3
_SWITCHED_SPANISH_SHARE = 0.9
_N_U = 22  # uniform draws per row, one column per independent choice


# ---------------------------------------------------------------------------
# Compiled lookup tables: one per (language, domain), built once per brand set.
# ---------------------------------------------------------------------------


class _Table(NamedTuple):
    lang: str
    nouns: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # (brand, line) this domain sells
    attrs: tuple[str, ...]
    shared_attrs: tuple[str, ...]  # the family's, used where a title hides its noun
    generic: tuple[str, ...]  # family-wide stand-ins for the noun
    sizes: tuple[str, ...]  # already expanded into written variants
    makers: tuple[str, ...]
    compat: bool
    siblings: tuple[int, ...]  # indices of the other domains of the family


def _all_domains() -> list[tuple[_FamilySpec, _DomainSpec]]:
    """Catalogue domains sorted by id, then the unseen pet domains."""
    cat = [(f, d) for f in _CATALOGUE_FAMILIES for d in f.domains]
    pets = [(_PETS, d) for d in _PETS.domains]
    return sorted(cat, key=lambda fd: fd[1].id) + sorted(pets, key=lambda fd: fd[1].id)


_ALL = _all_domains()
_ALL_IDS = tuple(d.id for _, d in _ALL)
_N_CATALOGUE = sum(len(f.domains) for f in _CATALOGUE_FAMILIES)
_SIBLINGS = tuple(
    tuple(j for j, (g, _) in enumerate(_ALL) if g is f and j != i) for i, (f, _) in enumerate(_ALL)
)


def _size_variants(size: str) -> tuple[str, ...]:
    """Ways sellers write one size; repeats weight the plain form."""
    digits = len(size) - len(size.lstrip("0123456789,."))
    num, unit = size[:digits], size[digits:]
    if not num or unit.startswith(" "):
        return (size,)
    variants = (size,) * 5 + (f"{num} {unit}",) * 2
    # Only consumables come in multi-packs; "2 x 1500W" is not how anyone sells a dryer.
    if unit in ("ml", "g", "kg"):
        variants += (f"2 x {size}", f"Kit 3 x {size}")
    return variants


def _localise(brand: str, line: str, lang: str) -> tuple[str, str]:
    if lang == "es":
        return _ES_BRANDS.get(brand, brand), _ES_LINES.get(line, line)
    return brand, line


def _domain_pairs(family: _FamilySpec, code: str, lang: str, new_brands: bool):
    if new_brands:
        return tuple((b, ln) for b in _NEW_BRANDS for ln in _NEW_LINES)
    return tuple(_localise(b, ln, lang) for b, ln, codes in family.lines if code in codes)


def _table(i: int, lang: str, new_brands: bool) -> _Table:
    family, d = _ALL[i]
    own = getattr(d, f"{lang}_attrs")
    shared = getattr(family, f"{lang}_attrs")
    # Own attributes count double: they are what still separates siblings.
    attrs = own + shared
    makers = _NEW_BRANDS if new_brands and d.makers else d.makers
    sizes = tuple(v for s in d.sizes for v in _size_variants(s))
    pairs = _domain_pairs(family, d.code, lang, new_brands)
    generic = getattr(family, f"{lang}_generic")
    return _Table(
        lang,
        getattr(d, lang),
        pairs,
        attrs,
        shared or attrs,
        generic,
        sizes,
        makers,
        d.compat,
        _SIBLINGS[i],
    )


@functools.lru_cache(maxsize=2)
def _tables(new_brands: bool) -> tuple[tuple[_Table, ...], tuple[_Table, ...]]:
    """Tables indexed [is_spanish][domain index]."""
    return tuple(tuple(_table(i, lang, new_brands) for i in range(len(_ALL))) for lang in LANGUAGES)


def _training_brand_names() -> set[str]:
    """Every brand a catalogue title can name, in both languages (tests use it)."""
    names = set()
    for lang_tables in _tables(False):
        for t in lang_tables[:_N_CATALOGUE]:
            names.update(b for b, _ in t.pairs)
            names.update(t.makers)
    return names


def _accent_table() -> dict[int, str]:
    """NFKD-and-drop-combining-marks, precomputed as a str.translate table for speed."""
    table = {}
    for cp in range(0xC0, 0x250):
        decomposed = unicodedata.normalize("NFKD", chr(cp))
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        if base and base != chr(cp):
            table[cp] = base
    return table


_ACCENTS = _accent_table()


def domain_ids(domains: int | None = None) -> list[str]:
    """All domain ids a catalogue of `domains` domains emits (default: today's 32), sorted."""
    if domains is None or domains == DEFAULT_DOMAINS:
        return sorted(_ALL_IDS[:_N_CATALOGUE])
    _validate_domains(domains, 1)
    return sorted(_taxonomy_world(int(domains), False).ids[: int(domains)])


def _check_new_names_unseen() -> None:
    seen = {w.lower() for t in _tables(False)[0] + _tables(False)[1] for p in t.pairs for w in p}
    clash = seen & {w.lower() for w in _NEW_BRANDS + _NEW_LINES}
    if clash:
        raise RuntimeError(f"new_brands vocabulary overlaps training names: {sorted(clash)}")


_check_new_names_unseen()


# ---------------------------------------------------------------------------
# Title assembly. Choices are drawn per chunk with numpy; the join is per row.
# ---------------------------------------------------------------------------


def _pick(seq, u: float):
    return seq[int(u * len(seq))]


def _noun(tabs, t: _Table, mode: int, u) -> str:
    if mode == _NOUNLESS:
        return ""
    if mode == _GENERIC:
        return _pick(t.generic, u[0]) if t.generic else ""
    noun = _pick(t.nouns, u[0])
    if mode != _SIBLING or not t.siblings:
        return noun
    other = _pick(tabs[_pick(t.siblings, u[6])].nouns, u[7])
    join = _pick(_SIBLING_JOINS[t.lang], u[8])
    # A quarter name the sibling first: "Kit Condicionador + Shampoo" sold as shampoo.
    pair = f"{other}{join}{noun}" if u[21] < 0.25 else f"{noun}{join}{other}"
    return f"Kit {pair}" if u[19] < 0.4 else pair


def _brand_line(t: _Table, mode: int, flags: int, u) -> str:
    brand, line = _pick(t.pairs, u[1])
    if mode < _NOUNLESS:  # a title without its noun keeps brand and line, or it says nothing
        brand = brand if flags & 1 else ""
        line = line if flags & 2 else ""
    text = f"{line} {brand}" if u[16] > 0.9 else f"{brand} {line}"
    text = text.strip()
    if t.compat and text and mode < _NOUNLESS and flags & 8:
        text = f"{_pick(_COMPAT_WORDS[t.lang], u[20])} {text}"
    if t.makers and flags & 4:
        text = f"{_pick(t.makers, u[12])} {text}".strip()
    return text


def _attrs(t: _Table, mode: int, n: int, u) -> str:
    # Noun-less titles mostly carry family-wide attributes ("Sem Sal", "Bivolt"), which
    # is what keeps "Elseve Hidra Hialurônico 400ml Sem Sal" genuinely ambiguous.
    pool = t.shared_attrs if mode >= _NOUNLESS and u[18] < _NOUNLESS_SHARED_ATTRS else t.attrs
    chosen = dict.fromkeys(_pick(pool, u[3 + k]) for k in range(n))
    return " ".join(chosen)


def _title(tabs, t: _Table, row, u) -> str:
    mode, tmpl, n_attr, n_noise, flags = row
    slots = {
        "N": _noun(tabs, t, mode, u),
        "B": _brand_line(t, mode, flags, u),
        "A": _attrs(t, mode, n_attr, u),
        "S": _pick(t.sizes, u[2]) if t.sizes and flags & 16 else "",
    }
    words = [slots[c] for c in _TEMPLATES[tmpl]]
    noise = _SELLER_NOISE[t.lang]
    for k in range(n_noise):
        item = _pick(noise, u[9 + k])
        if u[11] < 0.3 and k == 0:
            words.insert(0, item)
        else:
            words.append(item)
    return " ".join(w for w in words if w)


def _typo(title: str, u) -> str:
    """Drop, double or swap one character of one word, as hurried sellers do."""
    words = title.split(" ")
    cands = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not cands:
        return title
    i = _pick(cands, u[13])
    w = words[i]
    k = 1 + int(u[14] * (len(w) - 2))  # never the first letter: sellers rarely miss it
    op = int(u[15] * 3)
    if op == 0:
        w = w[:k] + w[k + 1 :]
    elif op == 1:
        w = w[:k] + w[k] + w[k:]
    else:
        w = w[: k - 1] + w[k] + w[k - 1] + w[k + 1 :]
    words[i] = w
    return " ".join(words)


def _roughen(title: str, case: int, rough: int, u) -> str:
    if case == 1:
        title = title.title()
    elif case == 2:
        title = title.upper()
    elif case == 3:
        title = title.lower()
    if rough & 1:
        title = title.translate(_ACCENTS)
    if rough & 2:
        title = _typo(title, u)
    if rough & 4:
        gaps = [i for i, c in enumerate(title) if c == " "]
        if gaps:
            g = _pick(gaps, u[17])
            title = title[:g] + " " + title[g:]
    return _truncate(title)


def _truncate(title: str) -> str:
    """Cut at a word boundary to the marketplace's title limit; long titles lose their tail."""
    if len(title) <= _MAX_TITLE:
        return title
    cut = title.rfind(" ", 0, _MAX_TITLE + 1)
    return title[:cut].rstrip() if cut > 0 else title[:_MAX_TITLE]


# ---------------------------------------------------------------------------
# Chunks, labels and the Parquet writer.
# ---------------------------------------------------------------------------


class _World(NamedTuple):
    """The domains one file can hold: catalogue domains first (sorted), then unseen ones."""

    ids: tuple[str, ...]
    id_array: pa.Array
    n_catalogue: int
    siblings: tuple[tuple[int, ...], ...]
    tables: tuple[tuple[_Table, ...], tuple[_Table, ...]]  # [is_spanish][domain index]


class _Spec(NamedTuple):
    seed: int
    seed_tail: tuple[int, ...]  # keeps batch streams apart from the catalogue's
    weights: np.ndarray  # over world.ids, sums to 1
    spanish_share: float
    label_noise: float
    new_brands: bool
    id_prefix: str
    with_labels: bool
    world: _World
    # Exact domain counts per chunk (taxonomy catalogues, so every domain meets its floor);
    # None draws each row's domain from `weights`, as the 32-domain catalogue always has.
    chunk_counts: _ChunkPlan | None = None


_ID_ARRAY = pa.array(_ALL_IDS, pa.string())
_LANG_ARRAY = pa.array(LANGUAGES, pa.string())


def _legacy_world(new_brands: bool) -> _World:
    return _World(_ALL_IDS, _ID_ARRAY, _N_CATALOGUE, _SIBLINGS, _tables(new_brands))


def _bits(rng: np.random.Generator, n: int, probs: tuple[float, ...]) -> list[int]:
    """Independent yes/no draws packed into one int per row (bit k has probability probs[k])."""
    out = np.zeros(n, np.int64)
    for k, p in enumerate(probs):
        out |= (rng.random(n) < p).astype(np.int64) << k
    return out.tolist()


def _titles(
    rng: np.random.Generator, dom: np.ndarray, spanish: np.ndarray, spec: _Spec
) -> list[str]:
    n = len(dom)
    plan = zip(
        rng.choice(len(_MODE_P), n, p=_MODE_P).tolist(),
        rng.choice(len(_TEMPLATES), n, p=_TEMPLATE_P).tolist(),
        rng.choice(4, n, p=_N_ATTRS_P).tolist(),
        rng.choice(3, n, p=_N_NOISE_P).tolist(),
        _bits(rng, n, (0.85, 0.8, 0.3, 0.4, 0.65)),  # brand, line, maker, "para", size
    )
    case = rng.choice(4, n, p=_CASE_P).tolist()
    rough = _bits(rng, n, (0.3, 0.1, 0.06))  # accents dropped, typo, extra space
    u = rng.random((n, _N_U)).tolist()
    both = spec.world.tables
    out = []
    for d, es, row, c, r, uu in zip(dom.tolist(), spanish.tolist(), plan, case, rough, u):
        tabs = both[es]
        out.append(_roughen(_title(tabs, tabs[d], row, uu), c, r, uu))
    return out


def _relabel(d: int, a: float, b: float, pool: np.ndarray, siblings) -> int:
    sibs = siblings[d]
    if sibs and a < _SIBLING_NOISE_SHARE:
        return _pick(sibs, b)
    others = pool[pool != d]
    return int(others[int(b * len(others))])


def _noisy_labels(rng: np.random.Generator, dom: np.ndarray, spec: _Spec) -> tuple[np.ndarray, int]:
    noisy = np.flatnonzero(rng.random(len(dom)) < spec.label_noise)
    draws = rng.random((len(noisy), 2)).tolist()
    pool = np.flatnonzero(spec.weights > 0)
    labels = dom.copy()
    for i, (a, b) in zip(noisy.tolist(), draws):
        labels[i] = _relabel(int(dom[i]), a, b, pool, spec.world.siblings)
    return labels, len(noisy)


def _chunk(spec: _Spec, index: int, start: int, n: int) -> tuple[pa.Table, np.ndarray, int]:
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, index, *spec.seed_tail]))
    if spec.chunk_counts is None:
        dom = rng.choice(len(spec.world.ids), size=n, p=spec.weights)
        spanish = rng.random(n) < spec.spanish_share
        titles = _titles(rng, dom, spanish, spec)
        labels, n_noisy = _noisy_labels(rng, dom, spec)
    else:
        # The plan fixes the labels, so every domain keeps its exact count (its floor
        # included); the noise instead writes a noisy row's title from another domain,
        # which is the same mislabelling seen from the other side.
        counts = spec.chunk_counts[index]
        labels = rng.permutation(np.repeat(np.arange(len(counts)), counts))
        spanish = rng.random(n) < spec.spanish_share
        source, n_noisy = _noisy_labels(rng, labels, spec)
        titles = _titles(rng, source, spanish, spec)
    cols = {
        "item_id": pa.array(
            [f"{spec.id_prefix}{i:010d}" for i in range(start + 1, start + n + 1)], pa.string()
        ),
        "title": pa.array(titles, pa.string()),
        "domain": spec.world.id_array.take(pa.array(labels)),
        "language": _LANG_ARRAY.take(pa.array(spanish.astype(np.int8))),
    }
    if not spec.with_labels:
        del cols["domain"]
    return pa.table(cols), labels, n_noisy


def _write(path, rows: int, chunk_rows: int, spec: _Spec) -> dict:
    """Write chunk by chunk to a hidden temp file beside `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    ids = spec.world.ids
    counts = np.zeros(len(ids), np.int64)
    n_noisy = 0
    try:
        writer = None
        for index, start in enumerate(range(0, rows, chunk_rows)):
            table, labels, noisy = _chunk(spec, index, start, min(chunk_rows, rows - start))
            writer = writer or pq.ParquetWriter(str(tmp), table.schema)
            writer.write_table(table)
            counts += np.bincount(labels, minlength=len(ids))
            n_noisy += noisy
        writer.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    per_domain = {ids[i]: int(c) for i, c in enumerate(counts) if c}
    return {
        "rows": rows,
        "domains": len(per_domain),
        "per_domain": dict(sorted(per_domain.items())),
        "label_noise_rows": n_noisy,
    }


# ---------------------------------------------------------------------------
# The marketplace-sized taxonomy (taxonomy.py): its tables and its domain sizes.
# ---------------------------------------------------------------------------

# Rows a taxonomy domain gets beyond what split keeps: label noise moves ~2% of a domain's
# rows away and split drops case/space duplicates, so the floor carries a margin.
_FLOOR_MARGIN = 0.15


def _taxonomy_table(d, fam, lang: str, new_brands: bool, siblings: tuple[int, ...]) -> _Table:
    own, shared = getattr(d, f"{lang}_attrs"), getattr(fam, f"{lang}_attrs")
    if new_brands:
        pairs = tuple((b, ln) for b in _NEW_BRANDS for ln in _NEW_LINES)
    else:
        pairs = tuple(_localise(b, ln, lang) for b, ln in d.lines)
    return _Table(
        lang,
        getattr(d, lang),
        pairs,
        own + shared,
        shared or own,
        getattr(fam, f"{lang}_generic"),
        tuple(v for s in d.sizes for v in _size_variants(s)),
        (),
        fam.compat,
        siblings,
    )


def _taxonomy_siblings(domains, n_catalogue: int) -> tuple[tuple[int, ...], ...]:
    """Same-family domains; a catalogue domain's siblings are catalogue domains only, so
    label noise never names a domain the catalogue lacks."""
    out = []
    for i, d in enumerate(domains):
        pool = range(n_catalogue) if i < n_catalogue else range(len(domains))
        out.append(tuple(j for j in pool if j != i and domains[j].family == d.family))
    return tuple(out)


@functools.lru_cache(maxsize=4)
def _taxonomy_world(n_domains: int, new_brands: bool) -> _World:
    catalogue, unseen = taxonomy.select(n_domains)
    domains = catalogue + unseen
    families = taxonomy.load().families
    siblings = _taxonomy_siblings(domains, len(catalogue))
    tables = tuple(
        tuple(
            _taxonomy_table(d, families[d.family], lang, new_brands, sibs)
            for d, sibs in zip(domains, siblings)
        )
        for lang in LANGUAGES
    )
    ids = tuple(d.id for d in domains)
    return _World(ids, pa.array(ids, pa.string()), len(catalogue), siblings, tables)


def _world(domains: int, new_brands: bool) -> _World:
    if domains == DEFAULT_DOMAINS:
        return _legacy_world(new_brands)
    return _taxonomy_world(domains, new_brands)


def domain_floor(min_rows_per_domain: int) -> int:
    """Rows a taxonomy catalogue gives its smallest domain so split still keeps it."""
    return min_rows_per_domain + int(np.ceil(_FLOOR_MARGIN * min_rows_per_domain))


def min_catalogue_rows(domains: int, min_rows_per_domain: int) -> int:
    """The fewest rows a catalogue of `domains` domains can have (0 for the default 32,
    which sizes its domains from rows alone, as it always has)."""
    if domains == DEFAULT_DOMAINS:
        return 0
    return domains * domain_floor(min_rows_per_domain)


def _rank_weights(n: int, exponent: float, reverse: bool) -> np.ndarray:
    """Zipf weights over n domains; the ranking is shuffled by a constant, not the seed."""
    order = np.random.default_rng(_ORDER_SEED).permutation(n)
    by_rank = np.arange(1, n + 1, dtype=np.float64) ** -float(exponent)
    if reverse:
        by_rank = by_rank[::-1]
    w = np.zeros(n)
    w[order] = by_rank
    return w / w.sum()


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer counts summing to `total`, proportional to `weights` (largest remainder)."""
    raw = total * weights
    counts = np.floor(raw).astype(np.int64)
    short = int(total - counts.sum())
    counts[np.argsort(counts - raw, kind="stable")[:short]] += 1
    return counts


def _domain_counts(rows: int, n: int, floor: int, exponent: float, reverse=False) -> np.ndarray:
    """Exact rows per domain: the floor for everyone, the rest Zipf-shared (long tail)."""
    return floor + _allocate(rows - floor * n, _rank_weights(n, exponent, reverse))


class _ChunkPlan:
    """Domain counts per chunk, drawn without replacement so the totals are exact.

    Drawn in chunk order and holding only the counts still to place, so memory stays flat
    at any number of chunks. Its own stream ([seed, 0, 2]) keeps it apart from every
    chunk's ([seed, i] and [seed, i, 1])."""

    def __init__(self, counts: np.ndarray, rows: int, chunk_rows: int, seed: int):
        self._left = counts.astype(np.int64)
        self._rows, self._chunk_rows, self._next = rows, chunk_rows, 0
        self._rng = np.random.default_rng(np.random.SeedSequence([seed, 0, 2]))

    def __getitem__(self, index: int) -> np.ndarray:
        if index != self._next:
            raise IndexError(f"chunk {index} planned out of order (next is {self._next})")
        n = min(self._chunk_rows, self._rows - index * self._chunk_rows)
        take = self._rng.multivariate_hypergeometric(self._left, n, method="marginals")
        self._left -= take
        self._next += 1
        return take


def _padded(weights: np.ndarray, world: _World) -> np.ndarray:
    """Catalogue weights extended with zeros for the world's unseen domains."""
    return np.concatenate([weights, np.zeros(len(world.ids) - len(weights))])


# ---------------------------------------------------------------------------
# Arguments and public entry points.
# ---------------------------------------------------------------------------

# What `make run` has always generated: the six families of vocabulary/<family>.json.
# This value runs that code path untouched (byte-identical files); any other count uses
# the taxonomy of vocabulary/taxonomy.json.
DEFAULT_DOMAINS = _N_CATALOGUE


def max_domains() -> int:
    """The most domains the taxonomy vocabulary can build."""
    return taxonomy.load().max_domains


def _is_int(x) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool)


def _is_real(x) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool) and np.isfinite(float(x))


def _validate(rows, seed, label_noise, zipf_exponent, spanish_share, chunk_rows) -> None:
    if not _is_int(rows) or rows < 1:
        raise ValueError(f"rows must be an int >= 1, got {rows!r}")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not _is_real(label_noise) or not 0 <= label_noise <= 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5], got {label_noise!r}")
    if not _is_real(zipf_exponent) or zipf_exponent < 0:
        raise ValueError(f"zipf_exponent must be >= 0, got {zipf_exponent!r}")
    if not _is_real(spanish_share) or not 0 <= spanish_share <= 1:
        raise ValueError(f"spanish_share must be in [0, 1], got {spanish_share!r}")
    if not _is_int(chunk_rows) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be an int >= 1, got {chunk_rows!r}")


def _validate_domains(domains, min_rows_per_domain) -> None:
    top = max_domains()
    if not _is_int(domains) or not 2 <= domains <= top:
        raise ValueError(
            f"domains must be an int in [2, {top}] (what vocabulary/taxonomy.json builds), "
            f"got {domains!r}"
        )
    if not _is_int(min_rows_per_domain) or min_rows_per_domain < 1:
        raise ValueError(f"min_rows_per_domain must be an int >= 1, got {min_rows_per_domain!r}")


def _validate_rows_for_domains(rows: int, domains: int, min_rows_per_domain: int) -> None:
    need = min_catalogue_rows(domains, min_rows_per_domain)
    if rows < need:
        raise ValueError(
            f"rows={rows} are too few for domains={domains}: each domain needs "
            f"{domain_floor(min_rows_per_domain)} rows (min_rows_per_domain="
            f"{min_rows_per_domain} plus a margin for label noise and duplicates), "
            f"so rows must be >= {need}"
        )


def _zipf_weights(exponent: float, reverse: bool = False) -> np.ndarray:
    """Weights over _ALL: catalogue domain at rank r gets 1/r**exponent, pets get 0."""
    order = np.random.default_rng(_ORDER_SEED).permutation(_N_CATALOGUE)  # order[r-1] has rank r
    by_rank = np.arange(1, _N_CATALOGUE + 1, dtype=np.float64) ** -float(exponent)
    if reverse:
        by_rank = by_rank[::-1]
    w = np.zeros(len(_ALL))
    w[order] = by_rank
    return w / w.sum()


def generate_catalogue(
    path,
    rows: int,
    seed: int,
    *,
    domains: int = DEFAULT_DOMAINS,
    min_rows_per_domain: int = 20,
    label_noise: float = 0.02,
    zipf_exponent: float = 1.0,
    spanish_share: float = 0.3,
    chunk_rows: int = 100_000,
) -> dict:
    """Stream `rows` labelled titles to a Parquet file at `path`.

    Columns: ``item_id`` ("D0000000001"...), ``title``, ``domain``, ``language`` ("pt"/"es").
    The file appears only once complete (temp file + ``os.replace``); invalid arguments
    raise ``ValueError`` before anything is created. Returns
    ``{"rows", "domains", "per_domain", "label_noise_rows"}`` where ``per_domain`` counts
    the written (possibly noisy) labels.

    ``domains`` other than :data:`DEFAULT_DOMAINS` draws from the taxonomy: exact Zipf-like
    domain sizes over a floor of :func:`domain_floor` rows each (``min_rows_per_domain`` is
    what the split stage keeps), so every domain survives the split.
    ``min_rows_per_domain`` is unused at the default 32 domains.
    """
    _validate(rows, seed, label_noise, zipf_exponent, spanish_share, chunk_rows)
    _validate_domains(domains, min_rows_per_domain)
    _validate_rows_for_domains(rows, domains, min_rows_per_domain)
    world = _world(int(domains), False)
    if domains == DEFAULT_DOMAINS:
        weights, plan = _zipf_weights(zipf_exponent), None
    else:
        floor = domain_floor(min_rows_per_domain)
        counts = _domain_counts(int(rows), int(domains), floor, zipf_exponent)
        weights = _padded(counts / rows, world)
        plan = _ChunkPlan(_padded(counts, world), int(rows), int(chunk_rows), int(seed))
    spec = _Spec(
        int(seed),
        (),
        weights,
        float(spanish_share),
        float(label_noise),
        False,
        "D",
        True,
        world,
        plan,
    )
    return _write(path, int(rows), int(chunk_rows), spec)


def _catalogue_weights(domains, zipf_exponent, reverse, catalogue_rows, min_rows_per_domain):
    """A batch's domain mix: the catalogue's exact sizes at `catalogue_rows`, else Zipf."""
    if domains == DEFAULT_DOMAINS:
        return _zipf_weights(zipf_exponent, reverse=reverse)
    if not catalogue_rows:
        return _rank_weights(int(domains), zipf_exponent, reverse)
    floor = domain_floor(min_rows_per_domain)
    counts = _domain_counts(int(catalogue_rows), int(domains), floor, zipf_exponent, reverse)
    return counts / counts.sum()


def _batch_spec(
    seed: int,
    shift: str,
    with_labels: bool,
    label_noise: float,
    zipf_exponent: float,
    spanish_share: float,
    domains: int = DEFAULT_DOMAINS,
    catalogue_rows: int | None = None,
    min_rows_per_domain: int = 20,
) -> _Spec:
    world = _world(int(domains), shift == "new_brands")
    weights = _catalogue_weights(
        domains, zipf_exponent, shift == "domain_mix", catalogue_rows, min_rows_per_domain
    )
    weights = np.concatenate([weights, np.zeros(len(world.ids) - len(weights))])
    n_cat = world.n_catalogue
    if shift == "unseen_domain":
        unseen = np.zeros(len(world.ids))
        unseen[n_cat:] = 1.0 / (len(world.ids) - n_cat)
        weights = (1 - _UNSEEN_SHARE) * weights + _UNSEEN_SHARE * unseen
    if shift == "language_switch":
        spanish_share = _SWITCHED_SPANISH_SHARE
    return _Spec(
        int(seed),
        (1,),
        weights,
        float(spanish_share),
        float(label_noise),
        shift == "new_brands",
        "B",
        bool(with_labels),
        world,
    )


def generate_batch(
    path,
    rows: int,
    seed: int,
    *,
    shift: str = "none",
    with_labels: bool = True,
    domains: int = DEFAULT_DOMAINS,
    catalogue_rows: int | None = None,
    min_rows_per_domain: int = 20,
    label_noise: float = 0.02,
    zipf_exponent: float = 1.0,
    spanish_share: float = 0.3,
    chunk_rows: int = 100_000,
) -> dict:
    """Write a batch of titles to score, optionally under a distribution shift.

    Same columns as :func:`generate_catalogue` (item ids start with "B"), without
    ``domain`` when ``with_labels`` is False. Randomness comes from
    ``SeedSequence([seed, chunk, 1])``, so a batch never repeats the catalogue's rows.
    Shifts: ``none`` (catalogue distribution); ``new_brands`` (invented brands and lines
    replace every real one); ``domain_mix`` (Zipf ranking reversed); ``unseen_domain``
    (30% of rows are from domains outside :func:`domain_ids`: pet supplies at the default
    32 domains, the taxonomy's next-ranked domains otherwise); ``language_switch`` (90%
    Spanish, overriding ``spanish_share``). The summary also carries ``shift``;
    ``per_domain`` is filled even when labels are not written. With a taxonomy
    (``domains`` not the default), ``catalogue_rows`` and ``min_rows_per_domain`` give the
    catalogue's exact domain mix; without ``catalogue_rows`` the mix is plain Zipf.
    """
    if shift not in SHIFTS:
        raise ValueError(f"shift must be one of {', '.join(SHIFTS)}; got {shift!r}")
    _validate(rows, seed, label_noise, zipf_exponent, spanish_share, chunk_rows)
    _validate_domains(domains, min_rows_per_domain)
    if catalogue_rows is not None:
        if not _is_int(catalogue_rows) or catalogue_rows < 1:
            raise ValueError(f"catalogue_rows must be an int >= 1, got {catalogue_rows!r}")
        _validate_rows_for_domains(catalogue_rows, domains, min_rows_per_domain)
    spec = _batch_spec(
        seed,
        shift,
        with_labels,
        label_noise,
        zipf_exponent,
        spanish_share,
        domains,
        catalogue_rows,
        min_rows_per_domain,
    )
    return {**_write(path, int(rows), int(chunk_rows), spec), "shift": shift}
