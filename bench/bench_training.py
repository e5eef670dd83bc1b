"""Benchmark: training throughput of cs231n_lib's FullyConnectedNet vs the same MLP in PyTorch CPU.

Not a test: it prints ratios measured side by side in one run and asserts nothing about time.

    .venv/bin/python bench/bench_training.py [--threads 1] [--rounds 15] [--steps 50] [--chunk 10]
                                             [--clock wall]

Model: 784 -> [100]*4 -> 10, ReLU (optionally affine-batchnorm-ReLU), softmax cross-entropy,
batch 100, plain SGD. One step = forward + loss + backward + update of every parameter.
Both frameworks cycle over the same pre-made MNIST minibatches, so data handling is not timed.
Measurements are interleaved: within a round the library and torch take turns of a few steps
(who goes first alternates), so a busy neighbour on a shared machine hits both sides alike;
the median over rounds is reported. The ratio column is the median of the per-round ratios,
with their range.
"""
import argparse
import os
import sys
from pathlib import Path


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description="cs231n_lib vs PyTorch MLP training throughput")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads (default 1)")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (median taken)")
    parser.add_argument("--steps", type=int, default=50,
                        help="timed training steps per side and round")
    parser.add_argument("--chunk", type=int, default=10,
                        help="steps per turn: the sides take turns of this many steps")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--no-torch", action="store_true", help="time the library only")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: process CPU time, steadier "
                             "on a busy machine but only meaningful with --threads 1")
    args = parser.parse_args(argv)
    for name in ("threads", "rounds", "steps", "chunk", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.learning_rate <= 0:
        parser.error("--learning-rate must be positive")
    return args


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    # BLAS reads these when it is loaded, so they must be set before numpy/torch are imported.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cs231n_lib.data import get_mnist_data  # noqa: E402

INPUT_DIM, HIDDEN_DIMS, NUM_CLASSES = 784, [100] * 4, 10
NUM_BATCHES = 20  # a ring of distinct minibatches, reused by every configuration
CONFIGS = [  # (name, dtype, normalization)
    ("float64 MLP", np.float64, None),
    ("float32 MLP", np.float32, None),
    ("float64 MLP + batchnorm", np.float64, "batchnorm"),
    ("float32 MLP + batchnorm", np.float32, "batchnorm"),
]


def layer_dims():
    """(fan_in, fan_out) of every affine layer."""
    dims = [INPUT_DIM] + HIDDEN_DIMS + [NUM_CLASSES]
    return list(zip(dims[:-1], dims[1:]))


def matmuls_per_step(batch_size):
    """Shapes (m, k, n) of the matmuls a training step needs: forward, dW, and dx except layer 1."""
    shapes = []
    for index, (fan_in, fan_out) in enumerate(layer_dims()):
        shapes.append((batch_size, fan_in, fan_out))      # out = x @ W
        shapes.append((fan_in, batch_size, fan_out))      # dW = x.T @ dout
        if index > 0:                                     # the input needs no gradient
            shapes.append((batch_size, fan_out, fan_in))  # dx = dout @ W.T
    return shapes


def flops_per_step(batch_size):
    """Matmul FLOPs of one training step (2*m*k*n each); everything else is O(N*D)."""
    return sum(2 * m * k * n for m, k, n in matmuls_per_step(batch_size))


def make_batches(batch_size, seed=0):
    """NUM_BATCHES float64 MNIST minibatches (X (B, 784), y (B,)) drawn from the training split."""
    data = get_mnist_data(num_train=4000, num_val=0, num_test=0, seed=seed)
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(NUM_BATCHES):
        index = rng.choice(data["X_train"].shape[0], batch_size, replace=False)
        batches.append((data["X_train"][index], data["y_train"][index]))
    return batches


CLOCK = time.perf_counter  # run() switches to time.process_time for --clock cpu


def time_steps(step, batches, steps, first=0):
    """Seconds taken by `steps` calls of step(X, y), cycling over batches from index `first`.

    One untimed step runs first: the other side has just filled the caches with its own
    arrays, a cost that a training loop, which trains one model at a time, does not pay.
    """
    step(*batches[(first - 1) % len(batches)])
    start = CLOCK()
    for i in range(first, first + steps):
        step(*batches[i % len(batches)])
    return CLOCK() - start


def matmul_runner(dtype, batch_size, use_torch=False):
    """A step(X, y)-like function doing only the matmuls of one training step (numpy or torch)."""
    rng = np.random.default_rng(0)
    operands = [(rng.standard_normal((m, k)).astype(dtype),
                 rng.standard_normal((k, n)).astype(dtype))
                for m, k, n in matmuls_per_step(batch_size)]
    outputs = [np.empty((a.shape[0], b.shape[1]), dtype) for a, b in operands]
    matmul = np.matmul
    if use_torch:
        import torch
        matmul = torch.mm
        operands = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in operands]
        outputs = [torch.from_numpy(out) for out in outputs]

    def all_matmuls(X=None, y=None):
        for (a, b), out in zip(operands, outputs):
            matmul(a, b, out=out)

    return all_matmuls


