"""`domain-classifier`: the project's commands for a person, from any directory.

The project (its params.yaml, MLflow store and registered champion) is the folder holding
dvc.yaml at or above the current one, or the one --project or DOMAIN_CLASSIFIER_PROJECT names;
paths a user types (INPUT, OUTPUT, --model, --params) are relative to the current directory.
Heavy libraries (pandas, MLflow, TensorFlow) are imported inside the commands, so `--help`
answers at once.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from domain_classifier.project import ENV_VAR, find_project, no_project_advice
from domain_classifier.stage import TRUST_OPTION, stage

PROJECT = "domain_classifier.project"  # ctx.meta key: the project folder found, or None


def _project_params(ctx, param, value):
    """--params as given; by default the project's params.yaml. Outside a project: a
    params.yaml here if there is one, else None (the defaults)."""
    root = ctx.meta.get(PROJECT)
    if ctx.get_parameter_source(param.name) is not ParameterSource.DEFAULT:
        if root is None:  # the project the given file belongs to, for its relative store
            _use_project(ctx, find_project(Path(value).parent))
        return value
    if root is not None:
        return str(root / "params.yaml")
    return value if Path(value).is_file() else None


PARAMS_OPTION = click.option(
    "--params",
    "params_file",
    default="params.yaml",
    type=click.Path(dir_okay=False),
    callback=_project_params,
    help="Params file to read.  [default: the project's params.yaml]",
)

CHAMPION = "models:/domain-classifier@champion"
MODEL_OPTION = click.option(
    "--model",
    "model_ref",
    default=CHAMPION,
    show_default=True,
    help="A model directory (e.g. models/champion), or an MLflow model URI.",
)
HOST_OPTION = click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
# Child processes (mlflow, dvc, uvicorn) come from this interpreter's environment, even
# when that environment's bin/ is not on the caller's PATH.
BIN = Path(sys.executable).parent


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="domain-classifier")
@click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=ENV_VAR,
    show_envvar=True,
    help="The project folder (holding dvc.yaml and params.yaml): its params, MLflow store "
    "and champion are the defaults.  [default: the one the current folder is in]",
)
@click.pass_context
def cli(ctx, project_dir):
    """Sort marketplace listing titles into product domains."""
    root = find_project(project_dir)
    if project_dir is not None and root is None:
        from_env = ctx.get_parameter_source("project_dir") is ParameterSource.ENVIRONMENT
        raise click.ClickException(
            f"{f'{ENV_VAR}=' if from_env else '--project '}{project_dir}: not a project folder "
            "(no dvc.yaml and params.yaml in it or above it)"
        )
    _use_project(ctx, root)


def _use_project(ctx, root: Path | None) -> None:
    """The project for this command only: a command invoked in-process (a test, a notebook)
    leaves the library's project as it found it."""
    from domain_classifier.store.client import use_project

    ctx.meta[PROJECT] = root
    use_project(root)
    ctx.call_on_close(lambda: use_project(None))


@cli.command()
@click.argument("titles", nargs=-1, required=True)
@MODEL_OPTION
@click.option(
    "--top-k",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many candidate domains to show per title.",
)
@PARAMS_OPTION
@TRUST_OPTION
@stage
def classify(titles, model_ref, top_k, params_file, trust):
    """Print the domain, its probability and the top-k candidates of each TITLE."""
    from domain_classifier.models.fetch import load_scoring_model

    model = load_scoring_model(_existing_champion(model_ref, params_file), params_file, trust)
    for line in classify_lines(model, list(titles), top_k):
        click.echo(line)


def classify_lines(model, titles: list[str], top_k: int) -> list[str]:
    """One tab-separated line per title: domain, probability, top-k candidates, title."""
    import pandas as pd

    from domain_classifier.models.scoring import score_chunk

    k = min(top_k, len(model.labels))
    scored, _ = score_chunk(model, pd.DataFrame({"title": titles}), "title", k)
    lines = []
    for row in scored.itertuples(index=False):
        row = row._asdict()
        if pd.isna(row["predicted_domain"]):  # a blank title: no prediction, blank fields
            lines.append(f"\t\t\t{row['title']}")
            continue
        top = ", ".join(
            f"{row[f'top{r}_domain']} {row[f'top{r}_probability']:.3f}" for r in range(1, k + 1)
        )
        lines.append(f"{row['predicted_domain']}\t{row['probability']:.3f}\t{top}\t{row['title']}")
    return lines


