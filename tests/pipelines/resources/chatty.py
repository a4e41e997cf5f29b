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


@step
def threaded() -> int:
    import threading
    import time

    helper = threading.Thread(target=lambda: print("from a thread the step started"))
    helper.start()
    helper.join()
    time.sleep(0.2)  # long enough for the test's own background thread to print meanwhile
    return 1


@pipeline(enable_cache=False)
def threaded_pipeline():
    threaded()