# ----------------------------------------------------------------------------- library side

def library_trainer(dtype, normalization, learning_rate, seed=0):
    """(step(X, y), model): one plain-SGD training step of cs231n_lib's FullyConnectedNet."""
    from cs231n_lib.models import FullyConnectedNet
    from cs231n_lib.optim import sgd

    model = FullyConnectedNet(HIDDEN_DIMS, input_dim=INPUT_DIM, num_classes=NUM_CLASSES,
                              normalization=normalization, dtype=dtype, seed=seed)
    configs = {name: {"learning_rate": learning_rate} for name in model.params}

    def step(X, y):
        loss, grads = model.loss(X, y)
        for name, grad in grads.items():
            model.params[name], configs[name] = sgd(model.params[name], grad, configs[name])
        return loss

    return step, model


# ----------------------------------------------------------------------------- torch side

def torch_trainer(dtype, normalization, learning_rate, seed=0):
    """The same MLP and SGD step in PyTorch; returns step(X, y) taking torch tensors."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers, fan_in = [], INPUT_DIM
    for fan_out in HIDDEN_DIMS:
        layers.append(nn.Linear(fan_in, fan_out))
        if normalization == "batchnorm":
            layers.append(nn.BatchNorm1d(fan_out))
        layers.append(nn.ReLU())
        fan_in = fan_out
    layers.append(nn.Linear(fan_in, NUM_CLASSES))
    model = nn.Sequential(*layers).to(torch.float64 if dtype == np.float64 else torch.float32)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    loss_fn = nn.CrossEntropyLoss()

    def step(X, y):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


# ----------------------------------------------------------------------------- main

def describe_machine(threads):
    """One line per BLAS library numpy uses, plus torch's version and threads."""
    lines = [f"threads: {threads}  (OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
             f"os.cpu_count()={os.cpu_count()})"]
    lines.append(f"numpy {np.__version__}")
    for pool in threadpool_info():  # torch's OpenMP pool shows up here too once it is imported
        lines.append(f"  {pool['user_api']} pool: {pool['internal_api']} "
                     f"{pool.get('version') or ''} "
                     f"{pool.get('architecture') or ''} ({pool['prefix']}), "
                     f"{pool['num_threads']} threads")
    return lines


def build_runs(args, use_torch):
    """{row name: {side: (step, batches)}} for every model config and the matmul-only rows."""
    batches64 = make_batches(args.batch_size)
    lib_batches = {np.float64: batches64,
                   np.float32: [(X.astype(np.float32), y) for X, y in batches64]}
    runs = {}
    for name, dtype, normalization in CONFIGS:
        runs[name] = {"lib": (library_trainer(dtype, normalization, args.learning_rate)[0],
                              lib_batches[dtype])}
        if use_torch:
            import torch
            torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
            torch_batches = [(torch.from_numpy(X).to(torch_dtype), torch.from_numpy(y))
                             for X, y in lib_batches[dtype]]
            runs[name]["torch"] = (torch_trainer(dtype, normalization, args.learning_rate),
                                   torch_batches)
    for dtype, label in ((np.float64, "float64"), (np.float32, "float32")):
        runs[f"{label} matmuls"] = {"lib": (matmul_runner(dtype, args.batch_size), batches64)}
        if use_torch:
            runs[f"{label} matmuls"]["torch"] = (
                matmul_runner(dtype, args.batch_size, use_torch=True), batches64)
    return runs


