"""Stage train_rnn: Bayesian-tune a SimpleRNN on token sequences, save it with its text steps."""
from domain_classifier.stage import training_command

main = training_command("rnn")

if __name__ == "__main__":
    main()
