"""Stage train_sgd: Bayesian-tune an SGDClassifier on TF-IDF features and save it."""
from domain_classifier.stage import training_command

main = training_command("sgd")

if __name__ == "__main__":
    main()
