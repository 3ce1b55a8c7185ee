"""The one family registry: every stage, `select`, evaluate, model loading and the tests
iterate it.

A family is one line here naming the module that declares its `FAMILY`. Modules load on
first use, so listing the families imports neither scikit-learn nor TensorFlow.
"""

from __future__ import annotations

import importlib

from domain_classifier.errors import InputError
from domain_classifier.families.family import Family

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
