"""Python's verdicts on the configurations in stdin (one JSON object per
line): each line's keys passed as keyword arguments to ``hystrix.Command``
after ``json.loads`` — what a Python user writing the same literal passes."""
import json
import sys

import hystrix

for line in sys.stdin:
    config = json.loads(line)
    try:
        hystrix.Command(lambda: None, isolation="semaphore", **config)
        print("ok")
    except hystrix.InvalidConfigError as e:
        print("err", e.key)
