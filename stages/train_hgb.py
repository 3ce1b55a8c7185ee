"""Stage train_hgb: tune, fit and save the hgb family (domain_classifier/families/hgb.py)."""

from domain_classifier.families import hgb
from domain_classifier.training import training_command

main = training_command(hgb.FAMILY)

if __name__ == "__main__":
    main()
