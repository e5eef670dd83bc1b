"""The training benchmark still runs (it is not a test of speed: nothing here is timed)."""
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_training.py"


def load_bench():
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_training", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_turns_give_each_side_its_steps_and_cycle_the_batches():
    bench = load_bench()
    seen = {"lib": [], "torch": []}

    def recorder(side):
        return lambda X, y: seen[side].append(X)

    batches = [(i, None) for i in range(4)]
    runs = {"row": {"lib": (recorder("lib"), batches), "torch": (recorder("torch"), batches)}}
    rates = bench.measure(runs, rounds=2, steps=7, chunk=3, batch_size=5)
    assert [len(r) for r in rates["row"].values()] == [2, 2]
    warmup = 1 + 10  # measure's warm-up call: one untimed step, then 10 steps
    per_round = 7 + 3  # 7 timed steps in turns of 3, 3, 1, each after one untimed step
    for side in seen:
        assert len(seen[side]) == warmup + 2 * per_round
        first_round = seen[side][warmup:warmup + per_round]
        # untimed step on batch (first - 1), then the timed ones from `first`, cycling
        assert first_round == [3, 0, 1, 2, 2, 3, 0, 1, 1, 2]


def test_library_only_run_prints_the_tables():
    result = subprocess.run([sys.executable, str(BENCH), "--no-torch", "--rounds", "1",
                             "--steps", "2", "--chunk", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for row in ("float64 MLP", "float32 MLP + batchnorm", "numpy GFLOP/s"):
        assert row in result.stdout


@pytest.mark.parametrize("option", ["--chunk", "--steps", "--rounds"])
def test_bad_counts_are_refused(option):
    result = subprocess.run([sys.executable, str(BENCH), "--no-torch", option, "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and f"{option} must be at least 1" in result.stderr
