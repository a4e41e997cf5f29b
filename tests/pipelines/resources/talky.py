"""A pipeline with a model, a cacheable step and a promotion, run from a script.

    python talky.py [fail]
"""

import sys
from typing import Annotated

from modelplane import Model, get_step_context, pipeline, step
from modelplane.enums import ModelStages


@step
def load() -> Annotated[list, "data"]:
    return [1, 2, 3]


@step(enable_cache=False)
def train(data: list, fail: bool) -> int:
    if fail:
        raise ValueError("Input contains NaN.\nMore detail on a second line.")
    get_step_context().model.set_stage(ModelStages.STAGING, force=True)
    return sum(data)


@pipeline(model=Model(name="talky"))
def talky(fail: bool = False) -> None:
    train(load(), fail)


if __name__ == "__main__":
    try:
        run = talky(fail=sys.argv[1:] == ["fail"])
    except Exception as exc:  # the failure was told; say only what the test needs
        print("FAILED", type(exc).__name__)
    else:
        print("RETURNED", run.name)
