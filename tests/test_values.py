"""Plain values and handles (cs231n_lib.values) and their encoding for the worker (bridge)."""
import dataclasses
import types
from collections import namedtuple

import numpy as np
import pytest

from cs231n_lib import values
from cs231n_lib.course import bridge

Pair = namedtuple("Pair", "mask keep_prob")


@dataclasses.dataclass
class Cache:
    x_hat: np.ndarray
    eps: float


class Slotted:
    __slots__ = ("a",)

    def __init__(self):
        self.a = 1


def roundtrip(value, table):
    """What the grader receives when the worker returns `value`."""
    return bridge.decode(bridge.encode(values.plain(value, table)))


def test_plain_values_stay_plain_and_numpy_scalars_become_python_numbers():
    table = values.HandleTable()
    value = {"a": np.float32(1.5), "b": [np.int64(3), (np.bool_(True), None, "s")],
             "c": np.ones((2, 2), dtype=np.float32)}
    result = values.plain(value, table)
    assert type(result["a"]) is float and type(result["b"][0]) is int
    assert result["b"][1] == (True, None, "s") and type(result["b"][1][0]) is bool
    assert result["c"].dtype == np.float32 and result["c"] is not value["c"]
    assert not table.objects   # nothing needed a handle
    again = roundtrip(value, table)
    assert again["a"] == 1.5 and again["c"].dtype == np.float32


@pytest.mark.parametrize("make,view", [
    (lambda: Pair(np.ones(2), 0.5), lambda v: isinstance(v, tuple) and v[1] == 0.5),
    (lambda: Cache(np.ones(2), 1e-5), lambda v: isinstance(v, dict) and v["eps"] == 1e-5),
    (lambda: types.SimpleNamespace(mask=np.ones(2), keep_prob=0.5),
     lambda v: isinstance(v, dict) and v["keep_prob"] == 0.5),
])
def test_objects_travel_as_handles_with_a_view_and_come_back_as_themselves(make, view):
    worker_table = values.HandleTable()
    original = make()
    received = roundtrip((np.zeros(3), original), worker_table)   # in the grader
    assert isinstance(received, tuple) and isinstance(received[1], values.Handle)
    assert view(received[1]) and received[1].type_name == type(original).__name__
    # The grader passes the handle back (a deep copy of it, as checks copy caches).
    sent = bridge.encode([np.ones(1), __import__("copy").deepcopy(received[1])])
    args = bridge.decode(sent, handles=worker_table)
    assert type(args[1]) is type(original) and args[1] is not original
    assert np.array_equal(getattr(args[1], "mask", getattr(args[1], "x_hat", None)), np.ones(2))


def test_values_the_grader_cannot_read_are_opaque_and_compare_with_advice():
    from cs231n_lib import grading
    table = values.HandleTable()
    received = roundtrip([Slotted(), {1: 2}, len], table)
    assert [type(v) for v in received] == [values.Opaque] * 3
    assert [v.type_name for v in received] == ["Slotted", "dict with non-string keys", "function"]
    problem = grading.compare_outputs(received[0], np.ones(2))
    assert "is a Slotted object the grader cannot read; return numbers, arrays, or a tuple" in problem


def test_handle_table_forgets_the_oldest_and_says_so():
    table = values.HandleTable(size=2)
    first = table.add([1])
    table.add([2])
    table.add([3])
    with pytest.raises(LookupError, match="no longer kept"):
        table.get(first)
    tree = bridge.encode(values.Opaque(first, "Cache"))
    with pytest.raises(bridge.BridgeError, match="no longer kept"):
        bridge.decode(tree, handles=table)


def test_handles_sent_by_a_worker_cannot_smuggle_objects():
    with pytest.raises(bridge.BridgeError, match="malformed handle"):
        bridge.decode({"t": "htuple", "h": "os.system", "n": "x", "v": []})
    with pytest.raises(bridge.BridgeError):
        bridge.decode({"t": "obj", "v": "anything"})


def test_resolve_keeps_containers_without_handles_identical():
    table = values.HandleTable()
    bn_param = {"mode": "train"}
    args = (np.ones(2), bn_param)
    assert values.resolve(args, table) is args
    handle = values.plain(Pair(np.ones(1), 0.5), table)
    resolved = values.resolve((handle, bn_param), table)
    assert type(resolved[0]) is Pair and resolved[1] is bn_param


@pytest.mark.parametrize("change,where", [
    (lambda a: a["grads"]["W1"].__imul__(2), "['grads']['W1'][0, 0]"),
    (lambda a: a["grads"].pop("b1"), "['grads'] (its keys)"),
    (lambda a: a["list"][1].__setitem__(2, 7.0), "['list'][1][2]"),
    (lambda a: a["list"].append(1), "['list'] (its length)"),
    (lambda a: a.__setitem__("eps", 2e-5), "['eps']"),
])
def test_first_change_finds_changes_at_any_depth(change, where):
    import copy
    args = {"grads": {"W1": np.ones((2, 2)), "b1": np.zeros(2)}, "list": [1, np.zeros(3)],
            "eps": 1e-5, "rng": np.random.default_rng(0), "nan": np.array([np.nan])}
    before = copy.deepcopy(args)
    args["rng"].random()          # a generator's state advancing is not a change
    assert values.first_change(before, args) is None
    change(args)
    assert values.first_change(before, args) == where


