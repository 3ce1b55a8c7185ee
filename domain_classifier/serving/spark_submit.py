"""The predict stage as a file for `spark-submit`, which runs its script by path.

A script run by path has its own folder first on sys.path; from `stages/`, `select.py` and
`tokenize.py` would shadow the standard library's modules of those names. This folder shadows
nothing, and the project root comes from PYTHONPATH (README: Scoring on Spark).
"""

from stages.predict import main

if __name__ == "__main__":
    main()
