"""Stage train_lstm: tune, fit and save the lstm family (domain_classifier/families/lstm.py)."""

from domain_classifier.families import lstm
from domain_classifier.training import training_command

main = training_command(lstm.FAMILY)

if __name__ == "__main__":
    main()
