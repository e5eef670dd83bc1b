"""The process that runs a student's code while grading.

Forked by the fork server (course/sandbox_zygote.py), never started on its own: serve() reads
commands (course.bridge messages) on one pipe and answers on the other:
  {"op": "exec", "code": ...}          run a cell; answer with its (capped) output or error
  {"op": "call", "fn": name, "args"}   call a function of the student's namespace on plain data
  {"op": "map", "fn": name, "calls"}   many calls of one function, one answer per call
Nothing this process says is trusted: the grader only accepts plain data back (course.bridge)
and compares it with the reference in its own process. Results are made plain by
values.plain(), as in the notebook's check; what is not plain (a namedtuple or dataclass cache)
stays here in a handle table and travels as a handle that the next call can pass back.
"""
import io
import os
import re
import sys
import traceback

OUTPUT_CAP = int(os.environ.get("COURSE_OUTPUT_CAP", 65536))
_MAGIC = re.compile(r"^\s*[%!].*$", re.M)


class CappedWriter(io.TextIOBase):
    """A text stream that keeps at most `cap` characters and counts what it dropped."""

    def __init__(self, cap):
        self.cap, self.parts, self.size, self.dropped = cap, [], 0, 0

    def write(self, text):
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self):
        value = "".join(self.parts)
        if self.dropped:
            value += f"\n[output truncated: {self.dropped} more characters not shown]"
        return value


def _run_cell(code, namespace):
    # Magics (%matplotlib inline) and shell escapes do nothing in grading.
    code = _MAGIC.sub("pass", code)
    out = CappedWriter(OUTPUT_CAP)
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        exec(compile(code, "<cell>", "exec"), namespace)
        return {"ok": True, "output": out.getvalue()}
    except SystemExit as exc:
        return {"ok": False, "error": "SystemExit", "message": f"sys.exit({exc.code!r}) called",
                "output": out.getvalue()}
    except BaseException as exc:  # report everything, including KeyboardInterrupt, MemoryError
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)[:2000],
                "traceback": _student_traceback(exc), "output": out.getvalue()}
    finally:
        sys.stdout, sys.stderr = old_out, old_err


def _student_traceback(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    lines = traceback.format_list([f for f in frames if f.filename == "<cell>"])
    return "".join(lines)[-4000:]


def _call(message, namespace, bridge, handles):
    from cs231n_lib import values
    fn = namespace.get(message["fn"])
    if not callable(fn):
        return {"ok": False, "error": "NameError",
                "message": f"your notebook does not define a function {message['fn']!r}"}
    args = bridge.decode(message["args"], allow_functions=True, handles=handles)
    kwargs = bridge.decode(message["kwargs"], allow_functions=True, handles=handles)
    result = _run_cell_call(fn, args, kwargs)
    if not result["ok"]:
        return result
    try:
        result["value"] = bridge.encode(values.plain(result.pop("value"), handles))
        result["args_after"] = bridge.encode(values.plain(args, handles))
        result["kwargs_after"] = bridge.encode(values.plain(kwargs, handles))
    except bridge.BridgeError as exc:
        return {"ok": False, "error": "ReturnTypeError",
                "message": f"{message['fn']} returned something that is not plain data: {exc}"}
    return result


def _map(message, namespace, bridge, handles, answer):
    """Many calls of one function in one message: {"op": "map", "fn": name, "calls": [{"args",
    "kwargs"}, ...]}. Each call is made and converted exactly as one "call" message is, and its
    reply is sent (answer()) as soon as it is made (one message per call), so the grader applies
    its per-call timeout to each; the first call that fails is the last one made and answered.
    Returns that last reply (serve() sends it)."""
    calls = message.get("calls") or []
    reply = {"ok": False, "error": "ProtocolError", "message": "a map message without calls"}
    for i, one in enumerate(calls):
        if i:
            answer(reply)
        try:
            reply = _call({"fn": message["fn"], "args": one["args"], "kwargs": one["kwargs"]},
                          namespace, bridge, handles)
        except Exception as exc:  # bad plain data in either direction, as for one call
            reply = {"ok": False, "error": type(exc).__name__, "message": str(exc)[:2000]}
        if not reply.get("ok"):
            break
    return reply


def _run_cell_call(fn, args, kwargs):
    out = CappedWriter(OUTPUT_CAP)
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        return {"ok": True, "value": fn(*args, **kwargs), "output": out.getvalue()}
    except SystemExit as exc:
        return {"ok": False, "error": "SystemExit", "message": f"sys.exit({exc.code!r}) called"}
    except BaseException as exc:
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)[:2000],
                "traceback": _student_traceback(exc), "output": out.getvalue()}
    finally:
        sys.stdout, sys.stderr = old_out, old_err


def run_prefix(cells):
    """Run the course's own leading set-up cells; returns (namespace, their replies).

    A fork server (course/sandbox_zygote.py) runs them once per assignment, before any
    student code, and forks every student's worker from the result: the data they load and
    the modules they import are then already there. Trusted code only: never a student's cell.
    """
    namespace = {"__name__": "__main__"}
    return namespace, [_run_cell(code, namespace) for code in cells]


def serve(commands_fd, answers_fd, namespace=None, prefix=(), output_cap=None):
    """Answer the grader's commands until the command stream ends.

    Messages are course.bridge frames on two pipes (file descriptors). The first message is
    the "ready" one, carrying the replies of the prefix cells (run_prefix)."""
    global OUTPUT_CAP
    if output_cap is not None:
        OUTPUT_CAP = int(output_cap)
    from cs231n_lib import values
    from cs231n_lib.course import bridge
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    handles = values.HandleTable()

    def answer(reply):
        data = memoryview(bridge.pack(reply))
        while data:
            data = data[os.write(answers_fd, data):]

    answer({"ok": True, "ready": os.getpid(), "prefix": list(prefix)})
    for message in _messages(commands_fd, bridge):
        if message["op"] == "exec":
            reply = _run_cell(message["code"], namespace)
        elif message["op"] == "call":
            try:
                reply = _call(message, namespace, bridge, handles)
            except Exception as exc:  # bad plain data in either direction
                reply = {"ok": False, "error": type(exc).__name__, "message": str(exc)[:2000]}
        elif message["op"] == "map":
            reply = _map(message, namespace, bridge, handles, answer)
        else:
            reply = {"ok": False, "error": "ProtocolError", "message": f"unknown op {message['op']!r}"}
        try:
            answer(reply)
        except Exception as exc:   # an answer that cannot be packed: say so and go on
            answer({"ok": False, "error": type(exc).__name__,
                    "message": f"the worker could not send its answer: {exc}"[:2000]})


def _messages(fd, bridge):
    """The grader's messages, read from fd until it closes."""
    unpacker = bridge.Unpacker(limit=1 << 31)
    while True:
        message = unpacker.next()
        if message is not None:
            yield message
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return
        unpacker.feed(chunk)
