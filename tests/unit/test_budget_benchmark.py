"""The budget benchmark's bookkeeping: what each stage took beside what the plan predicted."""

from benchmarks.budget import error_table, stage_rows

PLAN = {
    "other_stages_seconds": {"split": 5.0},
    "families": {"sgd": {"predicted_seconds": 30.0, "settings": {}}},
}


def test_each_stage_is_set_beside_its_prediction():
    rows = stage_rows(PLAN, {"split": 4.0, "train_sgd": 33.0, "select": 9.0})
    assert rows == {
        "split": {"seconds": 4.0, "predicted_seconds": 5.0},
        "train_sgd": {"seconds": 33.0, "predicted_seconds": 30.0},
        "select": {"seconds": 9.0, "predicted_seconds": None},  # no coefficient for it
    }


def test_the_table_has_a_row_per_training_stage_and_a_column_per_run():
    run = {"stages": stage_rows(PLAN, {"split": 4.0, "train_sgd": 33.0})}
    table = error_table({"demo": run, "meli": run}).splitlines()
    assert table[0] == "| stage | demo | meli |"
    assert table[2:] == ["| train_sgd | 33.0 s (predicted 30.0) | 33.0 s (predicted 30.0) |"]
