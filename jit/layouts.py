"""The memory layouts and constants that stencils (C) and the runtime (Python) share: their one definition.

Each structure is a ctypes ``Structure`` declared by its C spelling: a field's C type gives its ctypes type (and
its ``struct`` format character where a table is packed with ``struct``), so nothing is written twice.
``build_stencils.py`` renders from this module the GENERATED header stencils/jit_layouts.h (see
jit/_build/layouts.py), which jit_stencil.h includes, with a ``_Static_assert`` per field offset and per size:
a layout clang lays out otherwise on any of the six targets fails the build, and ``--check`` fails while the
header is stale.

Imported by ``import jit`` (the frame stack, the deoptimization tables): only ctypes and struct, which the
runtime imports anyway.
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any, ClassVar, NamedTuple

__all__ = [
    "CONSTANTS",
    "DEOPT_BORROWED",
    "DEOPT_BOX_BOOL",
    "DEOPT_BOX_FLOAT",
    "DEOPT_BOX_INT",
    "DEOPT_CONSTANT",
    "DEOPT_ENTRY",
    "DEOPT_HEADER",
    "DEOPT_KEEP",
    "DEOPT_KIND",
    "DEOPT_KIND_OFFSET",
    "DEOPT_NULL",
    "LAYOUTS",
    "OBSERVED_BOOL",
    "OBSERVED_FLOAT",
    "OBSERVED_INT",
    "OBSERVED_LOST",
    "OBSERVED_OTHER",
    "PY_EQ",
    "PY_GE",
    "PY_GT",
    "PY_LE",
    "PY_LT",
    "PY_NE",
    "RICH_COMPARE",
    "SLOT_BYTES",
    "STACK_FLOORS",
    "UNPACK_TO_SLOTS_MAX",
    "AttributeCache",
    "AttributeEntry",
    "Chunk",
    "DeoptEntry",
    "DeoptTable",
    "Field",
    "FrameStack",
    "GlobalCache",
    "GlobalGuard",
    "Layout",
    "ObjectLayout",
    "StackFloor",
    "member_format",
    "struct_format",
]

SLOT_BYTES = 8  # a frame slot (JitSlot): an int64, a double or a PyObject*
STACK_FLOORS = 8  # the frame stack's cache of C stack floors, one entry per recent thread

# Rich-comparison opcodes, fixed by the stable ABI (Py_LT ... Py_GE); RICH_COMPARE is by Python operator.
PY_LT, PY_LE, PY_EQ, PY_NE, PY_GT, PY_GE = range(6)
RICH_COMPARE = {"<": PY_LT, "<=": PY_LE, "==": PY_EQ, "!=": PY_NE, ">": PY_GT, ">=": PY_GE}

# What a deoptimization table says a generic-tier slot becomes (stencils/deopt.c): NULL, a box of the slot's
# unboxed value, the entry's constant, what the slot already holds, or that object with a reference of its own
# (a parameter the specialized tier borrows from the caller: the generic tier owns its slots).
DEOPT_NULL, DEOPT_BOX_INT, DEOPT_BOX_FLOAT, DEOPT_BOX_BOOL, DEOPT_CONSTANT, DEOPT_KEEP, DEOPT_BORROWED = range(7)

# What an attribute cache found at its site (stencils/objects.c): nothing yet, an instance attribute among the
# instance's values, a __slots__ member, a method on the type (instances with values, or without any dict), an
# instance attribute in the instance's own dict (at a hint: its index there), a method on a type whose instances
# have a managed dict but no values (a subclass of list), for an instance that has made no dict yet, a plain
# value (no descriptor) that a class (an instance of `type` itself) has, found in its MRO, a method on the type of
# an instance whose own dict (of str keys only) does not hold the name.
(ATTRIBUTE_EMPTY, ATTRIBUTE_VALUE, ATTRIBUTE_SLOT, ATTRIBUTE_METHOD, ATTRIBUTE_METHOD_NO_DICT, ATTRIBUTE_DICT,
 ATTRIBUTE_METHOD_NO_DICT_YET, ATTRIBUTE_CLASS, ATTRIBUTE_METHOD_DICT) = range(9)
# Where this interpreter keeps an instance's values (jit/backend/layout.py finds out): none that cpjit knows of;
# after the object (3.13+, valid while a byte of their header says so); behind a pointer before the object,
# NULL once a dict took them over (3.11); behind a word before the object tagged with bit 0 (3.12).
VALUES_NONE, VALUES_INLINE, VALUES_POINTER, VALUES_TAGGED = range(4)
# How this interpreter keeps an int's size (jit/backend/layout.py finds out), for the stencils that read a compact
# int (one 30-bit digit) inline: not known (they call the C API); a signed digit count in ob_size (3.11); a tag
# of digit count and sign (3.12+: lv_tag).  Either way the word after the object head, then the digits.
INT_UNKNOWN, INT_SIGNED_SIZE, INT_TAGGED = range(3)
ATTRIBUTE_TYPES = 4  # the types one attribute cache knows at once
ATTRIBUTE_FILLS = 64  # an attribute cache refills at most this often: a site that keeps changing type stays generic
UNPACK_TO_SLOTS_MAX = 16  # the most targets UNPACK_TO_SLOTS stores (it takes the items into a buffer of this many)
# What the values at a bet on a type were (NOTE_TYPE, stencils/box.c): one bit per kind of value, or-ed into the
# bet's word, and one more where the specialized tier lost the bet there; the driver reads them to bet again
# (jit/optimizer/bets.py).
OBSERVED_FLOAT, OBSERVED_INT, OBSERVED_BOOL, OBSERVED_OTHER, OBSERVED_LOST = 1, 2, 4, 8, 16

# The C names of the constants above, in the generated header's order.
CONSTANTS: dict[str, int] = {
    "JIT_SLOT_BYTES": SLOT_BYTES,
    "JIT_STACK_FLOORS": STACK_FLOORS,
    "Py_LT": PY_LT, "Py_LE": PY_LE, "Py_EQ": PY_EQ, "Py_NE": PY_NE, "Py_GT": PY_GT, "Py_GE": PY_GE,
    "DEOPT_NULL": DEOPT_NULL, "DEOPT_BOX_INT": DEOPT_BOX_INT, "DEOPT_BOX_FLOAT": DEOPT_BOX_FLOAT,
    "DEOPT_BOX_BOOL": DEOPT_BOX_BOOL, "DEOPT_CONSTANT": DEOPT_CONSTANT, "DEOPT_KEEP": DEOPT_KEEP,
    "DEOPT_BORROWED": DEOPT_BORROWED,
    "ATTRIBUTE_EMPTY": ATTRIBUTE_EMPTY, "ATTRIBUTE_VALUE": ATTRIBUTE_VALUE, "ATTRIBUTE_SLOT": ATTRIBUTE_SLOT,
    "ATTRIBUTE_METHOD": ATTRIBUTE_METHOD, "ATTRIBUTE_METHOD_NO_DICT": ATTRIBUTE_METHOD_NO_DICT,
    "ATTRIBUTE_DICT": ATTRIBUTE_DICT, "ATTRIBUTE_METHOD_NO_DICT_YET": ATTRIBUTE_METHOD_NO_DICT_YET,
    "ATTRIBUTE_CLASS": ATTRIBUTE_CLASS, "ATTRIBUTE_METHOD_DICT": ATTRIBUTE_METHOD_DICT,
    "VALUES_NONE": VALUES_NONE, "VALUES_INLINE": VALUES_INLINE, "VALUES_POINTER": VALUES_POINTER,
    "VALUES_TAGGED": VALUES_TAGGED, "ATTRIBUTE_TYPES": ATTRIBUTE_TYPES, "ATTRIBUTE_FILLS": ATTRIBUTE_FILLS,
    "INT_UNKNOWN": INT_UNKNOWN, "INT_SIGNED_SIZE": INT_SIGNED_SIZE, "INT_TAGGED": INT_TAGGED,
    "UNPACK_TO_SLOTS_MAX": UNPACK_TO_SLOTS_MAX,
    "OBSERVED_FLOAT": OBSERVED_FLOAT, "OBSERVED_INT": OBSERVED_INT, "OBSERVED_BOOL": OBSERVED_BOOL,
    "OBSERVED_OTHER": OBSERVED_OTHER, "OBSERVED_LOST": OBSERVED_LOST,
}


class Field(NamedTuple):
    """One member of a shared structure, as C declares it."""

    name: str
    c_type: str  # "uint32_t", "int64_t", "PyObject *", a layout's C name, "JitChunk *" ...
    why: str = ""  # its comment in the header
    length: str = ""  # an array: the name of its length in CONSTANTS


# Fixed-width scalars: their ctypes type and their struct format character (standard sizes, "=").
_SCALARS: dict[str, tuple[Any, str]] = {
    "uint32_t": (ctypes.c_uint32, "I"), "int32_t": (ctypes.c_int32, "i"),
    "uint64_t": (ctypes.c_uint64, "Q"), "int64_t": (ctypes.c_int64, "q"),
}
_BY_C_NAME: dict[str, type[Layout]] = {}


class Layout(ctypes.Structure):
    """A structure shared with the stencils; subclasses are declared with :func:`_declare`."""

    C_NAME: ClassVar[str]
    C_DOC: ClassVar[str]
    C_FIELDS: ClassVar[tuple[Field, ...]]
    C_FLEXIBLE: ClassVar[Field | None]  # a trailing flexible array member (not part of the ctypes structure)


def _ctype(field: Field) -> Any:
    if field.length:
        return _BY_C_NAME[field.c_type] * CONSTANTS[field.length]
    if field.c_type in _SCALARS:
        return _SCALARS[field.c_type][0]
    pointee = field.c_type.removesuffix("*").strip()
    if pointee == field.c_type:
        return _BY_C_NAME[field.c_type]
    # A pointer to a shared structure can be followed from Python; any other pointer is an address.
    return ctypes.POINTER(_BY_C_NAME[pointee]) if pointee in _BY_C_NAME else ctypes.c_void_p


def _declare(layout: type[Layout], c_name: str, doc: str, *fields: Field, flexible: Field | None = None) -> None:
    # Registered before its fields are made, so that a structure may point to its own kind (JitChunk).
    layout.C_NAME, layout.C_DOC, layout.C_FIELDS, layout.C_FLEXIBLE = c_name, doc, fields, flexible
    _BY_C_NAME[c_name] = layout
    layout._fields_ = [(field.name, _ctype(field)) for field in fields]


def struct_format(layout: type[Layout]) -> str:
    """The ``struct`` format of a structure of scalars and pointers, which has no padding."""
    chars = "".join(_SCALARS[f.c_type][1] if f.c_type in _SCALARS else "Q" for f in layout.C_FIELDS)
    if any(f.length or (f.c_type not in _SCALARS and not f.c_type.endswith("*")) for f in layout.C_FIELDS) \
            or struct.calcsize("=" + chars) != ctypes.sizeof(layout):
        raise TypeError(f"{layout.C_NAME} has no struct format")
    return "=" + chars


def member_format(layout: type[Layout], name: str) -> str:
    """The ``struct`` format of one scalar member, alone."""
    (field,) = (f for f in layout.C_FIELDS if f.name == name)
    return "=" + _SCALARS[field.c_type][1]


class Chunk(Layout):
    """JitChunk: a chunk of frame slots (its slots follow the header)."""


_declare(
    Chunk, "JitChunk",
    "A chunk of the frame stack's slots: a frame that does not fit in the rest of the current chunk goes to\n"
    "the start of the next one (made with PyMem_Malloc the first time, then kept for reuse), so compiled\n"
    "recursion is limited by the recursion limit and the C stack, never by a fixed size.  A frame's size\n"
    "includes the slots its direct calls pass arguments in, so a frame never straddles two chunks.",
    Field("next", "JitChunk *", "the chunk after this one once made, else NULL"),
    Field("previous", "JitChunk *", "the chunk before it (NULL for the first)"),
    Field("limit", "JitSlot *", "one past its last slot"),
    flexible=Field("slots", "JitSlot"),
)


class StackFloor(Layout):
    """JitStackFloor: a thread's lowest C stack address for compiled calls."""


