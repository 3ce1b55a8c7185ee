# The console script in a container: `train` (= dvc repro), `predict`, `serve`, `classify`.
#   docker build -t domain-classifier .
#   docker run --rm domain-classifier train
#   docker run --rm -p 5000:5000 domain-classifier serve --host 0.0.0.0
# The environment comes only from uv.lock (uv sync --frozen), as `make venv` builds it; no
# uv cache is kept in the image (it would double its size).
FROM python:3.11-slim-bookworm

# git: DVC keeps its pipeline state (dvc.lock, run cache) in a git repository.
RUN apt-get update && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir "uv==0.13.8" \
    && useradd --create-home --uid 1000 app

USER app
WORKDIR /home/app/project
ENV UV_PROJECT_ENVIRONMENT=/home/app/project/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_NO_CACHE=1 \
    PATH=/home/app/project/.venv/bin:$PATH

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY --chown=app:app pyproject.toml uv.lock README.md LICENSE ./
RUN uv sync --frozen --no-dev --no-install-project

COPY --chown=app:app . .
RUN uv sync --frozen --no-dev \
    && git init -q -b main \
    && git add -A \
    && git -c user.name=image -c user.email=image@localhost commit -qm "project as built"

ENTRYPOINT ["domain-classifier"]
CMD ["--help"]
