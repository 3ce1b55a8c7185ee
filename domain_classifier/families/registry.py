"""The one family registry: every stage, `select`, evaluate and the tests iterate it.

A family is one line here naming the module that declares its `FAMILY`. Modules load on
first use, so listing the families imports neither scikit-learn nor TensorFlow.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from domain_classifier.errors import InputError
from domain_classifier.families.family import Family
from domain_classifier.model_store import TitleModel, read_meta

MODULES = {
    "sgd": "domain_classifier.families.sgd",
    "svm": "domain_classifier.families.svm",
    "hgb": "domain_classifier.families.hgb",
    "xgb": "domain_classifier.families.xgb",
    "rnn": "domain_classifier.families.rnn",
    "lstm": "domain_classifier.families.lstm",
    "mlp": "domain_classifier.families.mlp",
}


def names() -> tuple[str, ...]:
    return tuple(MODULES)


def get(name: str) -> Family:
    if name not in MODULES:
        raise InputError(f"unknown model family {name!r} (known: {', '.join(MODULES)})")
    return importlib.import_module(MODULES[name]).FAMILY


def load_model(directory: Path | str) -> TitleModel:
    """Load a saved model of any registered family."""
    from domain_classifier.evaluation.calibration import CalibratedModel
    from domain_classifier.evaluation.ensemble import ENSEMBLE, EnsembleModel, member_dirs

    meta = read_meta(directory)
    if meta.get("family") == ENSEMBLE:  # select's averaged candidate: members in subfolders
        members = [load_model(member) for member in member_dirs(directory, meta)]
        return CalibratedModel.wrap(EnsembleModel(members), directory)
    family = get(meta.get("family", ""))
    if meta.get("format") != family.model.format:
        raise InputError(
            f"{Path(directory) / 'meta.json'}: format {meta.get('format')!r} is "
            f"not the {family.name} family's {family.model.format!r}"
        )
    try:
        # The champion's folder also holds its calibration (select): probabilities everywhere
        # it is loaded (predict, classify, serve, the pyfunc, Spark) are the calibrated ones.
        return CalibratedModel.wrap(family.model.load(Path(directory)), directory)
    except InputError:
        raise
    except Exception as exc:  # truncated or foreign files fail in many libraries' own ways
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"{directory}: cannot load the {family.name} model ({reason})") from None
