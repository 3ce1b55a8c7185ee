"""Stage train_mlp: tune, fit and save the mlp family (domain_classifier/families/mlp.py)."""

from domain_classifier.families import mlp
from domain_classifier.training import training_command

main = training_command(mlp.FAMILY)

if __name__ == "__main__":
    main()
