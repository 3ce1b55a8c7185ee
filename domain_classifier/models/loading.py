"""The one way to open a saved model folder of any family (or select's ensemble of them),
calibrated where its folder says how. For scoring, which also checks where the folder came
from, see fetch.py."""

from __future__ import annotations

from pathlib import Path

from domain_classifier.errors import InputError
from domain_classifier.families import registry
from domain_classifier.models.calibrated import CalibratedModel
from domain_classifier.models.ensemble import ENSEMBLE, EnsembleModel, member_dirs
from domain_classifier.models.saved import TitleModel, read_meta


def load_model(directory: Path | str) -> TitleModel:
    """Load a saved model of any registered family (or select's ensemble of them)."""
    meta = read_meta(directory)
    if meta.get("family") == ENSEMBLE:  # select's averaged candidate: members in subfolders
        members = [load_model(member) for member in member_dirs(directory, meta)]
        return CalibratedModel.wrap(EnsembleModel(members), directory)
    family = registry.get(meta.get("family", ""))
    if meta.get("format") != family.model.format:
        raise InputError(
            f"{Path(directory) / 'meta.json'}: format {meta.get('format')!r} is "
            f"not the {family.name} family's {family.model.format!r}"
        )
    try:
        # The champion's folder also holds its calibration (select): probabilities everywhere
        # it is loaded (predict, classify, serve, the pyfunc, Spark) are the calibrated ones.
        return CalibratedModel.wrap(family.model.load(Path(directory), meta), directory)
    except InputError:
        raise
    except Exception as exc:  # truncated or foreign files fail in many libraries' own ways
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"{directory}: cannot load the {family.name} model ({reason})") from None