_declare(
    StackFloor, "JitStackFloor",
    "Compiled calls run on the C stack (3.11's Python-to-Python calls do not): below a thread's floor a call\n"
    "raises RecursionError instead of running off the end of the stack.  The floors of the last few threads\n"
    "are cached in the frame stack, found by the thread state's address; measure_c_stack (a Python callable)\n"
    "fills the entry of the running thread when ENTRY finds it missing.",
    Field("thread", "PyThreadState *"),
    Field("floor", "char *"),
)


class FrameStack(Layout):
    """JitFrameStack: the process-wide stack of frames (jit/backend/frames.py)."""


_declare(
    FrameStack, "JitFrameStack",
    "The stack of frames (jit/backend/frames.py): ENTRY takes a frame from its top, a direct call puts its\n"
    "callee's frame after the caller's and moves the top past it, so that any entry from within gets fresh\n"
    "slots.  One thread owns it while it has live frames: an entry from another thread (possible whenever\n"
    "compiled code lets the GIL go) takes the slow path instead.",
    Field("top", "JitSlot *"),
    Field("limit", "JitSlot *", "the end of the current chunk"),
    Field("base", "JitSlot *", "the first slot of the first chunk: top == base when no frame is live"),
    Field("owner", "PyThreadState *"),
    Field("recursion_counter_offset", "int64_t",
          "Where in the owner's thread state the counter is that a Python call decrements (found at run time\n"
          "by jit/backend/frames.py), or 0: then the C-API functions are called.  On 3.11\n"
          "Py_EnterRecursiveCall decrements the same counter, and raises at its limit; from 3.12 on it has one\n"
          "of its own (or checks the C stack), so with recursion_counter_python_only set a call at the limit\n"
          "raises RecursionError here, as the interpreter does"),
    Field("recursion_counter_python_only", "int64_t"),
    Field("chunk", "JitChunk *", "the chunk top is in"),
    Field("c_floor", "char *", "the owner's floor (see JitStackFloor), set when it takes the stack"),
    Field("chunk_slots", "int64_t", "the size of a new chunk (more if a frame needs more)"),
    Field("measure_c_stack", "PyObject *"),
    Field("stack_address", "char *", "where ENTRY was when it called measure_c_stack"),
    Field("call_countdown", "int64_t",
          "Function entries count down from it and poll for signals when it runs out, as the interpreter's\n"
          "eval breaker does at every call: recursion without loops must answer Ctrl-C and let other threads\n"
          "run too"),
    Field("floors", "JitStackFloor", length="JIT_STACK_FLOORS"),
)


