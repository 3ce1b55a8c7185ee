"""lstm: Embedding -> LSTM (optionally bidirectional) -> softmax over token ids."""

from domain_classifier.families.recurrent import recurrent_family

FAMILY = recurrent_family("lstm", "LSTM")