def measure(runs, rounds, steps, chunk, batch_size):
    """Interleaved measurement: {row: {side: [samples/s per round]}}.

    In each round and configuration the sides take turns of `chunk` steps until each has
    run `steps`, so a busy neighbour slows both sides alike instead of whichever happened
    to be running (turns of 10 steps take ~15 ms).
    """
    for sides in runs.values():  # warm-up: first calls allocate and fault in pages
        for step, batches in sides.values():
            time_steps(step, batches, 10)
    rates = {row: {side: [] for side in sides} for row, sides in runs.items()}
    turns = [min(chunk, steps - done) for done in range(0, steps, chunk)]
    for round_index in range(rounds):
        for row, sides in runs.items():
            gc.collect()  # a full collection here rather than inside a timed turn
            seconds = dict.fromkeys(sides, 0.0)
            done = 0
            for turn_index, turn in enumerate(turns):
                order = list(sides)
                # Alternate who goes first, so whatever the previous turn leaves behind
                # (warm caches, BLAS threads still spinning) favours neither side.
                for side in order if (round_index + turn_index) % 2 == 0 else order[::-1]:
                    step, batches = sides[side]
                    seconds[side] += time_steps(step, batches, turn, first=done)
                done += turn
            for side in sides:
                rates[row][side].append(steps * batch_size / seconds[side])
    return rates


def check_losses(runs):
    """Warn when a run went to NaN: it would time NaN arithmetic, not training."""
    for name, _, _ in CONFIGS:
        for side, (step, batches) in runs[name].items():
            loss = float(step(*batches[0]))
            if not np.isfinite(loss):
                print(f"WARNING: {side} loss for {name} is {loss}; timings are meaningless")


def ratio_stats(numerators, denominators):
    """Median, min and max of per-round ratios."""
    ratios = [a / b for a, b in zip(numerators, denominators)]
    return statistics.median(ratios), min(ratios), max(ratios)


def print_tables(rates, args, use_torch):
    """The throughput table and the matmul-bound table."""
    print(f"Training throughput, samples/s (median of {args.rounds} rounds of {args.steps} "
          f"steps, in interleaved turns of {args.chunk}; batch {args.batch_size}, "
          f"{args.clock} clock)")
    header = f"{'config':<26}{'library':>10}"
    if use_torch:
        header += f"{'torch':>10}{'lib/torch':>11}{'range over rounds':>20}"
    print(header)
    print("-" * len(header))
    for name, _, _ in CONFIGS:
        line = f"{name:<26}{statistics.median(rates[name]['lib']):>10,.0f}"
        if use_torch:
            ratio, low, high = ratio_stats(rates[name]["lib"], rates[name]["torch"])
            line += (f"{statistics.median(rates[name]['torch']):>10,.0f}{ratio:>10.2f}x"
                     f"{low:>13.2f}x - {high:.2f}x")
        print(line)

    flops = flops_per_step(args.batch_size)
    print()
    print(f"Matmul bound: {flops / 1e6:.1f} MFLOP of matmuls per step (forward, dW, and dx "
          f"except layer 1) = {flops / args.batch_size / 1e3:.0f} kFLOP per sample.")
    print("GFLOP/s: those matmuls run alone (numpy; torch.mm), timed in the same rounds.")
    print("%: MLP (no batchnorm) samples/s over the matmul-only samples/s of the same framework.")
    header = f"{'dtype':<9}{'numpy GFLOP/s':>15}{'library %':>11}"
    if use_torch:
        header += f"{'torch GFLOP/s':>15}{'torch %':>9}"
    print(header)
    print("-" * len(header))
    for label in ("float64", "float32"):
        model, matmuls = rates[f"{label} MLP"], rates[f"{label} matmuls"]
        gflops = {side: statistics.median(rate) * flops / args.batch_size / 1e9
                  for side, rate in matmuls.items()}
        line = (f"{label:<9}{gflops['lib']:>15.1f}"
                f"{ratio_stats(model['lib'], matmuls['lib'])[0]:>11.0%}")
        if use_torch:
            line += (f"{gflops['torch']:>15.1f}"
                     f"{ratio_stats(model['torch'], matmuls['torch'])[0]:>9.0%}")
        print(line)


def run(args):
    """Measure every configuration and print the comparison tables."""
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    use_torch = not args.no_torch
    if use_torch:
        import torch
        torch.set_num_threads(args.threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set in this process
            pass
    for line in describe_machine(args.threads):
        print(line)
    if use_torch:
        print(f"torch {torch.__version__}: {torch.get_num_threads()} threads")
    print()
    runs = build_runs(args, use_torch)
    rates = measure(runs, args.rounds, args.steps, args.chunk, args.batch_size)
    check_losses(runs)
    print_tables(rates, args, use_torch)

if __name__ == "__main__":
    with threadpool_limits(limits=ARGS.threads):
        run(ARGS)
