"""The benchmark drivers, beside the results they write (*.json, *.png): run from the project
root as `python -m benchmarks.<name>` (or `make benchmark-*`). Not part of the installed
package, the container image or the model logged to MLflow."""
