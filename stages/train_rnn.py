"""Stage train_rnn: tune, fit and save the rnn family (domain_classifier/families/rnn.py)."""

from domain_classifier.families import rnn
from domain_classifier.training import training_command

main = training_command(rnn.FAMILY)

if __name__ == "__main__":
    main()
