"""flytekit's side of the live interop test (tests/flyte/interop.rs).

    python interop.py write DIR   # writes DIR/<case>/inputs.pb with flytekit's TypeEngine, and DIR/cases.json
    python interop.py read DIR    # reads every DIR/<case>/out/<i>/outputs.pb and DIR/<case>/out/outputs.pb
                                  # back with flytekit, and compares them with the expected values

Between the two, the Rust test runs `flyte-app map-execute` for every index of every case and
assembles each case's output with the collector. Values are chosen to be absent from the fixtures:
a 1,000-element list, floats (with failures at 0.0), a bound dict with Optional results, Optional
inputs, date-times, and a dataclass that crosses as a serde struct.
"""
import datetime
import json
import math
import os
import sys
import typing
from dataclasses import dataclass

from flytekit import FlyteContextManager
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import LiteralMap as LiteralMapModel
from flyteidl.core import literals_pb2


@dataclass
class Point:
    x: int
    y: float
    label: str


UTC = datetime.timezone.utc
TABLE = {"one": 1, "two": 2, "forty-two": 42}


def cases():
    """Each case: Rust task, mapped input, bound inputs, element type, expected element outputs
    (None where the element fails), and the bound names."""
    square_x = list(range(-500, 500))
    inverse_x = [2.0, 0.0, -0.5, 1e300, 3.0, 0.0, 0.1, -0.0001, 7.25]
    keys = ["one", "three", "forty-two", "", "two"]
    opt_x = [1, None, -3, None, 1 << 40]
    times = [
        datetime.datetime(1970, 1, 1, tzinfo=UTC),
        datetime.datetime(2024, 2, 28, 23, 59, 59, 999999, tzinfo=UTC),
        datetime.datetime(2026, 12, 1, 21, 9, 47, 815269, tzinfo=UTC),
        datetime.datetime(9000, 1, 1, 12, 0, tzinfo=UTC),
    ]
    points = [Point(3, 1.5, "ab"), Point(-7, 0.0, "bad"), Point(1 << 33, -2.25, "ünï")]
    return [
        dict(name="square", task="interop.square", mapped=("x", typing.List[int], square_x), bound={},
             element=int, expected=[x * x for x in square_x]),
        dict(name="inverse", task="interop.inverse", mapped=("x", typing.List[float], inverse_x), bound={},
             element=float, expected=[None if x == 0.0 else 1.0 / x for x in inverse_x]),
        dict(name="lookup", task="interop.lookup", mapped=("key", typing.List[str], keys),
             bound={"table": (typing.Dict[str, int], TABLE)},
             element=typing.Optional[int], expected=[TABLE.get(k) for k in keys]),
        dict(name="double_opt", task="interop.double_opt",
             mapped=("x", typing.List[typing.Optional[int]], opt_x), bound={},
             element=typing.Optional[int], expected=[None if x is None else 2 * x for x in opt_x]),
        dict(name="next_day", task="interop.next_day", mapped=("t", typing.List[datetime.datetime], times),
             bound={}, element=datetime.datetime, expected=[t + datetime.timedelta(days=1) for t in times]),
        dict(name="shift", task="interop.shift", mapped=("p", typing.List[Point], points),
             bound={"dx": (int, 10)}, element=Point,
             expected=[None if p.label == "bad" else Point(p.x + 10, p.y * 2.0, p.label + "!") for p in points]),
    ]


def ctx():
    return FlyteContextManager.current_context()


def write(root):
    manifest = []
    for case in cases():
        name, hint, values = case["mapped"]
        vals = {name: values}
        hints = {name: hint}
        for bname, (bhint, bvalue) in case["bound"].items():
            vals[bname] = bvalue
            hints[bname] = bhint
        lm = TypeEngine.dict_to_literal_map(ctx(), vals, type_hints=hints).to_flyte_idl()
        os.makedirs(os.path.join(root, case["name"]), exist_ok=True)
        with open(os.path.join(root, case["name"], "inputs.pb"), "wb") as f:
            f.write(lm.SerializeToString())
        failed = [i for i, e in enumerate(case["expected"]) if e is None and not _none_is_a_value(case)]
        manifest.append(dict(
            name=case["name"], task=case["task"], vars=",".join(sorted(case["bound"])),
            n=len(values), failed=failed, min_successes=len(values) - len(failed),
        ))
    with open(os.path.join(root, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def _none_is_a_value(case):
    """Whether None is an ordinary output of the task (an Optional output), not a failure."""
    return typing.get_origin(case["element"]) is typing.Union


def read_literal_map(path, hint):
    pb = literals_pb2.LiteralMap()
    with open(path, "rb") as f:
        pb.ParseFromString(f.read())
    return TypeEngine.literal_map_to_kwargs(ctx(), LiteralMapModel.from_flyte_idl(pb), {"o0": hint})["o0"]


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def read(root):
    problems = []
    checked = 0
    for case in cases():
        out = os.path.join(root, case["name"], "out")
        expected = case["expected"]
        failures_tolerated = any(e is None for e in expected) and not _none_is_a_value(case)
        for i, want in enumerate(expected):
            path = os.path.join(out, str(i), "outputs.pb")
            if want is None and not _none_is_a_value(case):
                if os.path.exists(path):
                    problems.append(f"{case['name']}[{i}]: expected a failure, found {path}")
                continue
            got = read_literal_map(path, case["element"])
            checked += 1
            if not same(got, want):
                problems.append(f"{case['name']}[{i}]: flytekit read {got!r}, expected {want!r}")
        hint = typing.List[typing.Optional[case["element"]]] if failures_tolerated else typing.List[case["element"]]
        got = read_literal_map(os.path.join(out, "outputs.pb"), hint)
        checked += 1
        if not same(got, expected):
            problems.append(f"{case['name']} aggregate: flytekit read {got!r}, expected {expected!r}")
    for p in problems:
        print("MISMATCH", p)
    print(f"flytekit read back {checked} files; {len(problems)} mismatches")
    return 1 if problems else 0


if __name__ == "__main__":
    mode, root = sys.argv[1], sys.argv[2]
    if mode == "write":
        write(root)
    else:
        sys.exit(read(root))
