"""Where the running interpreter keeps what machine code reads of its objects, found at run time.

Layouts of object internals differ between CPython versions, and the stencils
are one set for all of them: an offset is a value patched into a hole, found
here by watching which word of a probe object changes when Python code changes
the attribute, never assumed from a version number.  A probe that does not find
exactly one such word raises UnsupportedHostError (the interpreter then runs
what would have needed it).
"""

from __future__ import annotations

import ctypes
import functools
import sys

from jit import layouts
from jit.backend.errors import UnsupportedHostError

WORD = ctypes.sizeof(ctypes.c_void_p)


def _words(obj: object, size: int) -> list[int]:
    raw = ctypes.string_at(id(obj), size)
    return [int.from_bytes(raw[i:i + WORD], "little") for i in range(0, size - size % WORD, WORD)]


@functools.cache
def function_field_offset(name: str) -> int:
    """The byte offset in a function object of the pointer behind ``name`` (__code__, __defaults__ ...)."""

    def probe() -> None:
        pass

    def other() -> None:
        pass

    values: dict[str, tuple[object, object]] = {
        "__code__": (probe.__code__, other.__code__),
        "__defaults__": ((1,), (2,)),
        "__kwdefaults__": ({"a": 1}, {"b": 2}),
    }
    first, second = values[name]
    size = type(probe).__basicsize__
    setattr(probe, name, first)
    before = _words(probe, size)
    setattr(probe, name, second)
    after = _words(probe, size)
    found = [index * WORD for index, (old, new) in enumerate(zip(before, after, strict=True))
             if old == id(first) and new == id(second)]
    if len(found) != 1:
        raise UnsupportedHostError(f"cannot find where this interpreter keeps a function's {name}")
    return found[0]


def field_address(obj: object, name: str) -> int:
    """The address of the word of function ``obj`` that holds ``name``."""
    return id(obj) + function_field_offset(name)


@functools.cache
def tuple_items_offset() -> int:
    """The byte offset of a tuple's first item (after its size, which the stable ABI fixes as a PyVarObject)."""
    sentinel = object()
    probe = (sentinel, None)
    words = _words(probe, type(probe).__basicsize__ + 2 * WORD)
    found = [index * WORD for index, word in enumerate(words) if word == id(sentinel)]
    if len(found) != 1 or words[found[0] // WORD + 1] != id(None) or words[VAR_SIZE_WORD] != len(probe):
        raise UnsupportedHostError("cannot find where this interpreter keeps a tuple's items")
    return found[0]


VAR_SIZE_WORD = 2  # PyVarObject: ob_refcnt, ob_type, ob_size (stable ABI)
TYPE_BASICSIZE_OFFSET = 4 * WORD  # PyTypeObject: its variable-size head, tp_name, then tp_basicsize


# --- what attribute caches read (layouts.ObjectLayout) ---------------------------------------------------------

_MANAGED_DICT = 1 << 4  # Py_TPFLAGS_MANAGED_DICT (3.11+): instances keep their attributes before or after them
_INLINE_VALUES = 1 << 2  # Py_TPFLAGS_INLINE_VALUES (3.13+): their values after the object
_PRE_HEADER = (-8, -16, -24, -32)  # the words before an object where a managed dict or values may be


def _word(address: int) -> int:
    return int.from_bytes(ctypes.string_at(address, WORD), "little")


def _u32s(obj: object, size: int) -> list[int]:
    raw = ctypes.string_at(id(obj), size)
    return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, size - size % 4, 4)]


def _type_size(cls: type) -> int:
    """The size of the type object ``cls`` (a heap type's, with its slots and caches)."""
    return int(getattr(type(cls), "__basicsize__"))  # noqa: B009 - typeshed types it as a callable on classes