@pytest.mark.parametrize("array", [
    np.arange(12.0).reshape(3, 4), np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    np.arange(24.0).reshape(4, 6)[:, ::2], np.array(3.5), np.zeros((0, 3)),
    np.arange(5, dtype=np.int32), np.array([True, False]), np.array([1 + 2j]),
    np.arange(6, dtype=">f8").reshape(2, 3), np.float32([1, 2])])
def test_arrays_cross_the_bridge_unchanged_and_writable(array):
    unpacker = bridge.Unpacker(limit=2**20)
    message = bridge.pack({"value": bridge.encode(array)})
    for start in range(0, len(message), 5):      # as a pipe may deliver it: in pieces
        assert unpacker.next() is None
        unpacker.feed(message[start:start + 5])
    received = bridge.decode(unpacker.next()["value"])
    assert received.dtype == array.dtype and received.shape == array.shape
    assert np.array_equal(received, array)
    received[...] = 0                  # writable: the grader copies in-place changes into it
    assert array.size == 0 or np.any(array != 0)   # never a view of the sender's array


@pytest.mark.parametrize("tree,error", [
    ({"t": "nd", "v": "AAAA", "d": "O", "s": []}, "must hold numbers"),
    ({"t": "nd", "v": "AAAAAAAAAAA=", "d": "V8", "s": [1]}, "must hold numbers"),
    ({"t": "nd", "v": "AAAA", "d": "f8,f8", "s": []}, "must hold numbers"),
    ({"t": "nd", "v": "AAAAAAAAAAA=", "d": "(1,)f8", "s": [1]}, "must hold numbers"),
    ({"t": "nd", "v": "AAAA", "d": "(", "s": []}, "malformed array dtype"),
    ({"t": "nd", "v": "AAAAAAAAAAA=", "d": "<f8", "s": [2]}, "does not match shape"),
    ({"t": "nd", "v": "AAAAAAAAAAA=", "d": "<f8", "s": [-1]}, "malformed array"),
    ({"t": "nd", "v": "AAAAAAAAAAA=", "d": "<f8", "s": [True]}, "malformed array"),
    ({"t": "nd", "v": "AAAAAAAAAAA=", "s": [1]}, "malformed array"),
])
def test_a_forged_array_from_the_worker_is_refused(tree, error):
    with pytest.raises(bridge.BridgeError, match=error):
        bridge.decode(tree)


@pytest.mark.parametrize("stream,error", [
    (b"99999999999 1\n", "announces"),
    (b"12 x\n", "malformed header"),
    (b"-3\n", "announces"),
    (b"5\n[1,2]", "not a JSON object"),
    (b"4\nnope", "not valid JSON"),
    (b"x" * (bridge.MAX_HEADER_LINE + 1), "without a header line"),
])
def test_a_malformed_message_from_the_worker_is_refused(stream, error):
    unpacker = bridge.Unpacker(limit=2**20)
    with pytest.raises(bridge.BridgeError, match=error):
        unpacker.feed(stream)
        unpacker.next()


def test_an_array_pointing_at_a_missing_buffer_is_refused():
    body = b'{"value": {"t": "nd", "i": 3, "d": "<f8", "s": [1]}}'
    unpacker = bridge.Unpacker(limit=2**20)
    unpacker.feed(b"%d 8\n" % len(body) + body + bytes(8))
    with pytest.raises(bridge.BridgeError, match="malformed array"):
        bridge.decode(unpacker.next()["value"])


def test_a_plain_json_line_is_a_message_and_arrays_never_share_memory():
    unpacker = bridge.Unpacker(limit=2**20)
    tree = bridge.encode([np.arange(3.0), np.arange(3.0)])
    unpacker.feed(b'{"sandbox": {"mode": "root"}}\n' + bridge.pack({"v": tree}))
    assert unpacker.next() == {"sandbox": {"mode": "root"}}
    first, second = bridge.decode(unpacker.next()["v"])
    first[0] = 7.0
    assert second[0] == 0.0 and unpacker.next() is None


def test_dicts_with_the_bridges_own_keys_cross_unchanged():
    """A student's dict may use the keys the trees use ("t", "i", "raw", "v"): adam's config
    has "t". They are values, never taken for the bridge's own fields."""
    value = {"t": 5, "i": 0, "v": np.ones(2), "raw": "text", "nested": {"t": np.arange(3.0)}}
    unpacker = bridge.Unpacker(limit=2**20)
    unpacker.feed(bridge.pack({"value": bridge.encode(value)}))
    received = bridge.decode(unpacker.next()["value"])
    assert received.keys() == value.keys() and received["t"] == 5 and received["raw"] == "text"
    assert np.array_equal(received["v"], value["v"])
    assert np.array_equal(received["nested"]["t"], value["nested"]["t"])
