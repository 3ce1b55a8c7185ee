"""Tests for the synthetic listing-title generator (domain_classifier.demo.generator)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain_classifier.demo import generator as catalogue
from domain_classifier.demo.generator import (
    LANGUAGES,
    SHIFTS,
    domain_ids,
    generate_batch,
    generate_catalogue,
)

ROWS = 20_000
SEED = 0


def _norm(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _read(path):
    return pq.read_table(path).to_pandas()


@pytest.fixture(scope="module")
def catalogue_20k(tmp_path_factory):
    path = tmp_path_factory.mktemp("cat") / "catalogue.parquet"
    summary = generate_catalogue(path, ROWS, SEED)
    return path, summary, _read(path)


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """One labelled 8k-row batch per shift, same seed, so differences come from the shift."""
    folder = tmp_path_factory.mktemp("batches")
    out = {}
    for shift in SHIFTS:
        path = folder / f"{shift}.parquet"
        summary = generate_batch(path, 8_000, SEED, shift=shift)
        out[shift] = (summary, _read(path))
    return out


# --- vocabulary ---------------------------------------------------------------


def test_vocabulary_files_load_and_every_family_has_domains():
    folder = resources.files("domain_classifier.demo") / "vocabulary"
    names = catalogue._CATALOGUE_FAMILY_NAMES + (catalogue._UNSEEN_FAMILY_NAME,)
    # A stray or renamed file would otherwise be silently ignored.
    assert {f.name for f in folder.iterdir()} == {f"{n}.json" for n in names} | {
        "languages.json",
        "taxonomy.json",
    }
    for name in names:
        family = catalogue._load_family(name)
        assert family.domains and family.lines, name
        for domain in family.domains:
            assert domain.pt and domain.es, domain.id
    languages = json.loads((folder / "languages.json").read_text(encoding="utf-8"))
    for table in ("seller_noise", "sibling_joins", "compat_words"):
        assert set(languages[table]) == set(LANGUAGES)


def test_vocabulary_slip_names_the_file(monkeypatch):
    real = catalogue._read_vocabulary("pets")
    real["domains"][0]["pt_atrs"] = real["domains"][0].pop("pt")
    monkeypatch.setattr(catalogue, "_read_vocabulary", lambda name: real)
    with pytest.raises(ValueError, match=r"vocabulary/pets\.json"):
        catalogue._load_family("pets")


# --- shape and contract -----------------------------------------------------


def test_domain_ids_are_sorted_unique_marketplace_ids():
    ids = domain_ids()
    assert len(ids) >= 24
    assert ids == sorted(set(ids))
    assert all(re.fullmatch(r"MLB-[A-Z_]+", d) for d in ids)
    assert LANGUAGES == ("pt", "es")


def test_schema_row_count_and_item_ids(catalogue_20k):
    path, summary, df = catalogue_20k
    schema = pq.read_schema(path)
    assert schema.names == ["item_id", "title", "domain", "language"]
    assert all(schema.field(n).type == pa.string() for n in schema.names)
    assert len(df) == ROWS == summary["rows"]
    assert df.item_id.iloc[0] == "D0000000001"
    assert df.item_id.iloc[-1] == f"D{ROWS:010d}"
    assert df.item_id.is_unique
    assert set(df.language) == set(LANGUAGES)
    assert df.title.str.len().min() > 0


def test_row_count_exact_when_rows_not_a_multiple_of_chunk(tmp_path):
    path = tmp_path / "odd.parquet"
    summary = generate_catalogue(path, 2_501, 3, chunk_rows=1_000)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == 2_501 == summary["rows"]
    assert meta.num_row_groups == 3  # one per chunk: the file was streamed
    ids = _read(path).item_id
    assert list(ids) == [f"D{i:010d}" for i in range(1, 2_502)]


def test_summary_matches_file(catalogue_20k):
    _, summary, df = catalogue_20k
    counts = df.domain.value_counts().to_dict()
    assert summary["per_domain"] == counts
    assert summary["domains"] == len(counts)
    assert sum(summary["per_domain"].values()) == ROWS
    assert set(summary) == {"rows", "domains", "per_domain", "label_noise_rows"}


def test_same_arguments_give_identical_bytes_and_seed_matters(tmp_path):
    a, b, c = (tmp_path / f"{n}.parquet" for n in "abc")
    generate_catalogue(a, 3_000, 42, chunk_rows=1_000)
    generate_catalogue(b, 3_000, 42, chunk_rows=1_000)
    generate_catalogue(c, 3_000, 43, chunk_rows=1_000)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    titles_a, titles_c = _read(a).title, _read(c).title
    assert (titles_a == titles_c).mean() < 0.05


def test_numpy_integer_seed_is_accepted(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    generate_catalogue(a, 500, 5)
    generate_catalogue(b, 500, np.int64(5))
    assert a.read_bytes() == b.read_bytes()


# --- distribution -------------------------------------------------------------


def test_domains_are_many_and_zipf_like(catalogue_20k):
    _, summary, _ = catalogue_20k
    counts = summary["per_domain"]
    assert len(counts) >= 24
    assert set(counts) <= set(domain_ids())
    assert max(counts.values()) >= 5 * min(counts.values())
    assert min(counts.values()) >= 100  # the docstring's promise for 20k rows, exponent 1


def test_zipf_exponent_zero_is_flat(tmp_path):
    summary = generate_catalogue(tmp_path / "flat.parquet", ROWS, SEED, zipf_exponent=0.0)
    counts = summary["per_domain"].values()
    assert max(counts) < 1.6 * min(counts)


def test_spanish_share_is_respected(catalogue_20k, tmp_path):
    _, _, df = catalogue_20k
    assert abs((df.language == "es").mean() - 0.3) < 0.02
    summary = generate_catalogue(tmp_path / "pt.parquet", 2_000, SEED, spanish_share=0.0)
    assert summary["rows"] == 2_000
    assert set(_read(tmp_path / "pt.parquet").language) == {"pt"}


def test_titles_are_written_in_their_language(catalogue_20k):
    _, _, df = catalogue_20k
    titles = df.title.map(_norm)
    pt, es = titles[df.language == "pt"], titles[df.language == "es"]
    assert pt.str.contains("frete gratis").mean() > 0.02
    assert not es.str.contains("frete gratis").any()
    assert es.str.contains("envio gratis").mean() > 0.02
    assert not pt.str.contains("envio gratis").any()
    shampoo = df.domain == "MLB-SHAMPOOS"
    assert titles[shampoo & (df.language == "es")].str.contains("champu").mean() > 0.2
    assert not titles[shampoo & (df.language == "pt")].str.contains("champu").any()


def test_titles_look_like_seller_titles(catalogue_20k):
    _, _, df = catalogue_20k
    titles = df.title
    letters = titles.str.replace(r"[^A-Za-zÀ-ÿ]", "", regex=True)
    assert titles.str.len().max() <= 60
    assert (titles == titles.str.strip()).all()
    assert 0.1 < (letters == letters.str.upper()).mean() < 0.35  # SHOUTING sellers
    assert 0.05 < (letters == letters.str.lower()).mean() < 0.2
    assert titles.str.contains("  ").mean() > 0.02  # stray double spaces
    assert titles.str.contains(r"\d+ ?(?:ml|g|kg|L|W|GB|mm)\b", case=False).mean() > 0.3


def test_siblings_share_brands_and_lines(catalogue_20k):
    """The same line must be sold under several sibling domains, or nothing is confusable."""
    _, _, df = catalogue_20k
    hialuronico = df[df.title.map(_norm).str.contains("hidra hialur")]
    assert {"MLB-SHAMPOOS", "MLB-HAIR_CONDITIONERS", "MLB-HAIR_TREATMENTS"} <= set(
        hialuronico.domain
    )
    iphone = df[df.title.str.contains("iphone 13", case=False)]
    assert {"MLB-CELLPHONES", "MLB-CELLPHONE_COVERS", "MLB-SCREEN_PROTECTORS"} <= set(iphone.domain)


def test_label_noise_count_and_sibling_preference(tmp_path):
    clean_path, noisy_path = tmp_path / "clean.parquet", tmp_path / "noisy.parquet"
    clean = generate_catalogue(clean_path, ROWS, SEED, label_noise=0.0)
    noisy = generate_catalogue(noisy_path, ROWS, SEED, label_noise=0.1)
    assert clean["label_noise_rows"] == 0
    assert abs(noisy["label_noise_rows"] - 0.1 * ROWS) < 200  # ~4.7 binomial sigmas
    a, b = _read(clean_path), _read(noisy_path)
    assert (a.title == b.title).all()  # noise touches labels only
    changed = a.domain != b.domain
    assert changed.sum() == noisy["label_noise_rows"]
    family = {}
    for i, d in enumerate(catalogue._ALL_IDS):
        family[d] = frozenset(catalogue._ALL_IDS[j] for j in catalogue._SIBLINGS[i]) | {d}
    to_sibling = [new in family[old] for old, new in zip(a.domain[changed], b.domain[changed])]
    assert np.mean(to_sibling) > 0.7


# --- argument checking and atomic writes ---------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"rows": 0}, "rows"),
        ({"rows": 10.0}, "rows"),
        ({"rows": True}, "rows"),
        ({"seed": "1"}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": -1}, "seed"),
        ({"label_noise": 0.6}, "label_noise"),
        ({"label_noise": -0.01}, "label_noise"),
        ({"label_noise": float("nan")}, "label_noise"),
        ({"zipf_exponent": -0.5}, "zipf_exponent"),
        ({"spanish_share": 1.2}, "spanish_share"),
        ({"spanish_share": -0.1}, "spanish_share"),
        ({"chunk_rows": 0}, "chunk_rows"),
    ],
)
def test_bad_arguments_raise_and_leave_no_file(tmp_path, kwargs, name):
    args = {"rows": 100, "seed": 1, **kwargs}
    path = tmp_path / "out" / "catalogue.parquet"
    for func in (generate_catalogue, generate_batch):
        with pytest.raises(ValueError, match=name) as info:
            func(path, **args)
        assert "\n" not in str(info.value)
    assert not path.exists()
    assert not (tmp_path / "out").exists()


def test_crash_mid_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "catalogue.parquet"
    path.write_bytes(b"previous good file")
    real_chunk = catalogue._chunk

    def failing_chunk(spec, index, start, n):
        if index == 2:
            raise RuntimeError("disk on fire")
        return real_chunk(spec, index, start, n)

    monkeypatch.setattr(catalogue, "_chunk", failing_chunk)
    with pytest.raises(RuntimeError, match="disk on fire"):
        generate_catalogue(path, 5_000, 1, chunk_rows=1_000)
    assert path.read_bytes() == b"previous good file"
    assert [p.name for p in tmp_path.iterdir()] == ["catalogue.parquet"]


def test_creates_missing_parent_folder(tmp_path):
    path = tmp_path / "data" / "raw" / "catalogue.parquet"
    generate_catalogue(path, 200, 1)
    assert pq.read_metadata(path).num_rows == 200


# --- batches and shifts --------------------------------------------------------


def test_unknown_shift_lists_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="shift") as info:
        generate_batch(tmp_path / "b.parquet", 100, 1, shift="tsunami")
    assert all(s in str(info.value) for s in SHIFTS)
    assert not (tmp_path / "b.parquet").exists()


def test_unlabelled_batch_has_no_domain_column(tmp_path):
    path = tmp_path / "score.parquet"
    summary = generate_batch(path, 1_000, 1, with_labels=False)
    assert pq.read_schema(path).names == ["item_id", "title", "language"]
    assert summary["rows"] == 1_000 and summary["shift"] == "none"
    assert _read(path).item_id.iloc[0] == "B0000000001"


def test_batch_is_independent_of_catalogue_with_same_seed(tmp_path, catalogue_20k):
    _, _, cat = catalogue_20k
    path = tmp_path / "batch.parquet"
    generate_batch(path, ROWS, SEED)
    batch = _read(path)
    assert (batch.title.values == cat.title.values).mean() < 0.05
    assert (batch.domain.values == cat.domain.values).mean() < 0.2


def test_shift_none_matches_catalogue_distribution(batches, catalogue_20k):
    _, _, cat = catalogue_20k
    _, batch = batches["none"]
    cat_share = cat.domain.value_counts(normalize=True)
    batch_share = batch.domain.value_counts(normalize=True).reindex(cat_share.index, fill_value=0)
    assert cat_share.idxmax() == batch_share.idxmax()
    assert np.abs(cat_share - batch_share).sum() < 0.1  # total variation x2
    assert abs((batch.language == "es").mean() - 0.3) < 0.03


def test_new_brands_replace_training_brands(batches):
    brands = sorted({_norm(b) for b in catalogue._training_brand_names()})
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, brands)) + r")(?!\w)")

    def brand_rate(df):
        return df.title.map(lambda t: bool(pattern.search(_norm(t)))).mean()

    assert brand_rate(batches["none"][1]) > 0.6
    # "Babyliss" is also a curler's head noun, so a trace of it survives.
    assert brand_rate(batches["new_brands"][1]) < 0.03


def test_domain_mix_reverses_domain_sizes(batches):
    base = batches["none"][0]["per_domain"]
    mixed = batches["domain_mix"][0]["per_domain"]
    assert max(base, key=base.get) != max(mixed, key=mixed.get)
    ids = sorted(base)
    # Rank correlation: sizes are heavy-tailed, so Pearson would undersell the reversal.
    rank_base = np.argsort(np.argsort([base[d] for d in ids]))
    rank_mixed = np.argsort(np.argsort([mixed.get(d, 0) for d in ids]))
    assert np.corrcoef(rank_base, rank_mixed)[0, 1] < -0.7


def test_unseen_domain_brings_domains_outside_catalogue(batches):
    _, df = batches["unseen_domain"]
    unseen = ~df.domain.isin(domain_ids())
    assert 0.25 < unseen.mean() < 0.35
    assert df.domain[unseen].str.fullmatch(r"MLB-[A-Z_]+").all()
    assert df.domain[unseen].nunique() >= 3


def test_language_switch_is_mostly_spanish(batches):
    _, df = batches["language_switch"]
    assert (df.language == "es").mean() >= 0.8


# --- difficulty -------------------------------------------------------------------


def test_baseline_model_finds_it_hard_but_learnable(tmp_path):
    """A char n-gram linear model should land well below perfect, far above chance."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.svm import LinearSVC

    path = tmp_path / "difficulty.parquet"
    generate_catalogue(path, 16_000, 7)
    df = _read(path)
    train, test = df.iloc[:12_000], df.iloc[12_000:]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True)
    model = LinearSVC().fit(vec.fit_transform(train.title), train.domain)
    f1 = f1_score(test.domain, model.predict(vec.transform(test.title)), average="macro")
    print(f"baseline macro-F1 = {f1:.3f}")
    assert 0.75 <= f1 <= 0.96