def _type_version_offset() -> int:
    class Probe:
        pass

    instance, size = Probe(), _type_size(Probe)
    hasattr(instance, "missing")  # a type lookup gives the type a version
    before = _u32s(Probe, size)
    Probe.changed = 1  # type: ignore[attr-defined]  # a change takes it away
    between = _u32s(Probe, size)
    hasattr(instance, "missing")
    after = _u32s(Probe, size)
    found = [index * 4 for index, (old, mid, new) in enumerate(zip(before, between, after, strict=True))
             if old and not mid and new and new != old]
    if len(found) != 1:
        raise UnsupportedHostError("cannot find where this interpreter keeps a type's version")
    return found[0]


def _values(instance: object, items: list[int]) -> tuple[int, int, int]:
    """How ``instance`` (with the attributes whose values' addresses are ``items``) keeps its values: the mode,
    the offset of their word (or of the values), and INLINE's items offset."""
    start = id(instance)
    for offset in _PRE_HEADER:
        word = _word(start + offset)
        for mode, base in ((layouts.VALUES_POINTER, word), (layouts.VALUES_TAGGED, word - 1 if word & 1 else 0)):
            if base and [_word(base + i * WORD) for i in range(len(items))] == items:
                return mode, offset, 0
    after = start + type(instance).__basicsize__
    for items_offset in range(0, 4 * WORD, WORD):
        if [_word(after + items_offset + i * WORD) for i in range(len(items))] == items:
            return layouts.VALUES_INLINE, type(instance).__basicsize__, items_offset
    raise UnsupportedHostError("cannot find where this interpreter keeps an instance's attributes")


def _probe_object_layout() -> layouts.ObjectLayout:
    class Probe:
        pass

    names = [sys.intern(name) for name in ("alpha", "beta", "gamma")]
    values = [object() for _ in names]

    def instance() -> Probe:
        made = Probe()
        for name, value in zip(names, values, strict=True):
            setattr(made, name, value)
        return made

    found, taken = instance(), instance()
    items = [id(value) for value in values]
    mode, values_at, items_offset = _values(found, items)
    start = id(taken)
    before = [_word(start + offset) for offset in _PRE_HEADER]
    valid_before = ctypes.string_at(start + values_at, items_offset)
    taken.__dict__ = dict(taken.__dict__)  # a dict of its own takes the values over
    dict_word = [offset for offset in _PRE_HEADER if _word(start + offset) == id(taken.__dict__)]
    if len(dict_word) != 1:
        raise UnsupportedHostError("cannot find where this interpreter keeps an instance's dict")
    valid_offset = 0
    if mode == layouts.VALUES_INLINE:
        valid_after = ctypes.string_at(start + values_at, items_offset)
        flips = [i for i in range(items_offset) if valid_before[i] and not valid_after[i]]
        if len(flips) != 1:
            raise UnsupportedHostError("cannot find how this interpreter marks an instance's values as given up")
        valid_offset = flips[0]
    elif _word(start + values_at) == before[_PRE_HEADER.index(values_at)] and mode == layouts.VALUES_POINTER:
        raise UnsupportedHostError("an instance's values pointer outlives its dict")
    flag = _INLINE_VALUES if mode == layouts.VALUES_INLINE else _MANAGED_DICT
    if _word(id(Probe) + TYPE_BASICSIZE_OFFSET) != Probe.__basicsize__:
        raise UnsupportedHostError("a type's tp_basicsize is not where cpjit reads it")
    if not Probe.__flags__ & flag:
        raise UnsupportedHostError("the type flag of instances with values is not where cpjit looks")
    # The shared keys (ht_cached_keys) come right after ht_name, ht_slots and ht_qualname.
    type_words = _words(Probe, _type_size(Probe))
    named = [index for index, word in enumerate(type_words[:-3])
             if word == id(Probe.__name__) and type_words[index + 2] == id(Probe.__qualname__)]
    if len(named) != 1:
        raise UnsupportedHostError("cannot find a heap type's shared keys")
    cached_keys_offset = (named[0] + 3) * WORD
    keys = type_words[named[0] + 3]
    entries_offset, index_size_offset, indices_offset = 3 * WORD, WORD + 1, 4 * WORD
    if not keys or _word(keys + entries_offset) != len(names):
        raise UnsupportedHostError("shared keys are not laid out as cpjit reads them")
    entries = keys + indices_offset + (1 << ctypes.string_at(keys + index_size_offset, 1)[0])
    if [_word(entries + 2 * WORD * index) for index in range(len(names))] != [id(name) for name in names]:
        raise UnsupportedHostError("shared keys are not laid out as cpjit reads them")
    appends = _values_record_their_order(Probe, names, mode, values_at, items_offset)
    shared = instance()
    dict_keys_offset, dict_values_offset, keys_kind_offset, keys_unicode = _dict_layout(
        keys, shared.__dict__, entries_offset, index_size_offset, indices_offset)
    return layouts.ObjectLayout(
        appends_values=int(appends), keys_kind_offset=keys_kind_offset, keys_unicode=keys_unicode,
        dict_keys_offset=dict_keys_offset, dict_values_offset=dict_values_offset,
        version_offset=_type_version_offset(), values_mode=mode, values_flag=flag,
        values_offset=values_at, valid_offset=valid_offset, items_offset=items_offset,
        managed_dict_offset=dict_word[0], cached_keys_offset=cached_keys_offset, keys_entries_offset=entries_offset,
        keys_index_size_offset=index_size_offset, keys_indices_offset=indices_offset,
        member_offset=_member_offset())


