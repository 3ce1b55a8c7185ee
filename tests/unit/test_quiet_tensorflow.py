import os
import subprocess
import sys

from domain_classifier.quiet_tensorflow import kept_lines

NOTICES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796682120.788246    5281 port.cc:153] oneDNN custom operations are on.\n"
    "I0000 00:00:1796682120.858736    5281 cpu_feature_guard.cc:227] This TensorFlow binary\n"
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
    "with the appropriate compiler flags.\n"
)


def test_notices_are_dropped_and_everything_else_kept():
    other = "UserWarning: something a user should read\nF0000 00:00:1.2 7 x.cc:1] fatal\n"
    assert kept_lines(NOTICES + other) == other


# A masked LSTM, as the lstm family's: on CPUs TensorFlow logs "E0000 ... oneDNN supports
# DT_BOOL only on platforms with AVX-512" while it runs, after the import.
LSTM = """
import numpy as np, keras
model = keras.Sequential([keras.Input((4,)), keras.layers.Embedding(10, 4, mask_zero=True),
                          keras.layers.LSTM(3)])
print(model.predict(np.array([[1, 2, 0, 0]]), verbose=0).shape)
"""


def test_tensorflow_after_the_stage_module_prints_nothing_at_import_or_while_running():
    code = "import domain_classifier.stage\n" + LSTM
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 3)"
    assert done.stderr == ""


def test_tensorflow_alone_still_prints_its_notices():
    """The check above can fail: without the hook the notices are there."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", LSTM], capture_output=True, text=True, env=env)
    assert "oneDNN" in done.stderr or "absl::InitializeLog" in done.stderr
