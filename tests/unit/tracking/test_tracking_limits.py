"""`tracking.limits`: MLflow's own limits, checked without mlflow; what fails a batch is fitted, not sent."""

from __future__ import annotations

import random

import pytest

from claude_tui.tracking import limits


def test_the_limits_are_mlflows() -> None:
    from mlflow.utils import validation

    assert limits.KEY_MAX == validation.MAX_ENTITY_KEY_LENGTH
    assert limits.TAG_VALUE_MAX == validation.MAX_TAG_VAL_LENGTH
    assert limits.PARAM_VALUE_MAX == validation.MAX_PARAM_VAL_LENGTH
    assert limits.EXPERIMENT_NAME_MAX == validation.MAX_EXPERIMENT_NAME_LENGTH


KEYS = [
    "team",
    "claude.session_id",
    "a b/c:d-e_f",
    "x" * 250,
    "x" * 251,
    "",
    "bad!key",
    "a//b",
    "../up",
    "/abs",
    ".",
    "tab\tkey",
    "ünïcode",
]


@pytest.mark.parametrize("key", KEYS)
def test_key_problem_agrees_with_mlflow(key: str) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import _validate_tag

    try:
        _validate_tag(key, "v")
        mlflow_accepts = True
    except MlflowException:
        mlflow_accepts = False
    assert (limits.key_problem(key) is None) is mlflow_accepts, limits.key_problem(key)


def test_fitting_drops_bad_keys_and_cuts_long_values() -> None:
    warnings: list[str] = []
    tags = limits.fit_tags({"ok": "v", "k" * 251: "v", "long": "y" * 9000}, warnings)
    assert tags == {"ok": "v", "long": "y" * 7999 + "…"}
    assert warnings == [
        f"tag dropped: the key '{'k' * 37}...' is 251 characters long; MLflow allows 250",
        "tag 'long' cut from 9000 to 8000 characters",
    ]
    params = limits.fit_params({"args": "z" * 6001}, warnings)
    assert len(params["args"]) == 6000


def test_fitted_metric_keys_are_accepted_by_mlflow() -> None:
    from mlflow.utils.validation import _validate_metric

    rng = random.Random(7)
    alphabet = "ab/._- :!é\t"
    for _ in range(2000):
        raw = "tool_uses." + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        key = limits.fit_metric_key(raw)
        _validate_metric(key, 1.0, 0, 0)  # raises if MLflow would refuse it
        assert limits.key_problem(key) is None
