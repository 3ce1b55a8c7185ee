"""Stage train_xgb: tune, fit and save the xgb family (domain_classifier/families/xgb.py)."""

from domain_classifier.families import xgb
from domain_classifier.training import training_command

main = training_command(xgb.FAMILY)

if __name__ == "__main__":
    main()
