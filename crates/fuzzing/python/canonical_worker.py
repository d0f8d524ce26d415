#!/usr/bin/env python3
"""The reference side of weld's canonical ABI oracle (crates/fuzzing/src/oracles/reference/).

A long-lived worker: it imports the Component Model's executable definition of the canonical
ABI (`definitions.py`, from the directory given as the first argument or in
WELD_CANONICAL_ABI_DIR), then reads one JSON request per line on stdin and writes one JSON
response per line on stdout, so that one process serves any number of cases.

The first line it writes says whether it can serve: `{"ready": "<python version>"}`, or
`{"skip": "<why>"}` (Python older than 3.10, whose `match` definitions.py needs, or no
definitions.py) after which it exits.

The JSON encodings (the Rust side, `reference/json.rs`, writes and reads the same):

- types: "bool", "s8", ..., "f64", "char", "string"; {"list": T}; {"fixed-list": [T, n]};
  {"map": [K, V]}; {"record": [[label, T], ...]}; {"tuple": [T, ...]};
  {"variant": [[label, T or null], ...]}; {"enum": [label, ...]}; {"option": T};
  {"result": [T or null, T or null]}; {"flags": [label, ...]}; {"own": n}; {"borrow": n}
  (n numbers a resource type).
- values, directed by their type: integers as numbers; floats as their bits (an f32's 32
  bits, an f64's 64); a char as its code point; a string as a JSON string; lists, fixed
  lists and tuples as arrays; a map as an array of [key, value]; a record as the array of
  its fields' values in order; a variant, option or result as [case index, payload or
  null]; an enum as its case index; flags as an array of bools; a handle as its rep.
- flat core values: each as its bits (an f32's 32 bits zero-extended).
- memory: {"size": n, "bytes": hex}: `size` bytes, the first of which are `bytes` and the
  rest `junk(i) = (i * 167 + 13) % 251` (the Rust side fills its memory the same way).
- options: {"encoding": "utf8" | "utf16" | "latin1+utf16", "mem64": bool,
  "realloc": {"next": n, "fault": null | "misalign" | "out-of-bounds", "fault_at": k}}.
  `realloc` is a bump allocator from `next` that shrinks in place (run_tests.py's `Heap`),
  returning a pointer 1 past its result (misalign) or one that ends 1 byte past the memory
  (out-of-bounds) on its k-th call; it fails (kind "realloc-failed") when memory runs out.
- a handle table: an array, slot 1 first, of null (a free slot) or [resource, rep, own].

Requests ({"op": ...}) and their responses:

- "abi" {types, params, results, mem64}: {"layouts": [[size, align, [flat types]], ...],
  "lift": [params, results], "lower": [params, results]} (flatten_functype).
- "lower_flat" {ty, value, opts, memory}: {"flat", "memory", "reallocs"}.
- "store" {ty, value, opts, memory, ptr}: {"memory", "reallocs"}; the pointer is checked as
  lower_flat_values checks a results pointer.
- "lift_flat" {ty, flat, opts, memory, handles}: {"value"}.
- "load" {ty, ptr, opts, memory, handles}: {"value"}; the pointer is checked as
  lift_flat_values checks a parameters pointer.
- "lower_values" {types, values, opts, memory}: lower_flat_values with MAX_FLAT_PARAMS (the
  caller's side of a call): {"flat", "memory", "reallocs"}.
- "lift_values" {types, flat, opts, memory, handles}: lift_flat_values with MAX_FLAT_PARAMS
  (the callee's side): {"values"}.

`memory` in a response is the bytes from 0 to the end of what was written or allocated.
A trap gives {"trap": kind, "detail": the spec's line}, kind one of "too-long:W",
"misaligned:W", "out-of-bounds:W" (W being "value", "list" or "string": what the checked
pointer points to), "invalid-string", "invalid-char", "invalid-discriminant", "handle",
"realloc-failed", or "other". A request the worker cannot serve (an assertion of the
definitions failing, a malformed request) gives {"error": message}.

One function of definitions.py is replaced: `align_to`, whose float division is inexact past
2**53 (see below). Two pieces of its machinery are bypassed, neither of which is the ABI: realloc is
called directly (the spec's `reallocate` runs it as a lifted function on a new thread, with
task bookkeeping), and a borrow's scope is a stand-in task or a fresh Subtask.
"""