class DeoptEntry(Layout):
    """JitDeoptEntry: what one slot becomes at a side exit."""


_declare(
    DeoptEntry, "JitDeoptEntry",
    "What one generic-tier slot becomes at a side exit (jit/backend/lowering.py builds the tables).",
    Field("slot", "uint32_t"),
    Field("kind", "uint32_t", "DEOPT_NULL ... DEOPT_BORROWED"),
    Field("constant", "PyObject *", "borrowed: the compiled code keeps it alive"),
)


class DeoptTable(Layout):
    """JitDeoptTable: the header of a deoptimization table (its entries follow)."""


_declare(
    DeoptTable, "JitDeoptTable",
    "A deoptimization table: its entries follow the header.",
    Field("count", "uint64_t"),
    Field("counter", "int64_t *", "deoptimizations of this specialization"),
    flexible=Field("entries", "JitDeoptEntry"),
)


class GlobalGuard(Layout):
    """JitGlobalGuard: the cell of one GUARD_GLOBAL (stencils/calls.c)."""


_declare(
    GlobalGuard, "JitGlobalGuard",
    "GUARD_GLOBAL leaves (to the slow path) when a global the code assumed has been rebound.",
    Field("namespace", "PyObject *"),
    Field("name", "PyObject *"),
    Field("expected", "PyObject *", "NULL: the name must stay unbound"),
)