# --- the marketplace-sized taxonomy (demo.domains other than 32) -----------------------

TAX_ROWS, TAX_DOMAINS, MIN_ROWS = 5_000, 200, 20


@pytest.fixture(scope="module")
def taxonomy_5k(tmp_path_factory):
    path = tmp_path_factory.mktemp("tax") / "catalogue.parquet"
    summary = generate_catalogue(
        path, TAX_ROWS, SEED, domains=TAX_DOMAINS, min_rows_per_domain=MIN_ROWS, chunk_rows=2_000
    )
    return path, summary, _read(path)


def _content_hash(path) -> str:
    """Hash of the cell values, not the bytes: the Parquet footer names the pyarrow version."""
    table = pq.read_table(path)
    digest = hashlib.sha256()
    for name in table.column_names:
        digest.update(name.encode() + b"\0")
        for value in table.column(name).to_pylist():
            digest.update(value.encode() + b"\n")
    return digest.hexdigest()


def test_default_domains_output_is_unchanged(tmp_path):
    """The 32-domain catalogue must not move when the taxonomy is added.

    These hashes were computed from the code before demo.domains existed (commit c426acc,
    the generator as it was), with exactly these calls; the stage's own files were also
    compared byte for byte (sha256 of data/demo/*.parquet before and after)."""
    cat, batch, unseen = (tmp_path / f"{n}.parquet" for n in ("cat", "batch", "unseen"))
    generate_catalogue(cat, 3_000, 42, chunk_rows=1_000)
    generate_batch(batch, 1_000, 42)
    generate_batch(unseen, 1_000, 42, shift="unseen_domain")
    assert catalogue.DEFAULT_DOMAINS == 32
    assert _content_hash(cat) == "506f220b6b4dc5360e10d22a5b77ff56024cc57e6cc74c88cc2e1217d555df88"
    assert (
        _content_hash(batch) == "8048ddb8d4137ec1c2654d3bf85e1b8a65b2e62db656f256b63d10dd9a16ac94"
    )
    assert (
        _content_hash(unseen) == "d105a29556a79be446ddae98ecfed5a973ade9f277163a38d3d77f8a91f0ffe5"
    )


