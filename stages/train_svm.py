"""Stage train_svm: tune, fit and save the svm family (domain_classifier/families/svm.py)."""

from domain_classifier.families import svm
from domain_classifier.training import training_command

main = training_command(svm.FAMILY)

if __name__ == "__main__":
    main()
