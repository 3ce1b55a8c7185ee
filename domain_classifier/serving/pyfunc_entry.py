"""MLflow "model from code" entry point: loading runs this file instead of unpickling a class."""

from mlflow.models import set_model

from domain_classifier.serving.pyfunc import TitleClassifier

set_model(TitleClassifier())
