"""TensorFlow's C++ start-up notices, kept out of every command's output.

Importing TensorFlow writes absl and oneDNN notices from C++ straight to file descriptor 2
("WARNING: All log messages before absl::InitializeLog() is called…", "I0000 … oneDNN custom
operations are on…", the CPU-instructions notice). absl prints them before it reads any
setting, so neither TF_CPP_MIN_LOG_LEVEL nor ABSL_MIN_LOG_LEVEL hides them, and the one switch
TensorFlow names (TF_ENABLE_ONEDNN_OPTS=0) changes the kernels, and so the models. So the first
import runs with descriptor 2 sent to a file; the notices are dropped and anything else it
printed (a Python warning, a fatal log line) is written back.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

# absl's info, warning and error lines ("I0000 00:00:1796682120.788246 5281 port.cc:153] …")
# and the two notices that are not in its format. A fatal line (F…) is kept.
NOTICE = re.compile(
    r"^(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .* rebuild TensorFlow)"
)


def install() -> None:
    """Quiet TensorFlow's first import in this process, whoever imports it (Keras, keras-tuner,
    MLflow's loaders); a no-op once TensorFlow is imported or the hook is in place.

    After the import, TF_CPP_MIN_LOG_LEVEL 3 hides the C++ lines TensorFlow logs while it
    runs, ERROR included: on CPUs it logs as errors notices such as "oneDNN supports DT_BOOL
    only on platforms with AVX-512", while its real failures reach Python as exceptions."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # a level the user set wins
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietImport) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietImport())


def kept_lines(text: str) -> str:
    """What the import wrote to descriptor 2, less TensorFlow's start-up notices."""
    return "".join(line for line in text.splitlines(keepends=True) if not NOTICE.match(line))


@contextlib.contextmanager
def descriptor_2_filtered():
    """Send descriptor 2 to a file for the block, then write back what `kept_lines` keeps."""
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as caught:
        saved = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = kept_lines(caught.read().decode("utf-8", "replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` as the other finders do, and wraps its loader once."""

    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # one import only; the search below skips this finder
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with descriptor_2_filtered():
            self._loader.exec_module(module)

    def __getattr__(self, name):  # resource readers and the like, as the real loader has them
        return getattr(self._loader, name)
