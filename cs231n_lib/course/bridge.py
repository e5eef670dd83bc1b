"""Plain-data messages between the grader and a student's worker process.

Values cross the process boundary as JSON with arrays as base64 raw bytes, dtype and shape — never pickles,
never objects: whatever the student's code returns, the grader receives numbers, strings,
arrays of numbers, tuples/lists/dicts of those, and handles (cs231n_lib.values) standing for
objects that stay in the worker (a namedtuple or dataclass cache). The worker makes a result
plain with values.plain() — the same function the notebook's check uses — before encoding it.
A handle sent back to the worker is resolved there from its handle table; the view it
carries is never trusted. Functions passed to a student's function (e.g. the `f` of a
numerical gradient) travel as references to module-level functions, optionally with
`functools.partial` arguments.
"""
import base64
import functools
import importlib
import math

import numpy as np

from cs231n_lib import values

MAX_DEPTH = 8
MAX_ITEMS = 1_000_000   # a guard against absurd messages, not a limit on honest results
MAX_ARRAY_BYTES = 256 * 2**20


class BridgeError(ValueError):
    """A value cannot be sent, or a received message is not plain data."""


def _array_to_tree(array):
    # Raw bytes plus dtype and shape: ~5x cheaper than a .npy file per array (np.load parses
    # its header with ast.literal_eval), and a grading sends some 30,000 arrays each way.
    # (tobytes is C order for any layout; np.ascontiguousarray would turn a 0-d array into 1-d)
    return {"t": "nd", "v": base64.b64encode(array.tobytes()).decode("ascii"),
            "d": array.dtype.str, "s": list(array.shape)}


def _array_from_tree(tree):
    """The array of an "nd" tree, checked: numeric dtype, sane shape, bytes that fit it."""
    text, dtype, shape = tree.get("v"), tree.get("d"), tree.get("s")
    if not isinstance(text, str) or not isinstance(dtype, str) or not isinstance(shape, list) \
            or not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 64:
        raise BridgeError("malformed array")
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError, SyntaxError) as exc:
        raise BridgeError(f"malformed array dtype {tree['d']!r}") from exc
    if dtype.kind not in "biufc" or dtype.subdtype is not None:
        raise BridgeError(f"arrays must hold numbers, got dtype {dtype}")
    if len(text) > MAX_ARRAY_BYTES * 4 // 3 + 4:
        raise BridgeError(f"array larger than the {MAX_ARRAY_BYTES} bytes limit")
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise BridgeError(f"array of {len(raw)} bytes does not match shape {tuple(shape)} {dtype}")
    # bytearray: a writable array the grader may update in place (never a view of the message)
    return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


def _function_ref(fn):
    if isinstance(fn, functools.partial):
        return {"t": "fn", "ref": _function_ref(fn.func)["ref"],
                "args": encode(list(fn.args)), "kwargs": encode(dict(fn.keywords))}
    module, name = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or "<" in name or "." in name:
        raise BridgeError(f"only module-level functions can be sent, got {fn!r}")
    return {"t": "fn", "ref": f"{module}:{name}", "args": None, "kwargs": None}


