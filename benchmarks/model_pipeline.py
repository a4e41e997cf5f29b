"""A whole process that runs a 1-step pipeline naming a model: each run makes a new version of
the model and links the step's output to it. ``bench_cli.py`` times it beside ``one_step_pipeline.py``."""

from modelplane import Model, pipeline, step


@step
def one() -> int:
    return 1


@pipeline(model=Model(name="bench_model"))
def one_step_with_model() -> None:
    one()


if __name__ == "__main__":
    one_step_with_model()
