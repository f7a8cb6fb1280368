"""Times flytekit's local `map_task` on scenario 1 of issue #6: a no-op task `int -> int`.

Usage: python flytekit_map.py N [ROUNDS] [CONCURRENCY]

Prints one JSON object: flytekit's version, n, and the wall time per element of each round
(`wf(xs=list(range(n)))`, a workflow that maps the no-op task), after one small warm-up run
that pays for imports and first-use set-up. flytekit runs the elements of a local map one after
another, whatever the concurrency.
"""

import json
import sys
import time
import typing

import flytekit
from flytekit import map_task, task, workflow


@task
def noop(x: int) -> int:
    return x


CONCURRENCY = int(sys.argv[3]) if len(sys.argv) > 3 else 64


@workflow
def wf(xs: typing.List[int]) -> typing.List[int]:
    return map_task(noop, concurrency=CONCURRENCY)(x=xs)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    warm = wf(xs=list(range(100)))
    assert list(warm) == list(range(100)), warm
    per_element_ns = []
    for _ in range(rounds):
        xs = list(range(n))
        start = time.perf_counter()
        out = wf(xs=xs)
        elapsed = time.perf_counter() - start
        assert list(out) == xs
        per_element_ns.append(elapsed * 1e9 / n)
    print(
        json.dumps(
            {
                "flytekit": flytekit.__version__,
                "python": sys.version.split()[0],
                "n": n,
                "concurrency": CONCURRENCY,
                "per_element_ns": per_element_ns,
            }
        )
    )


if __name__ == "__main__":
    main()