def test_taxonomy_builds_over_2000_marketplace_ids():
    from domain_classifier.demo import taxonomy

    tax = taxonomy.load()
    assert tax.max_domains >= 2_000
    ids = [d.id for d in tax.ranked]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"MLB-[A-Z]+(?:_[A-Z]+)*", d) for d in ids)
    assert domain_ids(TAX_DOMAINS) == sorted(ids[:TAX_DOMAINS])


def test_taxonomy_every_domain_present_with_split_minimum(taxonomy_5k):
    from domain_classifier.data.split import deduplicate

    _, summary, df = taxonomy_5k
    assert summary["rows"] == len(df) == TAX_ROWS
    assert set(summary["per_domain"]) == set(domain_ids(TAX_DOMAINS))
    assert summary["per_domain"] == df.domain.value_counts().to_dict()
    # What split keeps after dropping case/space duplicates is what must reach the minimum.
    kept, _ = deduplicate(df)
    assert kept.domain.nunique() == TAX_DOMAINS
    assert kept.domain.value_counts().min() >= MIN_ROWS


def test_taxonomy_sizes_are_long_tailed(taxonomy_5k):
    _, summary, _ = taxonomy_5k
    sizes = np.sort(np.array(list(summary["per_domain"].values())))[::-1]
    assert sizes[0] >= 3.5 * sizes[-1]
    assert np.median(sizes) <= sizes[-1] + 3  # most domains sit in the tail, near the floor
    head = sizes[: len(sizes) // 10].sum() / TAX_ROWS
    assert head > 1.3 * 0.1  # the top tenth of domains holds well over a tenth of the rows


def test_taxonomy_siblings_share_tokens(taxonomy_5k):
    """Variants of one type and types of one family must look alike; other families not."""
    from domain_classifier.demo import taxonomy

    _, _, df = taxonomy_5k
    info = {d.id: d for d in taxonomy.load().ranked}
    vocab = {
        dom: set(re.findall(r"\w+", " ".join(titles.map(_norm))))
        for dom, titles in df.groupby("domain").title
    }

    def jaccard(a, b):
        return len(vocab[a] & vocab[b]) / len(vocab[a] | vocab[b])

    ids = sorted(vocab)
    same_type, same_family, other = [], [], []
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            da, db = info[a], info[b]
            if da.type == db.type:
                same_type.append(jaccard(a, b))
            elif da.family == db.family:
                same_family.append(jaccard(a, b))
            else:
                other.append(jaccard(a, b))
    assert same_type and same_family
    assert np.mean(same_type) > 0.3
    assert np.mean(same_type) > np.mean(same_family) > 2 * np.mean(other)


def test_taxonomy_is_deterministic_by_seed(tmp_path):
    a, b, c = (tmp_path / f"{n}.parquet" for n in "abc")
    for path, seed in ((a, 42), (b, 42), (c, 43)):
        generate_catalogue(path, 2_400, seed, domains=100, chunk_rows=1_000)
    assert a.read_bytes() == b.read_bytes()
    assert pq.ParquetFile(a).metadata.num_row_groups == 3  # streamed, one group per chunk
    ta, tc = _read(a), _read(c)
    assert (ta.title == tc.title).mean() < 0.05
    assert ta.domain.value_counts().to_dict() == tc.domain.value_counts().to_dict()


def test_taxonomy_keeps_languages_and_label_noise(taxonomy_5k, tmp_path):
    _, summary, df = taxonomy_5k
    assert abs((df.language == "es").mean() - 0.3) < 0.03
    titles = df.title.map(_norm)
    es, pt = titles[df.language == "es"], titles[df.language == "pt"]
    assert es.str.contains("envio gratis").mean() > 0.02
    assert not pt.str.contains("envio gratis").any()
    assert 0.01 < summary["label_noise_rows"] / TAX_ROWS < 0.03
    clean = generate_catalogue(tmp_path / "c.parquet", TAX_ROWS, SEED, domains=TAX_DOMAINS)
    # Noise moves titles, not labels, so the floor holds exactly whatever the noise.
    assert clean["per_domain"] == summary["per_domain"]


def test_taxonomy_batches_and_shifts(tmp_path):
    ids = set(domain_ids(TAX_DOMAINS))
    out = {}
    for shift in ("none", "unseen_domain", "new_brands", "language_switch"):
        path = tmp_path / f"{shift}.parquet"
        generate_batch(path, 2_000, SEED, shift=shift, domains=TAX_DOMAINS, catalogue_rows=TAX_ROWS)
        out[shift] = _read(path)
    assert set(out["none"].domain) <= ids
    unseen = ~out["unseen_domain"].domain.isin(ids)
    assert 0.25 < unseen.mean() < 0.35
    assert out["unseen_domain"].domain[unseen].str.fullmatch(r"MLB-[A-Z_]+").all()
    assert (out["language_switch"].language == "es").mean() > 0.8
    assert not out["none"].title.str.contains("Velmora|Kastrel|Novanti").any()
    assert out["new_brands"].title.str.contains("Velmora|Kastrel|Novanti").mean() > 0.05


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"domains": 1}, "domains"),
        ({"domains": 10**6}, "domains"),
        ({"domains": 2.5}, "domains"),
        ({"domains": 1_000, "rows": 22_999}, "rows"),
        ({"domains": 200, "min_rows_per_domain": 0}, "min_rows_per_domain"),
    ],
)
def test_taxonomy_bad_arguments_raise_one_line(tmp_path, kwargs, name):
    path = tmp_path / "catalogue.parquet"
    with pytest.raises(ValueError, match=name) as info:
        generate_catalogue(path, **{"rows": 10_000, "seed": 1, **kwargs})
    assert "\n" not in str(info.value)
    assert not path.exists()


def test_stage_refuses_impossible_sizes_naming_the_param():
    from domain_classifier.errors import InputError
    from stages.demo import DemoParams, check_size

    check_size(DemoParams(rows=23_000, domains=1_000), 20)
    check_size(DemoParams(rows=100, domains=32), 20)  # the default keeps today's freedom
    with pytest.raises(InputError, match=r"demo\.rows.*23000.*demo\.domains=1000"):
        check_size(DemoParams(rows=22_999, domains=1_000), 20)
    with pytest.raises(InputError, match=r"demo\.domains"):
        check_size(DemoParams(domains=catalogue.max_domains() + 1), 20)
    with pytest.raises(InputError, match=r"demo\.domains"):
        DemoParams(domains=1).check("demo")