def _values_record_their_order(cls: type, names: list[str], mode: int, values_at: int, items_offset: int) -> bool:
    """Whether a new attribute's index goes into its instance's values' insertion order where STORE_ATTR_CACHED
    writes it: after the items, the size in the header (INLINE); before the items, downwards from the size
    (the others).  Otherwise a store of a new attribute takes the generic path."""
    made = cls()
    start = id(made)

    def items() -> int:
        if mode == layouts.VALUES_INLINE:
            return start + values_at + items_offset
        word = _word(start + values_at)
        return word - 1 if mode == layouts.VALUES_TAGGED else word

    def order() -> list[int]:
        at = items()
        if mode == layouts.VALUES_INLINE:
            header = ctypes.string_at(at - items_offset, 2)  # capacity, size
            return list(ctypes.string_at(at + header[0] * WORD, header[1]))
        size = ctypes.string_at(at - 2, 1)[0]
        return [ctypes.string_at(at - 3 - i, 1)[0] for i in range(size)]

    if not items():
        return False
    seen = [order()]
    setattr(made, names[2], 1)
    seen.append(order())
    setattr(made, names[0], 2)
    seen.append(order())
    return seen == [[], [2], [2, 0]] and list(vars(made)) == [names[2], names[0]]


def _dict_layout(shared_keys: int, shared: dict[str, object], entries_offset: int, index_size_offset: int,
                 indices_offset: int) -> tuple[int, int, int, int]:
    """Where a dict keeps its keys and its shared values (found in ``shared``, a dict made of an instance's values,
    whose keys are its type's ``shared_keys``), and the keys' kind byte and its value for str keys only."""
    words = _words(shared, type(shared).__basicsize__)
    found = [index * WORD for index, word in enumerate(words[2:-1], start=2) if word == shared_keys]
    if len(found) != 1:
        raise UnsupportedHostError("cannot find where this interpreter keeps a dict's keys")
    keys_offset = found[0]
    names = [sys.intern(name) for name in ("alpha", "beta")]
    values = [object(), object()]
    combined = dict(zip(names, values, strict=True))
    keys = _word(id(combined) + keys_offset)
    entries = keys + indices_offset + (1 << ctypes.string_at(keys + index_size_offset, 1)[0])
    pairs = [_word(entries + i * WORD) for i in range(2 * len(names))]
    if _word(keys + entries_offset) != len(names) or pairs != [id(names[0]), id(values[0]), id(names[1]),
                                                               id(values[1])]:
        raise UnsupportedHostError("a dict's entries are not laid out as cpjit reads them")
    if _word(id(combined) + keys_offset + WORD) != 0 or not words[keys_offset // WORD + 1]:
        raise UnsupportedHostError("cannot find where this interpreter keeps a dict's shared values")
    kind_offset = index_size_offset + 1  # dk_kind follows dk_log2_index_bytes
    general = {1: object()}
    kinds = [ctypes.string_at(_word(id(d) + keys_offset) + kind_offset, 1)[0] for d in (combined, general)]
    if kinds[0] == kinds[1]:
        raise UnsupportedHostError("cannot tell a dict of str keys by its keys' kind")
    return keys_offset, keys_offset + WORD, kind_offset, kinds[0]


def _member_offset() -> int:
    """Where a member descriptor (``__slots__``) keeps its PyMemberDef, checked by the member's offset."""

    class Slotted:
        __slots__ = ("member",)

    sentinel, instance = object(), Slotted()
    instance.member = sentinel  # type: ignore[attr-defined]
    descriptor = Slotted.__dict__["member"]
    member_def_offset = 2 * WORD  # PyMemberDef: name, type (int), offset (Py_ssize_t)
    found = []
    for index, word in enumerate(_words(descriptor, type(descriptor).__basicsize__)[2:], start=2):
        if word and word not in (id(Slotted), id(descriptor.__name__), id(descriptor.__qualname__)):
            offset = _word(word + member_def_offset)
            if 0 < offset < type(instance).__basicsize__ and _word(id(instance) + offset) == id(sentinel):
                found.append(index * WORD)
    if len(found) != 1:
        raise UnsupportedHostError("cannot find a member descriptor's definition")
    return found[0]


@functools.cache
def object_layout() -> layouts.ObjectLayout | None:
    """The running interpreter's layout for attribute caches, or None where a probe fails (then every attribute
    access takes the C API's generic path)."""
    try:
        return _probe_object_layout()
    except UnsupportedHostError:
        return None

# --- how ints and lists keep what the stencils read inline (jit_compact_int, jit_list_place) ----------------

_DIGIT_BITS = 30  # a compact int's one digit (CPython's PYLONG_BITS_IN_DIGIT on every 64-bit build)


def _int_words(value: int) -> tuple[int, int]:
    """The word after ``value``'s object head, as signed, and the 32 bits after it (where its first digit is)."""
    size_at = VAR_SIZE_WORD * WORD
    raw = ctypes.string_at(id(value), size_at + WORD + 4)
    return (int.from_bytes(raw[size_at:size_at + WORD], "little", signed=True),
            int.from_bytes(raw[size_at + WORD:], "little"))


def _compact_value(mode: int, size_word: int, digit: int) -> int | None:
    """What the stencils' inline read (jit_compact_int) makes of an int's words in ``mode``: None if not compact."""
    if mode == layouts.INT_SIGNED_SIZE:
        return size_word * digit if -1 <= size_word <= 1 else None
    return (1 - (size_word & 3)) * digit if 0 <= size_word < 16 else None


@functools.cache
def subscript_int_mode() -> int:
    """int_layout() for the stencils that index a list inline (jit_list_place), which read its size where every
    var-size object keeps it and its items through the word after: INT_UNKNOWN if this list is not so."""
    sentinel = object()
    probe = [sentinel, None, 3]
    words = _words(probe, type(probe).__basicsize__)
    if words[VAR_SIZE_WORD] != len(probe) or _word(words[VAR_SIZE_WORD + 1]) != id(sentinel):
        return layouts.INT_UNKNOWN
    return int_layout()


@functools.cache
def int_layout() -> int:
    """How this interpreter keeps a compact int (layouts.INT_*): the mode under which the stencils' inline read
    gives every probe's value, and calls nothing compact that is not; INT_UNKNOWN when neither does."""
    probes = [0, 1, -1, 7, -7, (1 << _DIGIT_BITS) - 1, -(1 << _DIGIT_BITS) + 1, 1 << _DIGIT_BITS, -(1 << 40),
              int("12345"), -int("12345"), int("0"), int("-0")]  # the last few made at run time, not cached
    for mode in (layouts.INT_SIGNED_SIZE, layouts.INT_TAGGED):
        if all(_compact_value(mode, *_int_words(probe)) == (probe if abs(probe) < 1 << _DIGIT_BITS else None)
               for probe in probes):
            return mode
    return layouts.INT_UNKNOWN