def encode(value, depth=0, drop_functions=False):
    """Turn a plain value into a JSON-able tree (arrays as base64 bytes, dtype and shape).

    drop_functions: send functions as None (the worker uses this for the arguments it returns,
    so the grader never resolves a function name chosen by student code).
    """
    if depth > MAX_DEPTH:
        raise BridgeError("value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return {"t": "v", "v": value}
    if isinstance(value, (int, np.integer)):
        return {"t": "int", "v": int(value)}
    if isinstance(value, (float, np.floating)):
        return {"t": "float", "v": repr(float(value))}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise BridgeError(f"arrays must hold numbers, got dtype {value.dtype}")
        return _array_to_tree(value)
    if isinstance(value, np.bool_):
        return {"t": "v", "v": bool(value)}
    if isinstance(value, values.Handle):
        return _encode_handle(value, depth, drop_functions)
    if type(value) in (list, tuple):
        return {"t": type(value).__name__,
                "v": [encode(v, depth + 1, drop_functions) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise BridgeError("dict keys must be strings")
        return {"t": "dict", "v": {k: encode(v, depth + 1, drop_functions) for k, v in value.items()}}
    if isinstance(value, np.random.Generator):
        # Sent as its state; the grader copies the state back after the call, so a student's
        # function consumes random numbers from the grader's generator as it would in-process.
        return {"t": "rng", "v": encode(value.bit_generator.state, depth + 1)}
    if callable(value):
        return {"t": "v", "v": None} if drop_functions else _function_ref(value)
    raise BridgeError(f"cannot send a value of type {type(value).__name__}")


def _encode_handle(value, depth, drop_functions):
    tree = {"t": "opaque", "h": int(value.handle), "n": str(value.type_name)[:100]}
    if isinstance(value, values.HandleTuple):
        tree.update(t="htuple", v=[encode(v, depth + 1, drop_functions) for v in value])
    elif isinstance(value, values.HandleDict):
        tree.update(t="hdict", v={str(k): encode(v, depth + 1, drop_functions)
                                  for k, v in value.items()})
    return tree


def decode(tree, depth=0, allow_functions=False, _count=None, handles=None):
    """Rebuild a value from encode()'s tree; rejects anything that is not plain data.

    handles: the worker's values.HandleTable; a handle is then replaced by (a copy of) the
    object it stands for. Without it (in the grader) handles decode as their views.
    """
    _count = _count if _count is not None else [0]
    _count[0] += 1
    if depth > MAX_DEPTH or _count[0] > MAX_ITEMS:
        raise BridgeError("message is nested too deeply or has too many items")
    if not isinstance(tree, dict) or "t" not in tree:
        raise BridgeError("malformed message")
    kind, value = tree["t"], tree.get("v")
    if kind == "v":
        if value is not None and not isinstance(value, (bool, str)):
            raise BridgeError("malformed plain value")
        return value
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "nd":
        return _array_from_tree(tree)
    if kind in ("list", "tuple"):
        items = [decode(v, depth + 1, allow_functions, _count, handles) for v in value]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {str(k): decode(v, depth + 1, allow_functions, _count, handles)
                for k, v in value.items()}
    if kind in ("htuple", "hdict", "opaque"):
        return _decode_handle(tree, depth, allow_functions, _count, handles)
    if kind == "rng":
        return _generator_from_state(decode(value, depth + 1, False, _count))
    if kind == "fn" and allow_functions:
        return _resolve_function(tree)
    raise BridgeError(f"unexpected value kind {kind!r}")


def _decode_handle(tree, depth, allow_functions, count, handles):
    handle, name = tree.get("h"), tree.get("n")
    if not isinstance(handle, int) or not isinstance(name, str):
        raise BridgeError("malformed handle")
    if handles is not None:
        try:
            return handles.get(handle)
        except LookupError as exc:
            raise BridgeError(str(exc)) from exc
    kind, view = tree["t"], tree.get("v")
    if kind == "htuple":
        view = tuple(decode(v, depth + 1, allow_functions, count) for v in view)
    elif kind == "hdict":
        view = {str(k): decode(v, depth + 1, allow_functions, count) for k, v in view.items()}
    cls = {"htuple": values.HandleTuple, "hdict": values.HandleDict, "opaque": values.Opaque}[kind]
    return values.with_handle(cls, view, handle, name)


BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _generator_from_state(state):
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise BridgeError(f"unknown bit generator {name!r}")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _resolve_function(tree):
    module_name, _, name = tree["ref"].partition(":")
    fn = getattr(importlib.import_module(module_name), name)
    if tree.get("args") is not None:
        args = decode(tree["args"], allow_functions=True)
        kwargs = decode(tree["kwargs"], allow_functions=True)
        fn = functools.partial(fn, *args, **kwargs)
    return fn