class NamespaceStamp(Layout):
    """JitNamespaceStamp: the cell of one GUARD_NAMESPACE (stencils/calls.c)."""


_declare(
    NamespaceStamp, "JitNamespaceStamp",
    "GUARD_NAMESPACE passes when nothing in a namespace changed since its globals' guards last held\n"
    "(jit/backend/namespaces.py): then they need no lookup each.",
    Field("namespace", "PyObject *", "a dict: a module's globals, the builtins"),
    Field("epoch", "uint64_t *", "counted up by a dict watcher at every change of a watched dict (3.12+), or NULL:\n"
          "then the dict's own version tag is the stamp (3.11)"),
    Field("expected", "uint64_t", "the stamp when the guards last held"),
)


class GlobalCache(Layout):
    """JitGlobalCache: the cell of one LOAD_GLOBAL, STORE_GLOBAL or DELETE_GLOBAL (stencils/objects.c)."""


_declare(
    GlobalCache, "JitGlobalCache",
    "A global read, written or deleted when the code runs, in the namespaces of the function; a read goes through\n"
    "the hint first, as CPython's LOAD_GLOBAL_MODULE goes through its cached index",
    Field("globals", "PyObject *"),
    Field("builtins", "PyObject *"),
    Field("name", "PyObject *"),
    Field("hint", "int64_t", "the index of name among the globals' entries where it was last found, or -1"),
    Field("layout", "JitObjectLayout *", "where the dicts keep their entries (NULL: not probed, no hint)"),
)


class ObjectLayout(Layout):
    """JitObjectLayout: where the running interpreter keeps what attribute caches read (jit/backend/layout.py)."""


