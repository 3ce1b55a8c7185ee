"""The types a saved scikit-learn model may contain beyond skops' defaults (plain Python,
NumPy, SciPy and the scikit-learn estimators skops trusts by itself).

skops loads a model file without running code from it, building only the types its loader is
told to trust; this list is what the TF-IDF families (sgd, hgb, xgb) and their vectorizer
really save (`skops.io.get_untrusted_types` on each, checked by tests/unit/test_archives.py).
A type is listed only if loading it builds data, never code a file could choose:
"""

VECTORIZER_TYPES = (
    # The project's own classes: attributes only, set without running their code.
    "domain_classifier.features.text.TextSettings",
    "domain_classifier.features.tokenize.TitleVectorizer",
)
MODEL_TYPES = (
    *VECTORIZER_TYPES,
    "domain_classifier.families.classical.SklearnTitleModel",
    "domain_classifier.families.softmax.SoftmaxRegression",
    "domain_classifier.families.svm.ProbabilisticLinearSVC",
    "domain_classifier.families.xgb.EarlyStoppingXGB",
    # Module-level functions the pipelines name (a file can only name these exact ones).
    "domain_classifier.families.hgb.to_dense",
    "sklearn.feature_selection._univariate_selection.chi2",
    # Fitted trees held as arrays. A crafted file can put out-of-range node indices in them
    # (a crash, not code): why model folders are also checked against dvc.lock's hashes.
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
)
