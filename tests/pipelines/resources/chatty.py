import logging
import sys

from modelplane import pipeline, step


@step
def chatty() -> int:
    print("printed to stdout")
    print("printed to stderr", file=sys.stderr)
    logging.getLogger("user.code").warning("a warning from logging")
    return 1


@step
def quiet(x: int) -> int:
    return x


@pipeline(enable_cache=False)
def chatty_pipeline():
    quiet(chatty())