def _existing_champion(model_ref: str, params_file) -> str:
    """The default model, checked without creating a tracking store where there is none."""
    if model_ref == CHAMPION:
        _champion_params(params_file)
    return model_ref


def _champion_params(params_file):
    from domain_classifier.store.client import MlflowParams
    from domain_classifier.tracking.registry import require_champion

    params = section_params(MlflowParams, "mlflow", params_file)
    require_champion(params)
    return params


def section_params(cls, section: str, params_file, **given):
    """A params section; outside a project with no params file, the defaults. The store's
    too only where MLFLOW_TRACKING_URI names one: else the project is missing."""
    from domain_classifier.errors import InputError
    from domain_classifier.params import load_section

    if params_file is not None:
        return load_section(cls, section, params_file)
    if section == "mlflow" and not os.environ.get("MLFLOW_TRACKING_URI"):
        raise InputError(no_project_advice(click.get_current_context().info_name))
    return cls(**given)


@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@click.argument("output_path", metavar="OUTPUT", type=click.Path(dir_okay=False))
@MODEL_OPTION
@PARAMS_OPTION
@TRUST_OPTION
@stage
def predict(input_path, output_path, model_ref, params_file, trust):
    """Score the titles of INPUT (CSV or Parquet) into OUTPUT, one row per input row.

    The title column, top-k and chunk size come from the params file's predict section.
    """
    from domain_classifier.serving.batch import predict_batch, with_paths
    from domain_classifier.serving.predict import PredictParams

    paths = {"input": input_path, "output": output_path}
    params = section_params(PredictParams, "predict", params_file, **paths)
    params = with_paths(params, input_path, output_path)
    model_ref = _existing_champion(model_ref, params_file)
    click.echo(predict_batch(params, model_ref, params_file, trust))


@cli.command()
@HOST_OPTION
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
@PARAMS_OPTION
@stage
def serve(host, port, params_file):
    """Serve the registered champion over HTTP (MLflow scoring server, POST /invocations)."""
    from domain_classifier.store.client import champion_uri

    _require_free(host, port)
    params = _champion_params(params_file)
    _run_tool(
        [
            "mlflow",
            "models",
            "serve",
            "-m",
            champion_uri(params),
            "--env-manager",
            "local",
            "-h",
            host,
            "-p",
            str(port),
        ],
        MLFLOW_TRACKING_URI=params.uri,
    )


@cli.command()
@HOST_OPTION
@click.option("--port", default=2020, show_default=True, help="Port to listen on.")
@PARAMS_OPTION
@stage
def ui(host, port, params_file):
    """Open the MLflow UI on the training runs, with validation and test macro-F1 columns."""
    from domain_classifier.store.client import MlflowParams
    from domain_classifier.tracking.runs import runs_page

    _require_free(host, port)
    params = section_params(MlflowParams, "mlflow", params_file)
    click.echo(f"training runs: http://{host}:{port}/{runs_page(params)}")
    stores = ["--backend-store-uri", params.uri, "--registry-store-uri", params.uri]
    _run_tool(
        ["mlflow", "ui", *stores, *UI_OPTIONS, "-h", host, "-p", str(port)],
        own_session=True,
        **ui_environment(),
    )


# The UI for one person: one worker (4 start in four times the time); no access log (one page
# load is dozens of lines). Naming the registry store saves MLflow a line saying it is the same.
UI_OPTIONS = ("--workers", "1", "--uvicorn-opts", "--no-access-log")
# MLflow's job runner serves GenAI scorers this project has none of: off, the server starts in
# half the time with 2 processes instead of 10, and Ctrl+C stops it in seconds, not 25.
NO_JOBS = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
# A warning MLflow's own server code raises at every start (starlette.middleware.wsgi).
QUIET_IMPORTS = "ignore:starlette.middleware.wsgi is deprecated"


