"""MLflow "model from code" entry point: loading runs this file instead of unpickling a class."""

from mlflow.models import set_model

from domain_classifier import quiet_tensorflow
from domain_classifier.models.pyfunc import TitleClassifier

# The scoring server and Spark's workers load the model here, outside any command of ours.
quiet_tensorflow.install()

set_model(TitleClassifier())
