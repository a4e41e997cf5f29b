"""``run describe`` and ``run logs`` of a run whose step failed: the whole exception, and the traceback."""

from __future__ import annotations

import pytest

from modelplane import pipeline, step
from modelplane.client import Client
from modelplane.errors import StepFailedError
from tests.cli.conftest import Cli


@step(enable_cache=False)
def fit() -> int:
    print("fitting 3 rows")
    # scikit-learn's messages span lines; the last one alone says nothing.
    raise ValueError("Input X contains NaN.\nLinearRegression does not accept missing values.\nError - spend_per_tenure")


@pipeline(enable_cache=False)
def churn() -> None:
    fit()


@pytest.fixture
def failed_run(client: Client) -> str:
    with pytest.raises(StepFailedError):
        churn()
    return client.list_runs(pipeline="churn").items[0].name


def test_describe_shows_the_exception_type_and_its_whole_message(cli: Cli, failed_run: str) -> None:
    out = cli("run", "describe", failed_run).stdout
    error_line = next(line for line in out.splitlines() if line.startswith("Error"))
    assert "ValueError: Input X contains NaN." in error_line
    assert "LinearRegression does not accept missing values." in out
    assert "Error - spend_per_tenure" in out
    assert f"modelplane run logs {failed_run} --step fit" in out
    assert 'File "' not in out  # the frames are in the logs, not in describe


def test_the_logs_of_the_failed_step_hold_its_output_and_the_traceback(cli: Cli, failed_run: str) -> None:
    out = cli("run", "logs", failed_run, "--step", "fit").stdout
    assert "fitting 3 rows" in out
    assert "Traceback (most recent call last)" in out
    assert "in fit" in out and "ValueError: Input X contains NaN." in out
    assert out.index("fitting 3 rows") < out.index("Traceback")
