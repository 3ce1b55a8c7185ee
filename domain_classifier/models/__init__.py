"""The saved model: one interface (raw titles in, domain probabilities out), how it is saved,
loaded, calibrated, averaged, checked against dvc.lock and fetched from the MLflow store.
Families make models; evaluation, serving and tracking use them through this package."""
