"""A pipeline whose step logs, prints a line, waits for a file to appear, and prints another.

    python slow_logger.py SIGNAL_FILE
"""

import logging
import os
import sys
import time

from modelplane import pipeline, step


@step(enable_cache=False)
def slow(signal: str) -> int:
    logging.getLogger("user.code").warning("a warning from a step")
    logging.warning("a warning from the root logger")
    print("first line", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(signal) and time.monotonic() < deadline:
        time.sleep(0.05)
    print("second line", flush=True)
    return 1


@pipeline(enable_cache=False)
def slow_pipeline(signal: str) -> None:
    slow(signal)


if __name__ == "__main__":
    slow_pipeline(sys.argv[1])
