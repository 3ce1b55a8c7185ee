"""Stage train_sgd: tune, fit and save the sgd family (domain_classifier/families/sgd.py)."""

from domain_classifier.families import sgd
from domain_classifier.training import training_command

main = training_command(sgd.FAMILY)

if __name__ == "__main__":
    main()
