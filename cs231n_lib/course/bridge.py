"""Plain-data messages between the grader and a student's worker process.

Values cross the process boundary as JSON with arrays as raw bytes, dtype and shape — never pickles,
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
import json
import math

import numpy as np

from cs231n_lib import values

MAX_DEPTH = 8
MAX_ITEMS = 1_000_000   # a guard against absurd messages, not a limit on honest results
MAX_ARRAY_BYTES = 256 * 2**20


class BridgeError(ValueError):
    """A value cannot be sent, or a received message is not plain data."""


def _array_to_tree(array):
    # Raw bytes plus dtype and shape; pack() sends the bytes after the JSON, so nothing is
    # base64-encoded or escaped (a 3 MB array took ~0.1 s each way as base64 in JSON).
    # (tobytes is C order for any layout; np.ascontiguousarray would turn a 0-d array into 1-d)
    return {"t": "nd", "raw": array.tobytes(), "d": array.dtype.str, "s": list(array.shape)}


def _array_from_tree(tree):
    """The array of an "nd" tree, checked: numeric dtype, sane shape, bytes that fit it."""
    raw, dtype, shape = tree.get("raw"), tree.get("d"), tree.get("s")
    if raw is None and isinstance(tree.get("v"), str):      # base64, as JSON alone carries it
        raw = tree["v"]
        if len(raw) > MAX_ARRAY_BYTES * 4 // 3 + 4:
            raise BridgeError(f"array larger than the {MAX_ARRAY_BYTES} bytes limit")
        try:
            raw = base64.b64decode(raw.encode("ascii"), validate=True)
        except ValueError as exc:
            raise BridgeError("malformed array bytes") from exc
    if not isinstance(raw, (bytes, bytearray)) or not isinstance(dtype, str) \
            or not isinstance(shape, list) \
            or not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 64:
        raise BridgeError("malformed array")
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError, SyntaxError) as exc:
        raise BridgeError(f"malformed array dtype {tree['d']!r}") from exc
    if dtype.kind not in "biufc" or dtype.subdtype is not None:
        raise BridgeError(f"arrays must hold numbers, got dtype {dtype}")
    if len(raw) > MAX_ARRAY_BYTES:
        raise BridgeError(f"array larger than the {MAX_ARRAY_BYTES} bytes limit")
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise BridgeError(f"array of {len(raw)} bytes does not match shape {tuple(shape)} {dtype}")
    # bytearray: a writable array the grader may update in place (never a view of the message)
    return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


# ----------------------------------------------------------------------------- framing
#
# A message on a pipe: one ASCII line "<JSON length> <buffer length> ...", the JSON, then the
# buffers (the arrays' bytes, referenced from the JSON by index). A line starting with "{" is
# a message without buffers (the sandbox launcher reports that way).

MAX_BUFFERS = 1_000_000
MAX_HEADER_LINE = 16 * 2**20
_WALK_DEPTH = 4 * MAX_DEPTH + 8


def pack(message):
    """The bytes of one message (a dict whose trees may hold arrays' raw bytes)."""
    buffers = []
    body = json.dumps(_detach(message, buffers, 0)).encode()
    lengths = " ".join(str(n) for n in [len(body), *map(len, buffers)])
    return b"".join([lengths.encode(), b"\n", body, *buffers])


_LEAVES = frozenset(("v", "int", "float"))


def _detach(node, buffers, depth):
    """The message with each array's bytes replaced by its index in `buffers`."""
    if depth > _WALK_DEPTH:
        return node
    if type(node) is dict:
        kind = node.get("t")      # a dict's key "t" (adam's config) maps to a tree: not a str
        if type(kind) is str and kind in _LEAVES:
            return node
        if kind == "nd" and isinstance(node.get("raw"), (bytes, bytearray)):
            node = dict(node, i=len(buffers))
            buffers.append(node.pop("raw"))
            return node
        return {k: _detach(v, buffers, depth + 1) for k, v in node.items()}
    if type(node) in (list, tuple):
        return [_detach(v, buffers, depth + 1) for v in node]
    return node


def _attacher(buffers):
    """A json object_hook putting each buffer back where its index is; an index out of range
    is left as it is (decode then refuses the array)."""
    def hook(node):
        index = node.get("i")
        if type(index) is int and 0 <= index < len(buffers) and node.get("t") == "nd":
            del node["i"]
            node["raw"] = buffers[index]
        return node
    return hook


class Unpacker:
    """Messages out of a byte stream fed in pieces (feed(), then next() until None)."""

    def __init__(self, limit):
        self.limit, self.data, self.lengths = limit, bytearray(), None

    def feed(self, chunk):
        self.data += chunk
        if len(self.data) > self.limit + MAX_HEADER_LINE:
            raise BridgeError(f"sent more than {self.limit} bytes in one message")

    def next(self):
        """The next complete message, or None if more bytes are needed."""
        if self.lengths is None:
            end = self.data.find(b"\n")
            if end < 0:
                if len(self.data) > MAX_HEADER_LINE:
                    raise BridgeError("sent a message without a header line")
                return None
            line = bytes(self.data[:end])
            del self.data[:end + 1]
            if line.startswith(b"{"):
                return _json(line)
            self.lengths = self._lengths(line)
        total = sum(self.lengths)
        if len(self.data) < total:
            return None
        body_length, *sizes = self.lengths
        view, position, buffers = memoryview(self.data), body_length, []
        for size in sizes:
            buffers.append(bytes(view[position:position + size]))
            position += size
        body = bytes(view[:body_length])
        view.release()
        del self.data[:total]
        self.lengths = None
        return _json(body, _attacher(buffers) if buffers else None)

    def _lengths(self, line):
        try:
            lengths = [int(n) for n in line.split()]
        except ValueError:
            raise BridgeError("sent a message with a malformed header line") from None
        if not lengths or len(lengths) > MAX_BUFFERS + 1 or min(lengths) < 0 \
                or sum(lengths) > self.limit:
            raise BridgeError(f"sent a message header that announces {line[:80]!r}")
        return lengths


def _json(data, object_hook=None):
    try:
        message = json.loads(data, object_hook=object_hook)
    except ValueError as exc:
        raise BridgeError("sent an answer that is not valid JSON") from exc
    if not isinstance(message, dict):
        raise BridgeError("sent an answer that is not a JSON object")
    return message


def _function_ref(fn):
    if isinstance(fn, functools.partial):
        return {"t": "fn", "ref": _function_ref(fn.func)["ref"],
                "args": encode(list(fn.args)), "kwargs": encode(dict(fn.keywords))}
    module, name = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or "<" in name or "." in name:
        raise BridgeError(f"only module-level functions can be sent, got {fn!r}")
    return {"t": "fn", "ref": f"{module}:{name}", "args": None, "kwargs": None}


def encode(value, depth=0, drop_functions=False):
    """Turn a plain value into a tree of JSON values (arrays as raw bytes, dtype and shape;
    pack() makes it a message, Unpacker reads it back).

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
