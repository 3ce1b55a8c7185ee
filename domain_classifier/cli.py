"""`domain-classifier`: the project's commands for a person, from any directory.

Paths are relative to the current directory. Heavy libraries (pandas, MLflow, TensorFlow)
are imported inside the commands, so `--help` answers at once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from domain_classifier.stage import PARAMS_OPTION, TRUST_OPTION, stage

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
def cli():
    """Sort marketplace listing titles into product domains."""


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
    from domain_classifier.serving.loading import load_scoring_model

    model = load_scoring_model(_existing_champion(model_ref, params_file), params_file, trust)
    for line in classify_lines(model, list(titles), top_k):
        click.echo(line)


def classify_lines(model, titles: list[str], top_k: int) -> list[str]:
    """One tab-separated line per title: domain, probability, top-k candidates, title."""
    import pandas as pd

    from domain_classifier.serving.predict import score_chunk

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
    from domain_classifier.tracking.mlflow_store import MlflowParams, require_champion

    params = section_params(MlflowParams, "mlflow", params_file)
    require_champion(params)
    return params


def section_params(cls, section: str, params_file, **given):
    """A params section; outside a project (no params.yaml here, no --params) the defaults."""
    from domain_classifier.params import load_section

    source = click.get_current_context().get_parameter_source("params_file")
    if source is ParameterSource.DEFAULT and not Path(params_file).exists():
        return cls(**given)
    return load_section(cls, section, params_file)


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
    from domain_classifier.tracking.mlflow_store import champion_uri

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
    from domain_classifier.tracking.mlflow_store import MlflowParams, runs_page

    _require_free(host, port)
    params = section_params(MlflowParams, "mlflow", params_file)
    click.echo(f"training runs: http://{host}:{port}/{runs_page(params)}")
    # One worker is plenty for one person and starts in a fraction of the time.
    command = ["mlflow", "ui", "--backend-store-uri", params.uri, "--workers", "1"]
    _run_tool([*command, "-h", host, "-p", str(port)])


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


@cli.command(context_settings=PASS_THROUGH, add_help_option=False)
@click.pass_context
def report(ctx):
    """Metrics, params and charts against a revision as report.md (`report --help`)."""
    from domain_classifier.tools.review import main

    main.main(ctx.args, prog_name=ctx.command_path)


@cli.command(context_settings=PASS_THROUGH, add_help_option=False)
@click.pass_context
def train(ctx):
    """Run the whole pipeline: `dvc repro` with any extra arguments (its options: `dvc repro
    --help`)."""
    if ctx.args in (["-h"], ["--help"]):
        click.echo(ctx.get_help())
        return
    _run_tool(["dvc", "repro", *ctx.args])


def _run_tool(command: list[str], **env: str) -> None:
    """Become a tool of this environment (signals reach it directly), its bin/ first on PATH."""
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    sys.stdout.flush()  # exec drops what Python still buffers
    os.execve(BIN / command[0], command, {**os.environ, "PATH": path, **env})


if __name__ == "__main__":
    cli()
