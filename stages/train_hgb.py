"""Stage train_hgb: Bayesian-tune histogram gradient boosting on reduced TF-IDF; save it."""
from domain_classifier.stage import training_command

main = training_command("hgb")

if __name__ == "__main__":
    main()