def ui_environment() -> dict[str, str]:
    """What `ui` adds to the environment of MLflow's server; a user's PYTHONWARNINGS wins."""
    return {**NO_JOBS, "PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS") or QUIET_IMPORTS}


def _require_free(host: str, port: int) -> None:
    """One line for a busy address, before MLflow's server meets it (a 36-line traceback)."""
    import socket

    from domain_classifier.errors import InputError

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(
                f"{host}:{port}: cannot listen there ({exc.strerror}); pass --port with a free one"
            ) from None


# Everything after the command name goes to the tool as it is, --help included.
PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


def _enter_project() -> None:
    """Work from the project folder, wherever in it (or, with --project, outside it) the
    command was started."""
    root = click.get_current_context().meta.get(PROJECT)
    if root is not None:
        os.chdir(root)


def _delegate(ctx, module: str) -> None:
    """Run the click command `main` of `module` on everything after the command name."""
    importlib.import_module(module).main.main(ctx.args, prog_name=ctx.command_path)


@cli.command(context_settings=PASS_THROUGH, add_help_option=False)
@click.pass_context
def report(ctx):
    """Metrics, params and charts against a revision as report.md (`report --help`)."""
    _delegate(ctx, "domain_classifier.tools.review")


@cli.command(context_settings=PASS_THROUGH, add_help_option=False)
@click.pass_context
def remote(ctx):
    """Pull from or push to the default DVC remote the outputs of dvc.lock (`remote pull`,
    `remote push`)."""
    _enter_project()  # its DVC repo and params.yaml
    _delegate(ctx, "domain_classifier.tools.remote")


@cli.command(context_settings=PASS_THROUGH, add_help_option=False)
@click.pass_context
def registry(ctx):
    """Compare (`registry status`) or align (`registry sync`) MLflow's @champion with DVC's."""
    _enter_project()  # its params.yaml, store and models/champion
    _delegate(ctx, "domain_classifier.tools.registry")


@cli.command(context_settings=PASS_THROUGH, add_help_option=False)
@click.pass_context
def train(ctx):
    """Run the whole pipeline: `dvc repro` with any extra arguments (its options: `dvc repro
    --help`)."""
    if ctx.args in (["-h"], ["--help"]):
        click.echo(ctx.get_help())
        return
    if ctx.meta.get(PROJECT) is None:
        raise click.ClickException(no_project_advice(ctx.info_name))
    _run_tool(["dvc", "repro", *ctx.args])  # in the project folder, from any folder in it


def _run_tool(command: list[str], own_session: bool = False, **env: str) -> None:
    """Become a tool of this environment (signals reach it directly), its bin/ first on PATH;
    with `own_session`, run it as a child that gets each signal once."""
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    _enter_project()  # the tool works on the project (dvc repro, the UI's ./mlruns)
    sys.stdout.flush()  # exec drops what Python still buffers
    if own_session:
        _run_in_own_session(command, {**os.environ, "PATH": path, **env})
    os.execve(BIN / command[0], command, {**os.environ, "PATH": path, **env})


def _run_in_own_session(command: list[str], environment: dict[str, str]) -> None:
    """Run a server in a session of its own, pass it each stop signal once, exit as it does.

    Ctrl+C signals the terminal's whole foreground process group, and `mlflow ui` forwards
    the SIGINT to its uvicorn child as well: the child, signalled twice, stops at once with a
    traceback instead of shutting down. In its own session the server gets only what this
    process forwards (a hang-up as a SIGTERM)."""
    import signal
    import subprocess

    server = subprocess.Popen(
        [str(BIN / command[0]), *command[1:]], env=environment, start_new_session=True
    )

    def forward(signum, _frame):
        if server.poll() is None:
            server.send_signal(signal.SIGTERM if signum == signal.SIGHUP else signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    raise SystemExit(server.wait())


if __name__ == "__main__":
    cli()
