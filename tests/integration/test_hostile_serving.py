"""Hostile requests to `mlflow models serve`: sent over HTTP to MLflow's own scoring server,
run in-process. The server's JSON parsing changes a request before the model sees it (it
made the 5 in ["Shampoo", 5] the text "5"), so calling the model directly would not test
what a user meets."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.support.net import free_port

GOOD_TITLE = "Shampoo Anticaspa 200ml"
DOMAINS = 3  # saved_sgd_dir has three


@pytest.fixture(scope="module")
def served(saved_sgd_dir, tmp_path_factory):
    """The URL of a scoring server for the project's pyfunc around saved_sgd_dir, saved as
    log_title_model logs it (no tracking store needed), over real HTTP as `serve` answers."""
    import mlflow.pyfunc
    import uvicorn
    from mlflow.environment_variables import _MLFLOW_IS_IN_SERVING_ENVIRONMENT
    from mlflow.pyfunc import scoring_server

    from domain_classifier.models import pyfunc

    path = tmp_path_factory.mktemp("served") / "model"
    mlflow.pyfunc.save_model(
        path,
        python_model=str(Path(pyfunc.__file__).with_name("pyfunc_entry.py")),
        artifacts={pyfunc.ARTIFACT: str(saved_sgd_dir)},
        code_paths=[str(pyfunc.PACKAGE_DIR)],
        signature=pyfunc.SIGNATURE,
        pip_requirements=pyfunc.pip_requirements(),
    )
    # init marks the whole process as a serving environment; later tests must not inherit it.
    flag = _MLFLOW_IS_IN_SERVING_ENVIRONMENT.name
    saved_flag = os.environ.get(flag)
    app = scoring_server.init(scoring_server.load_model_with_mlflow_config(str(path)))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the scoring server did not start"
    try:
        yield f"http://127.0.0.1:{port}/invocations"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        if saved_flag is None:
            os.environ.pop(flag, None)
        else:
            os.environ[flag] = saved_flag


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def assert_refused(answer: tuple[int, dict], message: str) -> None:
    status, body = answer
    assert status == 400, body
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    # The server puts "Failed to predict data '<the request>'" before the model's message.
    assert body["message"].endswith(f"\nError: {message}"), body["message"]


def test_a_good_request_scores_each_title_and_a_null_title_gets_nulls(served):
    status, body = post(served, {"inputs": [GOOD_TITLE, None]})
    assert status == 200, body
    scored, unscored = body["predictions"]
    assert scored["predicted_domain"] == scored["top1_domain"] == "MLB-SHAMPOOS"
    assert 0 < scored["probability"] <= 1
    assert set(scored) == {"predicted_domain", "probability", "needs_review"} | {
        f"top{r}_{what}" for r in (1, 2, 3) for what in ("domain", "probability")
    }
    assert scored["needs_review"] is None  # an uncalibrated model promises no precision
    assert unscored == dict.fromkeys(scored)
    # The formats the model does not take over are parsed by MLflow as before.
    split = {"columns": ["title"], "data": [[GOOD_TITLE], [None]]}
    assert post(served, {"dataframe_split": split}) == (200, body)
    assert post(served, {"instances": [{"title": GOOD_TITLE}, {"title": None}]}) == (200, body)


@pytest.mark.parametrize(
    "request_body,message",
    [
        ({"inputs": ["Shampoo", 5]}, "titles must be strings; row 2 is int 5"),
        ({"inputs": ["Shampoo", True]}, "titles must be strings; row 2 is bool True"),
        ({"inputs": [GOOD_TITLE, 2.5]}, "titles must be strings; row 2 is float 2.5"),
        ({"inputs": {"title": ["Shampoo", 5]}}, "titles must be strings; row 2 is int 5"),
        ({"instances": ["Shampoo", 5]}, "titles must be strings; row 2 is int 5"),
        (
            {"instances": [{"title": "Shampoo"}, {"title": True}]},
            "titles must be strings; row 2 is bool True",
        ),
        (
            {"dataframe_split": {"columns": ["title"], "data": [["Shampoo"], [5]]}},
            "titles must be strings; row 2 is int 5",
        ),
    ],
    ids=["number", "boolean", "float", "title-column", "instances", "records", "split"],
)
def test_a_list_mixing_titles_with_other_json_types_is_refused(served, request_body, message):
    assert_refused(post(served, request_body), message)


@pytest.mark.parametrize(
    "inputs,message",
    [
        ([["a", "b"]], "titles must be strings; row 1 is list ['a', 'b']"),
        ([["a"], ["b"]], "titles must be strings; row 1 is list ['a']"),
        (["a", ["b", "c"]], "titles must be strings; row 2 is list ['b', 'c']"),
        ({"title": [["a", "b"]]}, "titles must be strings; row 1 is list ['a', 'b']"),
    ],
    ids=["one-row-of-two", "rows-of-one", "ragged", "in-a-title-column"],
)
def test_a_nested_list_is_refused_not_flattened(served, inputs, message):
    assert_refused(post(served, {"inputs": inputs}), message)


@pytest.mark.parametrize("top_k", [-40, -1, 0, DOMAINS + 1, None])
def test_top_k_outside_one_to_the_number_of_domains_is_refused(served, top_k):
    assert_refused(
        post(served, {"inputs": [GOOD_TITLE], "params": {"top_k": top_k}}),
        f"params.top_k must be an integer from 1 to {DOMAINS} (the model's number of domains), "
        f"got {top_k!r}",
    )


@pytest.mark.parametrize("top_k", ["2", 2.5, True])
def test_a_top_k_that_is_no_integer_is_refused_by_mlflows_params_check(served, top_k):
    status, body = post(served, {"inputs": [GOOD_TITLE], "params": {"top_k": top_k}})
    assert status == 400, body
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "\nError: Invalid parameters found: {('top_k', " in body["message"], body["message"]
    assert f"to `DataType.long` for value `{top_k}`" in body["message"], body["message"]


@pytest.mark.parametrize("top_k", [1, DOMAINS])
def test_top_k_from_one_to_the_number_of_domains_is_answered(served, top_k):
    status, body = post(served, {"inputs": [GOOD_TITLE, "  "], "params": {"top_k": top_k}})
    assert status == 200, body
    ranked = {name for name in body["predictions"][0] if name.startswith("top")}
    assert ranked == {
        f"top{r}_{what}" for r in range(1, top_k + 1) for what in ("domain", "probability")
    }
    assert body["predictions"][1] == dict.fromkeys(body["predictions"][0])


def test_answers_flag_review_as_predict_does(calibrated_sgd_dir):
    from domain_classifier.models.loading import load_model
    from domain_classifier.models.pyfunc import TitleClassifier
    from domain_classifier.models.scoring import flag_review, review_threshold_of, score_chunk
    from domain_classifier.serving.predict import PredictParams

    classifier = TitleClassifier()
    classifier.model = load_model(calibrated_sgd_dir)
    titles = [GOOD_TITLE, "Capinha Shampoo", None]
    answered = classifier.predict(None, titles)
    frame = pd.DataFrame({"title": titles})
    threshold = review_threshold_of(
        classifier.model, PredictParams("a.csv", "b.csv").review_precision
    )
    expected = flag_review(score_chunk(classifier.model, frame, "title", 3)[0], threshold)
    assert threshold is not None
    assert answered["needs_review"].tolist() == [
        None if pd.isna(flag) else bool(flag) for flag in expected["needs_review"]
    ]
    assert answered["needs_review"].tolist()[2] is None
    with pytest.raises(Exception, match="review_precision"):
        classifier.predict(None, titles, params={"top_k": 3, "review_precision": 0})


def test_the_signature_names_a_title_string_and_every_request_form_is_answered(
    served, saved_sgd_dir, tmp_path
):
    """The UI shows what to send (Inputs: title string); MLflow leaves checking it to the
    model, so each request form the server takes still reaches `titles_of` as sent."""
    import mlflow.pyfunc
    import yaml

    from domain_classifier.models import pyfunc

    path = tmp_path / "model"
    mlflow.pyfunc.save_model(
        path,
        python_model=str(Path(pyfunc.__file__).with_name("pyfunc_entry.py")),
        artifacts={pyfunc.ARTIFACT: str(saved_sgd_dir)},
        signature=pyfunc.SIGNATURE,
    )
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert json.loads(mlmodel["signature"]["inputs"]) == [
        {"type": "string", "name": "title", "required": True}
    ]
    status, body = post(served, {"inputs": [GOOD_TITLE]})
    assert status == 200, body
    forms = [
        {"instances": [GOOD_TITLE]},
        {"instances": [{"title": GOOD_TITLE}]},
        {"inputs": {"title": [GOOD_TITLE]}},
        {"dataframe_split": {"columns": ["title"], "data": [[GOOD_TITLE]]}},
        {"dataframe_records": [{"title": GOOD_TITLE, "item_id": 7}]},
        {"dataframe_split": {"columns": ["name"], "data": [[GOOD_TITLE]]}},  # its only column
    ]
    for form in forms:
        assert post(served, form) == (200, body), form
    assert_refused(
        post(served, {"dataframe_records": [{"title": GOOD_TITLE}, {"title": 5}]}),
        "titles must be strings; row 2 is int 5",
    )
