"""Stage train_lstm: Bayesian-tune an LSTM on token sequences, save it with its text steps."""
from domain_classifier.stage import training_command

main = training_command("lstm")

if __name__ == "__main__":
    main()
