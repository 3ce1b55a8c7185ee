import pytest

from domain_classifier.data.ingest import DataParams, ingest
from domain_classifier.errors import InputError
from tests.support.data import MELI_COLUMNS, MELI_SAMPLE, needs_meli


def params_for(path, **kw):
    return DataParams(source=str(path), **kw)


def test_reads_csv_and_parquet_into_canonical_columns(tmp_path, small_catalogue):
    csv = tmp_path / "items.csv"
    renamed = small_catalogue.rename(columns={"title": "T", "domain": "D"})
    renamed.to_csv(csv, index=False)
    renamed.to_parquet(tmp_path / "items.parquet")
    for path in (csv, tmp_path / "items.parquet"):
        frame = ingest(params_for(path, text_column="T", label_column="D"))
        assert list(frame.columns) == ["title", "domain"]
        assert frame["title"].tolist() == small_catalogue["title"].tolist()


@needs_meli
def test_reads_the_real_sample_by_column_params():
    frame = ingest(params_for(MELI_SAMPLE, **MELI_COLUMNS))
    assert len(frame) == 5000
    assert frame["domain"].nunique() == 3


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "file not found"),
        (b"", "file is empty"),
        (b"title,domain\n", "table has no rows"),
        (b"name,domain\nx,a\ny,b\n", "no column 'title'"),
        (b"title,domain\n\xff\xfe bad,a\nok,b\n", "not valid UTF-8"),
        (b"title,domain\nfoo,a\n  ,b\nbar,b\n", "1 null or blank titles .data rows 2."),
        (b"title,domain\nfoo,a\nbar,\n", "null or blank labels"),
        (b"title,domain\nfoo,a\nbar,a\n", "single domain 'a'"),
    ],
)
def test_bad_input_gets_one_clear_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "items.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        ingest(params_for(path))
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_blank_titles_can_be_dropped_by_param(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("title,domain\nfoo,a\n ,b\nbar,b\n")
    frame = ingest(params_for(path, drop_blank_titles=True))
    assert frame["title"].tolist() == ["foo", "bar"]


def test_unsupported_format_is_named(tmp_path):
    path = tmp_path / "items.xlsx"
    path.write_text("x")
    with pytest.raises(InputError, match="unsupported table format '.xlsx'"):
        ingest(params_for(path))