_declare(
    ObjectLayout, "JitObjectLayout",
    "Where the running interpreter keeps the parts of types and instances that attribute caches read, found by\n"
    "jit/backend/layout.py's probes (one per process): the stencils are one set for every CPython version",
    Field("version_offset", "int64_t", "a type's tp_version_tag (uint32_t, 0 while invalid)"),
    Field("values_mode", "int64_t", "VALUES_NONE ... VALUES_TAGGED"),
    Field("values_flag", "uint64_t", "the type flag of types whose instances have values"),
    Field("values_offset", "int64_t", "POINTER, TAGGED: the word's offset from the object"),
    Field("valid_offset", "int64_t", "INLINE: the byte of the values' header that is non-zero while valid"),
    Field("items_offset", "int64_t", "INLINE: where the values' items start after the object"),
    Field("managed_dict_offset", "int64_t", "INLINE: the word before the object that points to a dict made"),
    Field("cached_keys_offset", "int64_t", "a heap type's shared keys (ht_cached_keys)"),
    Field("keys_entries_offset", "int64_t", "how many names shared keys hold (dk_nentries)"),
    Field("keys_index_size_offset", "int64_t", "the byte of log2 of their index's size (dk_log2_index_bytes)"),
    Field("keys_indices_offset", "int64_t", "where their index starts; the (name, value) entries follow it"),
    Field("keys_kind_offset", "int64_t", "the byte of their kind (dk_kind): DICT_KEYS_UNICODE for str keys only"),
    Field("keys_unicode", "int64_t", "that kind's value"),
    Field("dict_keys_offset", "int64_t", "a dict's keys (ma_keys)"),
    Field("dict_values_offset", "int64_t", "a dict's values (ma_values), NULL unless it shares keys"),
    Field("member_offset", "int64_t", "a member descriptor's PyMemberDef"),
    Field("appends_values", "int64_t", "1: a store may add an attribute to an instance's values (the probe found\n"
          "their insertion order where STORE_ATTR_CACHED records it)"),
)


class AttributeEntry(Layout):
    """JitAttributeEntry: what an attribute cache knows of one type."""


_declare(
    AttributeEntry, "JitAttributeEntry",
    "What an attribute cache knows of one type: valid while the owner's type has the version it had when\n"
    "filled (a type's version changes whenever it or a base changes)",
    Field("version", "uint32_t", "the type's version tag when filled (0: never matches a valid type)"),
    Field("kind", "uint32_t", "ATTRIBUTE_EMPTY ... ATTRIBUTE_METHOD_NO_DICT"),
    Field("values_at", "int64_t", "VALUE, METHOD: the values' offset (INLINE) or their word's (the others); DICT:\n"
          "the offset of the word that points to the instance's dict"),
    Field("index", "int64_t", "VALUE: the attribute's index among the values; SLOT: its byte offset; DICT: a hint,\n"
          "its index among the entries of the instance's dict (checked: the entry's key must be the name; -1: none),\n"
          "else a lookup in that dict; CLASS, in a\n"
          "call: 1 when the class is the first argument (a classmethod's function)"),
    Field("keys", "char *", "METHOD: the type's shared keys, which do not hold the name ...; CLASS: the class"),
    Field("key_count", "int64_t", "... among the names they held then; CLASS: the class's own version"),
    Field("method", "PyObject *", "METHOD, CLASS: what the type has (borrowed: the type holds it while its version\n"
          "holds)"),
    Field("bind", "void *", "METHOD, for a load: the method's tp_descr_get, which makes the bound method"),
)


class AttributeCache(Layout):
    """JitAttributeCache: the inline cache of one attribute or method site (stencils/objects.c)."""


_declare(
    AttributeCache, "JitAttributeCache",
    "The inline cache of one attribute load, store or method call, as the specializing interpreter keeps one\n"
    "per instruction, for up to ATTRIBUTE_TYPES types (a method of a base class sees its subclasses); a miss\n"
    "refills one entry, at most ATTRIBUTE_FILLS times",
    Field("name", "PyObject *"),
    Field("layout", "JitObjectLayout *"),
    Field("values_mode", "int64_t", "the layout's, at hand"),
    Field("fills", "int64_t"),
    Field("entries", "JitAttributeEntry", length="ATTRIBUTE_TYPES"),
)

# The generated header's structures, in declaration order (a structure after those it contains).
LAYOUTS: tuple[type[Layout], ...] = (Chunk, StackFloor, FrameStack, DeoptEntry, DeoptTable, GlobalGuard,
                                     NamespaceStamp, GlobalCache, ObjectLayout, AttributeEntry, AttributeCache)

DEOPT_HEADER = struct.Struct(struct_format(DeoptTable))  # entries, address of the counter
DEOPT_ENTRY = struct.Struct(struct_format(DeoptEntry))  # slot, kind, constant
DEOPT_KIND = struct.Struct(member_format(DeoptEntry, "kind"))  # an entry's kind, alone
DEOPT_KIND_OFFSET: int = DeoptEntry.kind.offset  # where an entry's kind is, from the entry's start
