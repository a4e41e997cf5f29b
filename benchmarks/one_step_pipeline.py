"""A whole process that runs a 1-step pipeline: what ``bench_cli.py`` times for its budget row."""

from modelplane import pipeline, step


@step
def one() -> int:
    return 1


@pipeline
def one_step() -> None:
    one()


if __name__ == "__main__":
    one_step()
