"""Predict opens only models the pipeline recorded (dvc.lock's hash), unless told to trust one,
and never builds a type outside the trusted list, trusted or not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pandas as pd
import yaml

from domain_classifier.models.integrity import directory_md5, locked_model_hashes
from tests.support.data import ROOT

TITLES = ["Shampoo Anticaspa 400ml", "Capinha iPhone 15 Silicone"]


def predict(model_dir, tmp_path, *extra, project=ROOT):
    source = tmp_path / "batch.parquet"
    pd.DataFrame({"title": TITLES}).to_parquet(source)
    out = tmp_path / "scored.parquet"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "stages.predict", "--model", str(model_dir)]
        + ["--input", str(source), "--output", str(out), *extra],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    return done, out


def write_lock(project, md5: str) -> None:
    lock = {
        "schema": "2.0",
        "stages": {"train_sgd": {"outs": [{"path": "models/sgd", "md5": md5}]}},
    }
    project.mkdir(exist_ok=True)
    (project / "dvc.lock").write_text(yaml.safe_dump(lock))
    params = {"predict": {"input": "batch.parquet", "output": "scored.parquet"}}
    (project / "params.yaml").write_text(yaml.safe_dump(params))


def test_directory_hash_is_dvcs(saved_sgd_dir, tmp_path):
    # The value dvc.lock records for the same folder, from DVC itself: `dvc add` it.
    copy = tmp_path / "repo" / "model"
    shutil.copytree(saved_sgd_dir, copy)
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run([*dvc, "init", "--no-scm", "-q"], cwd=copy.parent, check=True)
    subprocess.run([*dvc, "add", "-q", "model"], cwd=copy.parent, check=True)
    recorded = yaml.safe_load((copy.parent / "model.dvc").read_text())["outs"][0]["md5"]
    assert directory_md5(saved_sgd_dir) == recorded


def test_a_model_folder_dvc_lock_records_is_scored(saved_sgd_dir, tmp_path):
    write_lock(tmp_path / "project", directory_md5(saved_sgd_dir))
    assert locked_model_hashes(tmp_path / "project/dvc.lock") == {
        "models/sgd": directory_md5(saved_sgd_dir)
    }
    done, out = predict(saved_sgd_dir, tmp_path, project=tmp_path / "project")
    assert done.returncode == 0, done.stderr
    assert pd.read_parquet(out)["predicted_domain"].tolist() == [
        "MLB-SHAMPOOS",
        "MLB-CELLPHONE_COVERS",
    ]


def test_a_folder_from_elsewhere_is_refused_in_one_line_unless_trusted(saved_sgd_dir, tmp_path):
    write_lock(tmp_path / "project", "0123456789abcdef0123456789abcdef.dir")
    done, out = predict(saved_sgd_dir, tmp_path, project=tmp_path / "project")
    assert done.returncode == 1 and not out.exists()
    (line,) = done.stderr.strip().splitlines()
    md5 = directory_md5(saved_sgd_dir)
    assert line.startswith(f"Error: {saved_sgd_dir}: its hash {md5} is not one dvc.lock records")
    assert line.endswith("pass --trust if you trust it")
    done, out = predict(saved_sgd_dir, tmp_path, "--trust", project=tmp_path / "project")
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(out)) == 2


def test_a_crafted_model_file_is_refused_even_when_trusted(saved_sgd_dir, tmp_path):
    module, name = "subprocess", "Popen"
    crafted = tmp_path / "crafted"
    shutil.copytree(saved_sgd_dir, crafted)
    with zipfile.ZipFile(saved_sgd_dir / "model.skops") as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    # The file names a callable that runs code when built, where the vectorizer's settings were.
    entries["schema.json"] = (
        entries["schema.json"]
        .decode()
        .replace('"TextSettings"', f'"{name}"')
        .replace('"domain_classifier.features.text"', f'"{module}"')
        .encode()
    )
    with zipfile.ZipFile(crafted / "model.skops", "w") as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    done, out = predict(crafted, tmp_path, "--trust")
    assert done.returncode == 1 and not out.exists()
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: {crafted / 'model.skops'}: refused, it contains types")
    assert f"{module}.{name}" in line
