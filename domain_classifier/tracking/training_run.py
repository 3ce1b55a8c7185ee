"""The MLflow run of one training stage: params, quality, confusion, trials, the model."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from domain_classifier.data.schema import DOMAIN, TITLE
from domain_classifier.data.tables import read_table
from domain_classifier.evaluation.metrics import evaluate_split
from domain_classifier.models.pyfunc import log_title_model
from domain_classifier.store.client import MODEL_MD5_TAG, MlflowParams
from domain_classifier.tracking.lineage import log_lineage, stage_record
from domain_classifier.tracking.runs import flat_params, owned_run
from domain_classifier.training import flat_history

# Past this many domains a count matrix is one bright cell per row: rows are normalised.
NORMALISE_ABOVE = 12
# 0.35 in a domain, up to a 30 in square: at 1,000 domains an uncapped figure was a
# 35,000-pixel square and rendering it took train_sgd's memory past 23 GiB.
INCHES_PER_DOMAIN, MAX_INCHES = 0.35, 30.0
# Past this many domains the names overlap: the per-domain table names them instead.
NAMED_UP_TO = 100


def confusion_figure(actual, predicted, labels: list[str], normalize: str | None = None):
    """The confusion matrix as a figure; `normalize="true"` divides each actual row by its sum."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a build machine
    from sklearn.metrics import ConfusionMatrixDisplay

    size = min(max(6.0, INCHES_PER_DOMAIN * len(labels)), MAX_INCHES)
    display = ConfusionMatrixDisplay.from_predictions(
        actual,
        predicted,
        labels=labels,
        normalize=normalize,
        include_values=len(labels) <= NORMALISE_ABOVE,
        values_format=".2f" if normalize else None,
        xticks_rotation="vertical",
        colorbar=False,
    )
    if len(labels) > NAMED_UP_TO:
        display.ax_.set(xticks=[], yticks=[])
    display.figure_.set_size_inches(size, size)
    display.figure_.tight_layout()
    return display.figure_


def confusion_views(split: str, domains: int) -> list[tuple[str, str | None]]:
    """(artifact name, normalize) of each matrix logged for a split: normalised rows by
    default past NORMALISE_ABOVE domains, the counts still beside them."""
    if domains <= NORMALISE_ABOVE:
        return [(split, None)]
    return [(split, "true"), (f"{split}_counts", None)]


def log_quality(model, split_dir: Path) -> None:
    """Validation and test metrics, per-domain report and confusion matrix of the active run."""
    import matplotlib.pyplot as plt
    import mlflow

    for split in ("val", "test"):
        frame = read_table(Path(split_dir) / f"{split}.parquet", [TITLE, DOMAIN])
        summary, per_domain, confusion = evaluate_split(model, frame, split)
        mlflow.log_metrics({f"{split}_{k}": v for k, v in summary.items() if k != "rows"})
        mlflow.log_table(per_domain, f"per_domain/{split}.json")
        for name, normalize in confusion_views(split, len(model.labels)):
            figure = confusion_figure(
                confusion["actual"], confusion["predicted"], model.labels, normalize
            )
            mlflow.log_figure(figure, f"confusion/{name}.png")
            plt.close(figure)


def log_training(
    params: MlflowParams,
    *,
    family,
    model,
    model_dir,
    best: dict,
    history,
    section,
    split_dir,
    seconds: float,
) -> str:
    """One MLflow run for the training stage of `family` (a Family); returns its run id.

    Called as soon as training has saved its outputs, `seconds` after it began: the run
    starts and ends when the training did, so the UI's Duration is the training's, not the
    logging's. Wall-clock times go to MLflow only, never into a DVC output."""
    import mlflow

    ended = time.time()
    family, score = family.name, family.tuning_score
    stage = f"train_{family}"
    record = stage_record(stage)
    model_md5 = (record or {}).get("outs", {}).get(str(model_dir), "")
    tags = {"family": family, MODEL_MD5_TAG: model_md5}
    with owned_run(
        start_time=ended - seconds, experiment=params.experiment, run_name=family, tags=tags
    ) as run:
        log_lineage(record, stage)
        mlflow.log_params(flat_params({stage: dataclasses.asdict(section), "best": best}))
        mlflow.log_metric(score, float(history["accuracy"].max()))
        for trial, accuracy in enumerate(history["accuracy"]):
            mlflow.log_metric("trial_accuracy", float(accuracy), step=trial)
        mlflow.log_table(flat_history(history), "trials.json")
        log_quality(model, split_dir)
        mlflow.set_tag("model_uri", log_title_model(model_dir, tags=tags))
        mlflow.log_metric("seconds_training", seconds)
    mlflow.MlflowClient().set_terminated(run.info.run_id, "FINISHED", round(ended * 1000))
    return run.info.run_id