import json
import linecache
import os
import struct
import sys


def first_line(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


if sys.version_info < (3, 10):
    first_line({"skip": "python 3.10+ needed, found %d.%d" % sys.version_info[:2]})
    sys.exit(0)

SPEC_DIR = os.environ.get("WELD_CANONICAL_ABI_DIR") or (sys.argv[1] if len(sys.argv) > 1 else "")
if not os.path.isfile(os.path.join(SPEC_DIR, "definitions.py")):
    first_line({"skip": "no definitions.py in %r (set WELD_CANONICAL_ABI_DIR)" % SPEC_DIR})
    sys.exit(0)
sys.path.insert(0, SPEC_DIR)
import definitions as D  # noqa: E402

D.DETERMINISTIC_PROFILE = True


def exact_align_to(ptr, alignment):
    return -(-ptr // alignment) * alignment


# definitions.py's `align_to` is `math.ceil(ptr / alignment) * alignment`: a float division,
# wrong for pointers past 2**53 (a 64-bit memory's), where it makes an aligned pointer look
# misaligned (0xc24fba60e4610551 with alignment 1, say). The integer version it means:
D.align_to = exact_align_to
DEFS_FILE = os.path.abspath(D.__file__)


class Kinded(D.Trap):
    """A trap raised here, with its kind."""

    def __init__(self, kind, detail):
        super().__init__(detail)
        self.kind = kind


# ---------------------------------------------------------------------------------------------
# Types

PRIMS = {
    "bool": D.BoolType(), "s8": D.S8Type(), "u8": D.U8Type(), "s16": D.S16Type(),
    "u16": D.U16Type(), "s32": D.S32Type(), "u32": D.U32Type(), "s64": D.S64Type(),
    "u64": D.U64Type(), "f32": D.F32Type(), "f64": D.F64Type(), "char": D.CharType(),
    "string": D.StringType(),
}

# The resource types, by number: each implemented by another instance than the one whose
# handles are lifted and lowered, so that a borrow is always a handle in the table.
STORE = D.Store()
RESOURCES = {}


def resource(n):
    if n not in RESOURCES:
        RESOURCES[n] = D.ResourceType(D.ComponentInstance(STORE))
    return RESOURCES[n]


def to_type(j):
    if isinstance(j, str):
        return PRIMS[j]
    [(k, v)] = j.items()
    if k == "list":
        return D.ListType(to_type(v))
    if k == "fixed-list":
        return D.ListType(to_type(v[0]), v[1])
    if k == "map":
        return D.MapType(to_type(v[0]), to_type(v[1]))
    if k == "record":
        return D.RecordType([D.FieldType(n, to_type(t)) for n, t in v])
    if k == "tuple":
        return D.TupleType([to_type(t) for t in v])
    if k == "variant":
        return D.VariantType([D.CaseType(n, None if t is None else to_type(t)) for n, t in v])
    if k == "enum":
        return D.EnumType(list(v))
    if k == "option":
        return D.OptionType(to_type(v))
    if k == "result":
        return D.ResultType(*[None if t is None else to_type(t) for t in v])
    if k == "flags":
        return D.FlagsType(list(v))
    if k == "own":
        return D.OwnType(resource(v))
    if k == "borrow":
        return D.BorrowType(resource(v))
    raise ValueError("unknown type %r" % (j,))


# ---------------------------------------------------------------------------------------------
# Values

def f32_of_bits(b):
    return struct.unpack("<f", struct.pack("<I", b))[0]


def f64_of_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def bits_of_f32(f):
    return struct.unpack("<I", struct.pack("<f", f))[0]


def bits_of_f64(f):
    return struct.unpack("<Q", struct.pack("<d", f))[0]


def cases_of(t):
    """The case labels and payload types of a variant-like type."""
    d = D.despecialize(t)
    return [(c.label, c.t) for c in d.cases]


def to_py(t, j):
    """The spec's Python value of the JSON value `j` of type `t`."""
    if isinstance(t, D.F32Type):
        return f32_of_bits(j)
    if isinstance(t, D.F64Type):
        return f64_of_bits(j)
    if isinstance(t, D.CharType):
        return chr(j)
    if isinstance(t, D.StringType):
        return (j, "utf8", len(j.encode("utf-8")))
    if isinstance(t, D.PrimValType):
        return j
    if isinstance(t, D.ListType):
        return [to_py(t.t, e) for e in j]
    if isinstance(t, D.MapType):
        return [{"0": to_py(t.k, k), "1": to_py(t.v, v)} for k, v in j]
    if isinstance(t, D.RecordType):
        return {f.label: to_py(f.t, v) for f, v in zip(t.fields, j, strict=True)}
    if isinstance(t, D.TupleType):
        return {str(i): to_py(u, v) for i, (u, v) in enumerate(zip(t.ts, j, strict=True))}
    if isinstance(t, D.EnumType):
        return {t.labels[j]: None}
    if isinstance(t, (D.VariantType, D.OptionType, D.ResultType)):
        index, payload = j
        label, pt = cases_of(t)[index]
        return {label: None if pt is None else to_py(pt, payload)}
    if isinstance(t, D.FlagsType):
        return {label: bool(b) for label, b in zip(t.labels, j, strict=True)}
    if isinstance(t, (D.OwnType, D.BorrowType)):
        return j
    raise ValueError("no value of %r" % (t,))


def from_py(t, v):
    """The JSON value of the spec's Python value `v` of type `t`."""
    if isinstance(t, D.F32Type):
        return bits_of_f32(v)
    if isinstance(t, D.F64Type):
        return bits_of_f64(v)
    if isinstance(t, D.CharType):
        return ord(v)
    if isinstance(t, D.StringType):
        return v[0]
    if isinstance(t, D.BoolType):
        return bool(v)
    if isinstance(t, D.PrimValType):
        return v
    if isinstance(t, D.ListType):
        return [from_py(t.t, e) for e in v]
    if isinstance(t, D.MapType):
        return [[from_py(t.k, e["0"]), from_py(t.v, e["1"])] for e in v]
    if isinstance(t, D.RecordType):
        return [from_py(f.t, v[f.label]) for f in t.fields]
    if isinstance(t, D.TupleType):
        return [from_py(u, v[str(i)]) for i, u in enumerate(t.ts)]
    if isinstance(t, D.EnumType):
        [label] = v.keys()
        return t.labels.index(label)
    if isinstance(t, (D.VariantType, D.OptionType, D.ResultType)):
        [(label, payload)] = v.items()
        cases = cases_of(t)
        index = [i for i, (l, _) in enumerate(cases) if l == label][0]
        pt = cases[index][1]
        return [index, None if pt is None else from_py(pt, payload)]
    if isinstance(t, D.FlagsType):
        return [bool(v[label]) for label in t.labels]
    if isinstance(t, (D.OwnType, D.BorrowType)):
        return v
    raise ValueError("no value of %r" % (t,))


def flat_in(flat_types, bits):
    """Flat values from their bits, as the spec's CoreValueIter wants them."""
    out = []
    for ft, b in zip(flat_types, bits, strict=True):
        if ft == "f32":
            out.append(f32_of_bits(b))
        elif ft == "f64":
            out.append(f64_of_bits(b))
        else:
            out.append(b)
    return out


def flat_out(flat_types, values):
    """The bits of flat values the spec produced."""
    out = []
    for ft, v in zip(flat_types, values, strict=True):
        if isinstance(v, float):
            out.append(bits_of_f32(v) if ft == "f32" else bits_of_f64(v))
        else:
            out.append(v)
    return out


# ---------------------------------------------------------------------------------------------
# Memory, realloc, handles, contexts

JUNK = {}


def memory_of(j, addrtype):
    size = j["size"]
    if size not in JUNK:
        JUNK[size] = bytes((i * 167 + 13) % 251 for i in range(size))
    mem = bytearray(JUNK[size])
    given = bytes.fromhex(j.get("bytes", ""))
    mem[: len(given)] = given
    return D.MemInst(mem, addrtype)


class Realloc:
    """A bump allocator that shrinks in place, records its calls, and misbehaves on request."""

    def __init__(self, mem, j):
        self.mem = mem
        self.next = j["next"]
        self.fault = j.get("fault")
        self.fault_at = j.get("fault_at")
        self.calls = []
        self.end = 0

    def __call__(self, old, old_size, align, new_size):
        if old != 0 and new_size < old_size:
            ret = D.align_to(old, align)
        else:
            ret = D.align_to(self.next, align)
            if ret + new_size > len(self.mem):
                raise Kinded("realloc-failed", "out of memory")
            self.next = ret + new_size
            self.mem[ret: ret + old_size] = self.mem[old: old + old_size]
        if len(self.calls) == self.fault_at:
            if self.fault == "misalign":
                ret += 1
            elif self.fault == "out-of-bounds":
                ret = len(self.mem) - new_size + 1
        self.calls.append([old, old_size, align, new_size, ret])
        if ret + new_size <= len(self.mem):
            self.end = max(self.end, ret + new_size)
        return ret


class StandInTask(D.Task):
    """The scope of borrows lowered into the instance: only `num_borrows` is used."""

    def __init__(self):
        self.num_borrows = 0


class Cx(D.LiftLowerContext):
    def reallocate(self, old, old_byte_length, alignment, new_byte_length):
        return self.opts.realloc(old, old_byte_length, alignment, new_byte_length)


def context(j, lowering):
    """A context for request `j`: its options, memory, realloc and handle table."""
    o = j["opts"]
    mem = memory_of(j["memory"], "i64" if o["mem64"] else "i32")
    opts = D.CanonicalOptions()
    opts.memory = mem
    opts.string_encoding = o["encoding"]
    opts.realloc = Realloc(mem, o["realloc"]) if "realloc" in o else None
    inst = D.ComponentInstance(STORE)
    table = j.get("handles") or []
    for i, e in enumerate(table):
        if e is None:
            inst.handles.array.append(None)
            inst.handles.free.append(i + 1)
        else:
            rt, rep, own = e
            inst.handles.array.append(D.ResourceHandle(resource(rt), rep, own))
    scope = StandInTask() if lowering else D.Subtask()
    return Cx(opts, inst, scope)


def written(cx, *ends):
    """The memory from 0 to the end of what was written or allocated, as hex."""
    r = cx.opts.realloc
    end = max([r.end if r else 0] + list(ends))
    end = min(end, len(cx.opts.memory.bytes))
    return cx.opts.memory.bytes[:end].hex()


def check_pointer(cx, t, ptr):
    """The checks lift_flat_values and lower_flat_values make of a pointer to values."""
    ptr_type = cx.opts.memory.ptr_type()
    if ptr != D.align_to(ptr, D.alignment(t, ptr_type)):
        raise Kinded("misaligned:value", "values pointer not aligned")
    if ptr + D.elem_size(t, ptr_type) > len(cx.opts.memory):
        raise Kinded("out-of-bounds:value", "values pointer out of bounds")


# ---------------------------------------------------------------------------------------------
# Operations


def op_abi(j):
    ptr_type = "i64" if j["mem64"] else "i32"
    opts = D.CanonicalOptions()
    opts.memory = D.MemInst(bytearray(), ptr_type)
    layouts = []
    for tj in j["types"]:
        t = to_type(tj)
        layouts.append([D.elem_size(t, ptr_type), D.alignment(t, ptr_type), D.flatten_type(t, opts)])
    ft = D.FuncType([("p%d" % i, to_type(t)) for i, t in enumerate(j["params"])],
                    [to_type(t) for t in j["results"]])
    out = {"layouts": layouts}
    for context_ in ("lift", "lower"):
        cft = D.flatten_functype(opts, ft, context_)
        out[context_] = [cft.params, cft.results]
    return out


def op_lower_flat(j):
    t = to_type(j["ty"])
    cx = context(j, True)
    flat = D.lower_flat(cx, to_py(t, j["value"]), t)
    return {"flat": flat_out(D.flatten_type(t, cx.opts), flat), "memory": written(cx),
            "reallocs": cx.opts.realloc.calls}


def op_store(j):
    t = to_type(j["ty"])
    cx = context(j, True)
    ptr = j["ptr"]
    v = to_py(t, j["value"])
    check_pointer(cx, t, ptr)
    D.store(cx, v, t, ptr)
    size = D.elem_size(t, cx.opts.memory.ptr_type())
    return {"memory": written(cx, ptr + size), "reallocs": cx.opts.realloc.calls}


def op_lift_flat(j):
    t = to_type(j["ty"])
    cx = context(j, False)
    vi = D.CoreValueIter(flat_in(D.flatten_type(t, cx.opts), j["flat"]))
    return {"value": from_py(t, D.lift_flat(cx, vi, t))}


def op_load(j):
    t = to_type(j["ty"])
    cx = context(j, False)
    ptr = j["ptr"]
    check_pointer(cx, t, ptr)
    return {"value": from_py(t, D.load(cx, ptr, t))}


def op_lower_values(j):
    ts = [to_type(t) for t in j["types"]]
    cx = context(j, True)
    vs = [to_py(t, v) for t, v in zip(ts, j["values"], strict=True)]
    flat = D.lower_flat_values(cx, D.MAX_FLAT_PARAMS, vs, ts)
    flat_types = D.flatten_types(ts, cx.opts)
    if len(flat_types) > D.MAX_FLAT_PARAMS:
        flat_types = [cx.opts.memory.ptr_type()]
    return {"flat": flat_out(flat_types, flat), "memory": written(cx), "reallocs": cx.opts.realloc.calls}


def op_lift_values(j):
    ts = [to_type(t) for t in j["types"]]
    cx = context(j, False)
    flat_types = D.flatten_types(ts, cx.opts)
    if len(flat_types) > D.MAX_FLAT_PARAMS:
        flat_types = [cx.opts.memory.ptr_type()]
    vi = D.CoreValueIter(flat_in(flat_types, j["flat"]))
    vs = D.lift_flat_values(cx, D.MAX_FLAT_PARAMS, vi, ts)
    return {"values": [from_py(t, v) for t, v in zip(ts, vs, strict=True)]}


OPS = {
    "abi": op_abi, "lower_flat": op_lower_flat, "store": op_store, "lift_flat": op_lift_flat,
    "load": op_load, "lower_values": op_lower_values, "lift_values": op_lift_values,
}


def classify(exc):
    """The kind of a trap: from the line of definitions.py that raised it."""
    if isinstance(exc, Kinded):
        return exc.kind, str(exc)
    tb, where = exc.__traceback__, None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name not in ("trap", "trap_if") and os.path.abspath(code.co_filename) == DEFS_FILE:
            where = (tb.tb_frame.f_code.co_name, tb.tb_lineno)
        tb = tb.tb_next
    if where is None:
        return "other", "trap outside definitions.py"
    func, lineno = where
    line = linecache.getline(DEFS_FILE, lineno).strip()
    detail = "%s: %s" % (func, line)
    stringy = "string" in func or "utf" in func or "latin1" in func
    what = "string" if stringy else "list" if "list" in func else "value"
    if "MAX_STRING_BYTE_LENGTH" in line or "MAX_LIST_BYTE_LENGTH" in line:
        return "too-long:" + what, detail
    if "align_to" in line:
        return "misaligned:" + what, detail
    if "len(cx.opts.memory)" in line:
        return "out-of-bounds:" + what, detail
    if func == "load_string_from_range":
        return "invalid-string", detail
    if func == "convert_i32_to_char":
        return "invalid-char", detail
    if "case_index >= len(cases)" in line:
        return "invalid-discriminant", detail
    if func in ("get", "remove", "lift_own", "lift_borrow"):
        return "handle", detail
    return "other", detail


def serve(line):
    try:
        j = json.loads(line)
        return OPS[j["op"]](j)
    except D.Trap as e:
        kind, detail = classify(e)
        return {"trap": kind, "detail": detail}
    except Exception as e:  # an assertion of the definitions, or a malformed request
        import traceback
        return {"error": "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc())}


def main():
    first_line({"ready": "%d.%d.%d" % sys.version_info[:3]})
    for line in sys.stdin:
        if not line.strip():
            continue
        sys.stdout.write(json.dumps(serve(line)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
