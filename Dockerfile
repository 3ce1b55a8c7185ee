# The environment and the code; the project is the folder you mount at /work (a clone of this
# repository), the working directory. `train`, `predict` and `serve` each run in a new
# container, so they meet through that folder: models/, mlflow.db, mlruns/ and .dvc/cache land
# there, owned by you (--user), and stay after the container is gone.
#   docker build -t domain-classifier .
#   docker run --rm -v "$PWD":/work --user "$(id -u):$(id -g)" domain-classifier train
#   docker run --rm -p 5000:5000 -v "$PWD":/work --user "$(id -u):$(id -g)" \
#       domain-classifier serve --host 0.0.0.0
# The environment comes only from uv.lock (uv sync --frozen), as `make venv` builds it; rebuild
# the image when uv.lock changes. No uv cache is kept in the image (it would double its size).
FROM python:3.11-slim-bookworm

# git: DVC keeps the pipeline's state beside the clone's git repository. The mounted clone
# belongs to the host user; git (and libgit2) refuse a repository of another owner ("dubious
# ownership") unless it is a safe.directory: the container sees only what was mounted.
# tini: the command is not PID 1, which ignores SIGTERM, so `docker stop` ends `serve` at once
# (not after 10 s and a SIGKILL), and Ctrl+C reaches its whole process group, as in a terminal.
RUN apt-get update && apt-get install -y --no-install-recommends git tini \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*' \
    && pip install --no-cache-dir "uv==0.13.8" \
    && useradd --uid 1000 --no-create-home --home-dir /tmp app

# The environment lives outside /work, so the mount does not hide it; root owns it, read-only
# to whoever runs the container.
WORKDIR /opt/domain-classifier
ENV UV_PROJECT_ENVIRONMENT=/opt/domain-classifier/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock README.md LICENSE ./
RUN uv sync --frozen --no-dev --no-install-project

COPY domain_classifier ./domain_classifier
RUN uv sync --frozen --no-dev --no-editable

# PYTHONPATH: the mounted clone's domain_classifier comes first, as an editable install does on
# the host, so the console script runs the same code as the stages DVC starts in /work (the
# installed copy answers when nothing is mounted).
# HOME, USER: any --user uid, one the image does not know included, gets a writable home
# (Keras, Matplotlib) and a user name (DVC and MLflow ask for one).
ENV PATH=/opt/domain-classifier/.venv/bin:$PATH \
    PYTHONPATH=/work \
    HOME=/tmp \
    USER=app

WORKDIR /work
USER app
# serve (MLflow scoring server) and ui (MLflow UI): pass --host 0.0.0.0 and publish with -p.
EXPOSE 5000 2020
ENTRYPOINT ["tini", "-g", "--", "domain-classifier"]
CMD ["--help"]
