"""What a student's function may return, as the grader sees it: plain values and handles.

A graded function's result is turned into *plain* data — numbers, strings, None, numeric
arrays, and lists/tuples/dicts of those — by :func:`plain`, in the notebook's check and in the
grader's worker alike, so both reach the same verdict on the same value.

Anything else a student may reasonably return (a namedtuple, a dataclass, a SimpleNamespace,
an object of their own) stays in the student's process, kept in a :class:`HandleTable`; the
grader gets a *handle*: a view it can compare (a namedtuple's items, a dataclass's fields)
that remembers which object it stands for. Passing the handle back into the student's next
call (a cache into a backward pass) hands that call a copy of the original object.

:func:`first_change` finds the first in-place change between two snapshots of arguments, at
any depth (an array inside a dict inside a list), for the mutation check.
"""
from __future__ import annotations

import collections
import copy
import dataclasses
import types

import numpy as np

from cs231n_lib.i18n import tr

MAX_DEPTH = 8
TABLE_SIZE = 512   # caches kept per process; a numerical gradient check makes hundreds


class Handle:
    """Mixin of the values that stand for an object kept in the student's process."""
    handle: int = -1
    type_name: str = "object"

    def __deepcopy__(self, memo):
        # A copy stands for the same student object; the view's arrays are copied.
        return with_handle(type(self), copy.deepcopy(self._view(), memo), self.handle,
                            self.type_name)

    def __reduce__(self):
        return (with_handle, (type(self), self._view(), self.handle, self.type_name))


class HandleTuple(Handle, tuple):
    """A namedtuple (or other tuple subclass) returned by a student: compared as its items."""

    def _view(self):
        return tuple(self)


class HandleDict(Handle, dict):
    """A dataclass, SimpleNamespace or object with attributes: compared as a dict of its fields."""

    def _view(self):
        return dict(self)


class Opaque(Handle):
    """A value the grader cannot look into (no fields it can read); only passed back."""

    def __init__(self, handle=-1, type_name="object"):
        self.handle, self.type_name = handle, type_name

    def _view(self):
        return None

    def __repr__(self):
        return f"<{self.type_name} object>"


def with_handle(cls, view, handle, type_name):
    value = cls(handle, type_name) if cls is Opaque else cls(view)
    value.handle, value.type_name = handle, type_name
    return value


class HandleTable:
    """The student-side objects behind handles; the oldest are forgotten beyond `size`."""

    def __init__(self, size=TABLE_SIZE):
        self.size, self.objects, self.next_id = size, collections.OrderedDict(), 1

    def add(self, obj):
        handle, self.next_id = self.next_id, self.next_id + 1
        self.objects[handle] = obj
        while len(self.objects) > self.size:
            self.objects.popitem(last=False)
        return handle

    def get(self, handle):
        """A copy of the object (as a deep-copied cache would be), or LookupError if forgotten."""
        if handle not in self.objects:
            raise LookupError(tr("a value your function returned earlier (handle {handle}) is "
                                 "no longer kept; pass the cache of a recent call", handle=handle))
        obj = self.objects[handle]
        try:
            return copy.deepcopy(obj)
        except Exception:  # an object that cannot be copied is passed as it is
            return obj


def type_name(value):
    return type(value).__name__


def _fields(value):
    """The readable fields of an object as a dict, or None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, types.SimpleNamespace):
        return dict(vars(value))
    fields = getattr(value, "__dict__", None)
    if isinstance(fields, dict) and fields and not callable(value) and not isinstance(value, type):
        return {k: v for k, v in fields.items() if not k.startswith("_")}
    return None


def plain(value, table, depth=0):
    """`value` as plain data, with handles (kept in `table`) for what is not plain.

    Arrays are copied, so later changes by the student do not change the returned value.
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        return np.array(value, copy=True)
    if isinstance(value, np.random.Generator):
        return copy.deepcopy(value)
    if depth >= MAX_DEPTH:
        return _opaque(value, table)
    if isinstance(value, Handle):
        return value
    if type(value) is tuple or type(value) is list:
        return type(value)(plain(v, table, depth + 1) for v in value)
    if isinstance(value, list):
        return [plain(v, table, depth + 1) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {str(k): plain(v, table, depth + 1) for k, v in value.items()}
        return items if type(value) is dict else _handled(HandleDict(items), value, table)
    if isinstance(value, tuple):
        return _handled(HandleTuple(plain(v, table, depth + 1) for v in value), value, table)
    fields = None if callable(value) else _fields(value)
    if fields is not None:
        return _handled(HandleDict({k: plain(v, table, depth + 1) for k, v in fields.items()}),
                        value, table)
    return _opaque(value, table)


def _handled(view, value, table):
    view.handle, view.type_name = table.add(value), type_name(value)
    return view


def _opaque(value, table):
    name = "function" if callable(value) else type_name(value)
    if isinstance(value, dict):
        name = "dict with non-string keys"
    return Opaque(table.add(value), name)


def resolve(value, table, depth=0):
    """Replace handles inside an argument tree by copies of the objects they stand for.

    Containers without handles are returned as they are (the same objects), so a function
    that updates a dict argument (bn_param) updates the caller's dict, as in-process code does.
    """
    if isinstance(value, Handle):
        return table.get(value.handle)
    if depth >= MAX_DEPTH or type(value) not in (list, tuple, dict):
        return value
    items = value.items() if type(value) is dict else enumerate(value)
    resolved = {k: resolve(v, table, depth + 1) for k, v in items}
    if all(resolved[k] is v for k, v in (value.items() if type(value) is dict else enumerate(value))):
        return value
    if type(value) is dict:
        return resolved
    return type(value)(resolved[i] for i in range(len(value)))


def cannot_compare(value):
    """Why a returned value cannot be compared with numbers, and what to return instead."""
    return tr("is a {type} object the grader cannot read; return numbers, arrays, or a "
              "tuple, list, dict, namedtuple or dataclass of them instead", type=value.type_name)


# ----------------------------------------------------------------------------- changes

def first_change(before, after, path="", depth=0):
    """Where `after` differs from the snapshot `before` (a path like "['W1'][0, 2]"), or None.

    Random generators (their state advances by design), functions and handles (the student's
    own caches) are not looked into.
    """
    if isinstance(before, (np.random.Generator, Handle)) or callable(before) or depth > MAX_DEPTH:
        return None
    if isinstance(before, np.ndarray):
        return _array_change(before, after, path)
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(before) != set(after):
            return f"{path} (its keys)" if path else "(its keys)"
        for key in before:
            found = first_change(before[key], after[key], f"{path}[{key!r}]", depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(before, (list, tuple)):
        if not isinstance(after, (list, tuple)) or len(before) != len(after):
            return f"{path} (its length)" if path else "(its length)"
        for i, (b, a) in enumerate(zip(before, after)):
            found = first_change(b, a, f"{path}[{i}]", depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(before, (int, float, str, bool, np.number)) or before is None:
        same = type(before) is type(after) and (before == after or before != before and after != after)
        return None if same else path or "(its value)"
    return None


def _array_change(before, after, path):
    if not isinstance(after, np.ndarray) or after.shape != before.shape:
        return path or "(the array)"
    if before.dtype.kind not in "biufc" or after.dtype.kind not in "biufc":
        return None if np.array_equal(before, after) else path or "(the array)"
    differs = ~((before == after) | (np.isnan(before) & np.isnan(after))
                if before.dtype.kind in "fc" else before == after)
    if not differs.any():
        return None
    index = tuple(int(i) for i in np.argwhere(differs)[0])
    return f"{path}[{', '.join(map(str, index))}]" if index else path or "(the array)"
