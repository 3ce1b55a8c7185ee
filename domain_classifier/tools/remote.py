"""The default DVC remote around `dvc repro`: pull what it holds for this commit, push after.

`make run` is `pull`, `dvc repro`, `push`: a clone whose remote holds every output of its
dvc.lock trains nothing, and a remote that is missing or empty (a first run, a CI runner)
only means that `dvc repro` trains everything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click

from domain_classifier.errors import InputError

TRAINS_EVERYTHING = "dvc repro trains everything"
DVC_LOGGERS = ("dvc", "dvc_data", "dvc_objects")


@dataclass(frozen=True)
class Remote:
    name: str
    url: str  # as configured; DVC has already made a local folder absolute

    def __str__(self) -> str:
        return f"DVC remote '{self.name}' ({self.url})"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def first_reason(records: list[logging.LogRecord]) -> str:
    """The first error DVC logged, with its cause."""
    for record in records:
        cause = record.exc_info[1] if record.exc_info else None
        return f"{record.getMessage()}: {cause}" if cause else record.getMessage()
    return ""


@contextmanager
def dvc_log_kept() -> Iterator[_Collect]:
    """DVC's warnings and errors kept aside instead of printed, for one line of our own.

    `import dvc` gives its loggers their own terminal handlers: those are swapped out.
    """
    collect = _Collect()
    loggers = [logging.getLogger(name) for name in DVC_LOGGERS]
    saved = [(logger.handlers, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.handlers, logger.propagate = [collect], False
    try:
        yield collect
    finally:
        for logger, (handlers, propagate) in zip(loggers, saved):
            logger.handlers, logger.propagate = handlers, propagate


@contextmanager
def dvc_errors(remote: Remote | None, action: str) -> Iterator[None]:
    """Any DVC or file-system failure as one InputError naming the remote and the first cause.

    DVC logs each failed file, then raises only "N files failed to download".
    """
    from dvc.exceptions import DvcException

    with dvc_log_kept() as log:
        try:
            yield
        # ImportError: the remote's extra (dvc[s3], dvc[gs], dvc[azure]) is not installed.
        except (DvcException, OSError, ImportError) as exc:
            reason = first_reason(log.records)
            where = f"{remote}: " if remote else ""
            detail = f" ({reason})" if reason and reason not in str(exc) else ""
            # Some DVC messages list files on lines of their own.
            message = " ".join(f"{where}{action} failed: {exc}{detail}".split())
            raise InputError(message) from None


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def default_remote(repo) -> Remote | None:
    """The remote `core.remote` names in .dvc/config, or None when there is none."""
    name = repo.config["core"].get("remote")
    if not name:
        return None
    if name not in repo.config["remote"]:
        raise InputError(f"default DVC remote {name!r} is not defined in .dvc/config")
    return Remote(name, repo.config["remote"][name]["url"])


def holds_data(repo, remote: Remote) -> bool:
    """Whether the remote's storage has any entry; a folder or prefix not created yet has none.

    An unreadable or unreachable remote raises: only absence means "train everything".
    """
    with dvc_errors(remote, "reading"):
        storage = repo.cloud.get_remote(remote.name)
        return storage.fs.exists(storage.path) and bool(storage.fs.ls(storage.path, detail=False))


def pull(repo, force: bool = False) -> str:
    """Check out every output of dvc.lock the remote holds; what it lacks is left to `dvc repro`.

    `dvc pull --allow-missing` rather than `dvc repro --pull`: a remote that fails, fails here,
    before any training, not halfway through `dvc repro`. Outputs in the workspace that no
    cache holds (edited by hand) are overwritten only with `force`.
    """
    remote = default_remote(repo)
    if remote is None:
        return f"no default DVC remote in .dvc/config: {TRAINS_EVERYTHING}"
    if not holds_data(repo, remote):
        return f"{remote} is empty or missing: {TRAINS_EVERYTHING}"
    with dvc_errors(remote, "pull"):
        stats = repo.pull(remote=remote.name, allow_missing=True, force=force)["stats"]
    checked_out = stats["added"] + stats["modified"]
    return (
        f"{remote}: {count(stats['fetched'], 'file')} fetched, "
        f"{count(checked_out, 'output')} checked out; dvc repro trains what is still missing"
    )


def push(repo) -> str:
    """Upload every output of dvc.lock the remote lacks; a local folder is created if needed."""
    remote = default_remote(repo)
    if remote is None:
        return "no default DVC remote in .dvc/config: nothing pushed"
    with dvc_errors(remote, "push"):
        pushed = repo.push(remote=remote.name)
    return f"{remote}: {count(pushed, 'file')} pushed"


def open_repo(root: str | None):
    from dvc.repo import Repo

    with dvc_errors(None, "opening the DVC project"):
        return Repo(root)


@click.group()
@click.option(
    "--root",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="DVC project root (default: found from the current folder).",
)
@click.pass_context
def main(ctx, root):
    """Pull from or push to the project's default DVC remote (see `make run`)."""
    ctx.obj = root


def _run(step, root: str | None) -> None:
    try:
        repo = open_repo(root)
        try:
            message = step(repo)
        finally:
            repo.close()
    except InputError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(message)


@main.command("pull")
@click.option("--force", is_flag=True, help="Overwrite outputs no DVC cache holds.")
@click.pass_obj
def pull_command(root, force):
    """Fetch and check out what the remote holds for dvc.lock; never fails on an empty remote."""
    _run(lambda repo: pull(repo, force), root)


@main.command("push")
@click.pass_obj
def push_command(root):
    """Upload the outputs of dvc.lock that the remote lacks."""
    _run(push, root)


if __name__ == "__main__":
    main()
