"""Stage train_xgb: Bayesian-tune early-stopped XGBoost on TF-IDF features and save it."""
from domain_classifier.stage import training_command

main = training_command("xgb")

if __name__ == "__main__":
    main()
