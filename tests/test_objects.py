"""Differential tests of the object tier: each construct compiled (strict: it must compile) against the interpreter.

``assert_same`` calls a function in the interpreter and compiled, each on its own deep copy of the arguments, and
requires the same outcome (a value of the same type that compares equal, or an exception of the same type with
the same message) and the same visible effects: the arguments afterwards (mutated lists, dicts, attributes) are
equal too.  Functions that write globals compare the globals afterwards.  Inputs come from hypothesis (ints,
strings, lists, tuples, dicts, instances of small classes, None) and from lists of the error cases whose messages
the interpreter's C code writes.  Then tracebacks (the compiled function's entry is the interpreter's), and
classes whose methods are compiled.
"""

from __future__ import annotations

import builtins
import copy
import traceback
import types
from collections.abc import Callable
from typing import Any

import object_cases as cases
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jit

SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=40,
                    suppress_health_check=[HealthCheck.too_slow])

# --- the oracle --------------------------------------------------------------------------------------------------

Outcome = tuple[Any, ...]


def outcome(fn: Callable[..., Any], *args: object) -> Outcome:
    """("ok", value) or ("raise", type, message).  An error of the compiler itself is no outcome: it propagates."""
    try:
        value = fn(*args)
    except Exception as error:
        if type(error).__module__.startswith("jit."):
            raise
        return ("raise", type(error), str(error))
    return ("ok", value)


def same(expected: Outcome, got: Outcome) -> bool:
    if expected[0] == "ok" and got[0] == "ok":
        return type(expected[1]) is type(got[1]) and (expected[1] == got[1] or repr(expected[1]) == repr(got[1]))
    return expected == got


# Compiled once per function and signature, and kept: a compiled function that nobody holds is freed with its
# machine code.  A signature is the arguments' types where they are numbers (unboxed), "object" for any other:
# each gets its own copy of the function (same code, globals and closure), so that no dispatcher meets more
# signatures than it compiles (MAX_SPECIALIZATIONS) and every call can be required to run machine code.
COMPILED: dict[tuple[Callable[..., Any], tuple[type, ...]], Any] = {}


def compiled(func: Callable[..., Any], *args: object) -> Any:
    """The strictly compiled ``func`` for the signature of ``args``."""
    assert isinstance(func, types.FunctionType)
    key = (func, tuple(type(a) if type(a) in (int, float, bool) else object for a in args))
    if key not in COMPILED:
        copy_ = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__,
                                   func.__closure__)
        copy_.__qualname__ = func.__qualname__
        COMPILED[key] = jit.compile(copy_, strict=True)
    return COMPILED[key]


def assert_ran_compiled(fast: Any, args: tuple[object, ...]) -> None:
    dispatcher = fast.__jit_dispatcher__
    assert dispatcher.fallbacks == {}, dispatcher.fallbacks
    signature = dispatcher.signature_of(tuple(type(a) for a in args))
    assert signature in dispatcher.specializations, f"no machine code for {signature}"


def assert_same(func: Callable[..., Any], *args: object) -> Outcome:
    """The compiled ``func`` gives the interpreter's outcome and leaves its arguments as the interpreter does."""
    plain_args, fast_args = copy.deepcopy(args), copy.deepcopy(args)
    fast = compiled(func, *args)
    expected = outcome(func, *plain_args)
    got = outcome(fast, *fast_args)
    assert same(expected, got), f"{func.__name__}{args!r}: interpreter {expected}, compiled {got}"
    assert repr(plain_args) == repr(fast_args), f"{func.__name__}{args!r}: effects {plain_args} != {fast_args}"
    assert_ran_compiled(fast, fast_args)
    return got


def assert_same_effects_on_globals(func: Callable[..., Any], names: list[str], *args: object) -> None:
    """As assert_same, for a function that writes globals: the globals afterwards are the interpreter's too."""
    namespace = func.__globals__
    before = {name: copy.deepcopy(namespace[name]) for name in names if name in namespace}

    def run(fn: Callable[..., Any]) -> tuple[Outcome, dict[str, object]]:
        for name in names:
            namespace.pop(name, None)
        namespace.update(copy.deepcopy(before))
        result = outcome(fn, *copy.deepcopy(args))
        return result, {name: namespace[name] for name in names if name in namespace}

    try:
        expected, expected_globals = run(func)
        got, got_globals = run(compiled(func, *args))
    finally:
        for name in names:
            namespace.pop(name, None)
        namespace.update(before)
    assert same(expected, got), f"{func.__name__}{args!r}: interpreter {expected}, compiled {got}"
    assert repr(got_globals) == repr(expected_globals), f"{func.__name__}{args!r}: globals differ"


small_ints = st.integers(-8, 8)
ints = st.one_of(small_ints, st.integers(-(2**70), 2**70))
texts = st.text(alphabet="ab,é 1", max_size=6)
keys = st.one_of(st.sampled_from(["a", "b", "z"]), small_ints)
int_lists = st.lists(small_ints, max_size=6)
text_lists = st.lists(texts, max_size=4)
tuples = st.lists(small_ints, max_size=5).map(tuple)
dicts = st.dictionaries(keys, small_ints, max_size=5)
boxes = st.builds(cases.Box, a=small_ints, b=texts)
containers = st.one_of(int_lists, tuples, texts, dicts, text_lists)
scalars = st.one_of(ints, texts, st.none(), st.booleans(), st.floats(-10, 10))
anything = st.one_of(scalars, containers, boxes)
non_numbers = st.one_of(texts, containers, boxes, st.none(), st.sampled_from([(), "", cases.Box]))
indices = st.one_of(small_ints, st.none(), texts, st.floats(0, 2))


def check(func: Callable[..., Any], *strategies: st.SearchStrategy[Any]) -> Callable[[], None]:
    """A hypothesis test of ``func`` on arguments from ``strategies``."""

    @SETTINGS
    @given(st.tuples(*strategies))
    def test(args: tuple[object, ...]) -> None:
        assert_same(func, *args)

    return test


def caught(func: Callable[..., Any], *args: object) -> BaseException:
    try:
        func(*args)
    except Exception as error:
        return error
    raise AssertionError(f"{func.__name__} did not raise")


def chain(error: BaseException | None) -> object:
    """An exception's cause and context, as comparable values."""
    if error is None:
        return None
    return (type(error), str(error), chain(error.__cause__), error.__suppress_context__,
            chain(error.__context__) if error.__context__ is not error.__cause__ else "same")


def reraise_in_handler(func: Callable[..., Any]) -> BaseException:
    """Call ``func`` while the caller handles an exception: a bare raise re-raises it, others chain to it."""
    try:
        raise LookupError("being handled")
    except LookupError:
        return caught(func)


def raise_message_in_handler(func: Callable[..., Any]) -> BaseException:
    try:
        raise LookupError("being handled")
    except LookupError:
        return caught(func, "raised in a handler")


# --- the tests ---------------------------------------------------------------------------------------------------

optional_ints = st.one_of(small_ints, st.none())

# name: (function, a strategy per argument)
HYPOTHESIS_CASES: dict[str, tuple[Callable[..., Any], tuple[st.SearchStrategy[Any], ...]]] = {
    "load-attribute": (cases.load_attribute, (st.one_of(boxes, scalars),)),
    "class-attribute": (cases.load_class_attribute, (boxes,)),
    "load-chain": (cases.load_chain, (st.builds(cases.Box, inner=st.one_of(boxes, st.none())),)),
    "store-attribute": (cases.store_attribute, (st.one_of(boxes, st.builds(types.SimpleNamespace)), anything)),
    "augment-attribute": (cases.augment_attribute, (boxes, st.one_of(small_ints, texts))),
    "delete-attribute": (cases.delete_attribute,
                         (st.one_of(boxes, st.builds(types.SimpleNamespace, a=small_ints)),)),
    "load-item": (cases.load_item, (containers, indices)),
    "store-item": (cases.store_item, (st.one_of(int_lists, dicts), indices, small_ints)),
    "delete-item": (cases.delete_item, (st.one_of(int_lists, dicts), indices)),
    "augment-item": (cases.augment_item, (st.one_of(int_lists, dicts), keys, small_ints)),
    "load-slice": (cases.load_slice, (st.one_of(int_lists, tuples, texts), optional_ints, optional_ints)),
    "extended-slice": (cases.load_extended_slice,
                       (st.one_of(int_lists, texts), optional_ints, optional_ints, optional_ints)),
    "store-slice": (cases.store_slice, (int_lists, optional_ints, optional_ints, st.one_of(int_lists, texts, tuples))),
    "delete-slice": (cases.delete_slice, (int_lists, optional_ints, optional_ints)),
    "tuple-key": (cases.tuple_key, (dicts, small_ints, texts)),
    "list-display": (cases.list_display, (anything, anything)),
    "tuple-display": (cases.tuple_display, (anything, anything)),
    "set-display": (cases.set_display, (scalars, scalars)),
    "dict-display": (cases.dict_display, (scalars, anything)),
    "starred-list": (cases.starred_list, (st.one_of(containers, scalars), anything)),
    "starred-tuple": (cases.starred_tuple, (st.one_of(containers, scalars), anything)),
    "starred-set": (cases.starred_set, (st.one_of(int_lists, texts, tuples, scalars), scalars)),
    "double-starred": (cases.double_starred, (st.one_of(dicts, int_lists), st.one_of(dicts, scalars))),
    "call-keywords": (cases.call_with_keywords, (anything, anything)),
    "call-builtin-keywords": (cases.call_builtin_with_keywords,
                              (st.one_of(int_lists, text_lists, texts, scalars), st.booleans())),
    "call-class": (cases.call_class, (anything, anything)),
    "call-star": (cases.call_star, (st.one_of(int_lists, tuples, texts, scalars),)),
    "call-double-star": (cases.call_double_star,
                         (st.one_of(st.dictionaries(st.sampled_from("abcd"), small_ints), dicts, scalars),)),
    "call-star-double-star": (cases.call_star_and_double_star,
                              (st.one_of(tuples, texts, scalars), st.dictionaries(st.sampled_from("xyz"), anything))),
    "call-star-keywords": (cases.call_star_with_keywords, (st.one_of(int_lists, scalars), anything)),
    "call-value": (cases.call_value,
                   (st.sampled_from([len, str, cases.target, repr, cases.Box, max, sorted]), anything)),
    "call-bound-method": (cases.call_bound_method, (boxes, st.one_of(small_ints, texts))),
    "list-methods": (cases.list_methods, (int_lists, small_ints)),
    "string-methods": (cases.string_methods, (texts, st.sampled_from([",", " ", "a", "é"]))),
    "dict-methods": (cases.dict_methods, (dicts, keys)),
    "user-methods": (cases.user_methods, (boxes, st.one_of(small_ints, texts))),
    "method-computed-argument": (cases.method_with_computed_argument, (int_lists,)),
    "method-kinds": (cases.method_kinds, (boxes, st.one_of(small_ints, texts))),
    "methods-of-numbers": (cases.methods_of_numbers, (small_ints, st.floats(-4, 4))),
    "for": (cases.for_sum, (st.one_of(containers, scalars),)),
    "for-else-break": (cases.for_else_break, (st.one_of(int_lists, texts), st.one_of(small_ints, texts))),
    "for-continue": (cases.for_continue, (st.one_of(int_lists, text_lists, texts),)),
    "for-nested": (cases.for_nested, (st.lists(st.one_of(int_lists, texts, small_ints), max_size=4),)),
    "for-unpacking": (cases.for_unpacking_target,
                      (st.one_of(st.lists(st.one_of(tuples, texts), max_size=4), dicts),)),
    "for-starred": (cases.for_starred_target, (st.lists(st.one_of(tuples, texts, int_lists), max_size=4),)),
    "for-targets": (cases.for_attribute_and_item_targets, (boxes, st.one_of(int_lists, texts))),
    "for-builtins": (cases.for_over_builtins, (st.one_of(int_lists, texts, tuples),)),
    "for-dict": (cases.for_over_dict, (dicts,)),
    "for-mutating": (cases.for_mutating, (int_lists,)),
    "unpack-two": (cases.unpack_two, (st.one_of(containers, scalars),)),
    "unpack-starred": (cases.unpack_starred, (st.one_of(containers, scalars),)),
    "unpack-star-first": (cases.unpack_star_first, (st.one_of(containers, scalars),)),
    "unpack-star-only": (cases.unpack_star_only, (st.one_of(containers, scalars),)),
    "unpack-nested": (cases.unpack_nested, (st.lists(st.one_of(tuples, int_lists, texts), max_size=3),)),
    "unpack-into-targets": (cases.unpack_into_targets, (boxes, st.one_of(tuples, texts, dicts))),
    "list-comprehension": (cases.list_comprehension, (st.one_of(int_lists, text_lists, texts),)),
    "set-comprehension": (cases.set_comprehension, (st.one_of(int_lists, texts, tuples),)),
    "dict-comprehension": (cases.dict_comprehension, (st.one_of(int_lists, texts, tuples),)),
    "nested-comprehension": (cases.nested_comprehension, (st.one_of(int_lists, texts), st.one_of(int_lists, texts))),
    "comprehension-in-comprehension": (cases.comprehension_in_comprehension,
                                       (st.lists(st.one_of(int_lists, texts), max_size=3),)),
    "comprehension-scope": (cases.comprehension_scope, (st.one_of(int_lists, texts),)),
    "comprehension-locals": (cases.comprehension_reads_locals, (int_lists, small_ints)),
    "comprehension-raises": (cases.comprehension_raises, (int_lists,)),
    "comprehension-unpacks": (cases.comprehension_unpacks, (st.one_of(st.lists(tuples, max_size=4), dicts),)),
    "membership": (cases.membership, (anything, st.one_of(containers, scalars))),
    "membership-branch": (cases.membership_branch, (anything, st.one_of(containers, scalars))),
    # Objects only: `is` with an unboxed number is refused (test_identity_of_numbers_runs_in_the_interpreter).
    "identity": (cases.identity, (non_numbers, non_numbers)),
    "identity-branch": (cases.identity_branch,
                        (st.one_of(st.none(), texts, st.just(())), st.one_of(st.none(), texts))),
    "f-string": (cases.formatted, (anything,)),
    "f-string-spec": (cases.formatted_with_spec, (st.one_of(texts, small_ints, st.floats(-5, 5)),
                                                  st.one_of(st.integers(0, 8), st.sampled_from(["3", "<4", "x"])))),
    "f-string-number": (cases.formatted_number, (st.one_of(ints, st.floats(-1e6, 1e6), texts),)),
    "concatenate": (cases.concatenate, (st.one_of(texts, int_lists, tuples), st.one_of(texts, int_lists, tuples))),
    "percent": (cases.percent, (st.sampled_from(["%s", "%d", "%r-%s", "%5.1f", "%x", "%(a)s"]),
                                st.one_of(small_ints, texts, st.tuples(small_ints, texts), dicts))),
    "repeat": (cases.repeat, (st.one_of(texts, int_lists, tuples), st.one_of(st.integers(-2, 4), texts))),
    "format-calls": (cases.format_calls, (anything,)),
    "raise-made": (cases.raise_made, (anything,)),
    "assert": (cases.assert_plain, (anything,)),
    "assert-message": (cases.assert_with_message, (anything, anything)),
    "walrus-condition": (cases.walrus_in_condition, (st.one_of(int_lists, texts, tuples),)),
    "walrus-loop": (cases.walrus_in_loop, (int_lists,)),
    "walrus-values": (cases.walrus_values, (anything,)),
}


@pytest.mark.parametrize("name", HYPOTHESIS_CASES)
def test_construct_matches_the_interpreter(name: str) -> None:
    func, strategies = HYPOTHESIS_CASES[name]
    check(func, *strategies)()




@pytest.mark.parametrize("group", cases.ERROR_CASES)
def test_error_paths_raise_the_interpreters_exceptions(group: str) -> None:
    raised = 0
    for func, args in cases.ERROR_CASES[group]:
        raised += assert_same(func, *args)[0] == "raise"
    assert raised >= len(cases.ERROR_CASES[group]) // 2, "most of these cases are errors"


def test_value_cases_return_the_interpreters_values() -> None:
    # The cases the ARM64 run also checks (tests/test_arm64_qemu.py): each returns, here too.
    for func, args in cases.VALUE_CASES:
        assert assert_same(func, *args)[0] == "ok", func.__name__


def test_iterators_and_generators_are_consumed_as_the_interpreter_consumes_them() -> None:
    # Not deep-copyable: each run gets a fresh one, and what is left of it afterwards is compared too.
    makers: list[Callable[[], Any]] = [lambda: iter([1, 2, 3]), lambda: iter([]), lambda: iter([1]),
                                       lambda: (n * n for n in range(4)), lambda: map(str, [1, 2]),
                                       lambda: iter(cases.Sequence3()), lambda: reversed([4, 5])]
    for func in (cases.unpack_two, cases.unpack_starred, cases.unpack_star_first, cases.for_sum,
                 cases.for_else_break, cases.list_comprehension, cases.star_of, cases.call_star_of, cases.membership):
        for make in makers:
            extra = (2,) if func in (cases.for_else_break, cases.membership) else ()
            plain, fast = make(), make()
            arguments = (*extra, plain) if func is cases.membership else (plain, *extra)
            expected = outcome(func, *arguments)
            arguments = (*extra, fast) if func is cases.membership else (fast, *extra)
            got = outcome(compiled(func), *arguments)
            assert same(expected, got), f"{func.__name__}: interpreter {expected}, compiled {got}"
            assert list(plain) == list(fast), f"{func.__name__}: the iterators were consumed differently"


def test_raise_sets_cause_context_and_suppression_as_the_interpreter() -> None:
    raising: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
        (cases.raise_from, (ValueError("a"), KeyError("b"))), (cases.raise_from, (ValueError("a"), None)),
        (cases.raise_from, (ValueError, KeyError)), (cases.raise_from, (cases.Odd(1), cases.Odd(2))),
        (cases.raise_from_none, ("k",)), (cases.raise_value, (cases.Odd(5),)), (cases.raise_made, ("plain",)),
    ]
    for func, args in raising:
        expected, got = caught(func, *copy.deepcopy(args)), caught(compiled(func), *copy.deepcopy(args))
        assert chain(got) == chain(expected), func.__name__
        assert got.args == expected.args
    # The cause is the very object given (an instance), or an instance made of the class given.
    cause = KeyError("the cause")
    assert caught(compiled(cases.raise_from), ValueError("v"), cause).__cause__ is cause
    assert type(caught(compiled(cases.raise_from), ValueError("v"), KeyError).__cause__) is KeyError
    made = caught(compiled(cases.raise_value), cases.Odd(7))
    assert isinstance(made, cases.Odd) and made.code == 7


def test_raise_inside_a_callers_handler() -> None:
    for func in (cases.reraise,):
        expected, got = reraise_in_handler(func), reraise_in_handler(compiled(func))
        assert chain(got) == chain(expected)
    assert chain(caught(compiled(cases.reraise))) == chain(caught(cases.reraise))  # nothing handled: RuntimeError
    for raising in (cases.raise_made, cases.raise_from_none):
        expected, got = raise_message_in_handler(raising), raise_message_in_handler(compiled(raising))
        assert chain(got) == chain(expected), raising.__name__


def test_assert_message_is_evaluated_only_when_the_assertion_fails() -> None:
    for value in (1, 0, "", "x", None):
        cases.NOTES.clear()
        expected = outcome(cases.assert_message_only_on_failure, value)
        expected_notes = list(cases.NOTES)
        cases.NOTES.clear()
        got = outcome(compiled(cases.assert_message_only_on_failure), value)
        assert same(expected, got) and expected_notes == cases.NOTES, value
    cases.NOTES.clear()


def test_assert_raises_assertion_error_even_when_the_name_is_rebound(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = compiled(cases.assert_with_message)
    fast(1, "warm")
    genuine = AssertionError
    monkeypatch.setattr(builtins, "AssertionError", KeyError)
    expected, got = outcome(cases.assert_with_message, 0, "m"), outcome(fast, 0, "m")
    monkeypatch.undo()  # before pytest's own assert needs the name
    assert got == expected == ("raise", genuine, "m")


def test_globals_are_stored_deleted_and_read_as_the_interpreter() -> None:
    for step in (1, 5, 2**70, "s", 1.5, [1]):
        assert_same_effects_on_globals(cases.bump_global, ["COUNTER"], step)
    for value in (1, "x", None):
        assert_same_effects_on_globals(cases.define_global, ["DEFINED_LATER"], value)
    assert_same_effects_on_globals(cases.delete_global, ["DEFINED_LATER"])  # not defined: NameError
    vars(cases)["DEFINED_LATER"] = 1
    assert_same_effects_on_globals(cases.delete_global, ["DEFINED_LATER"])
    vars(cases).pop("DEFINED_LATER", None)
    assert_same(cases.read_undefined_global)
    counters: list[object] = [3, "text", [1]]
    for counter in counters:
        vars(cases)["COUNTER"] = counter
        assert_same(cases.read_assigned_global)
    vars(cases).pop("COUNTER")
    assert_same(cases.read_assigned_global)  # deleted: NameError
    vars(cases)["COUNTER"] = 0


@pytest.mark.parametrize("func", [cases.store_number_into_global_list, cases.store_number_into_global_attribute,
                                  cases.delete_at_number, cases.compare_number_with_text,
                                  cases.store_number_into_global], ids=lambda f: f.__name__)
def test_numbers_stored_into_objects_no_variable_holds(func: Callable[..., Any]) -> None:
    # Once a crash (the spare object slots were an int's slot) or an internal compiler error (a negative slot).
    for n in (1, 0, -2, 7, 2.5, True, 2**40):
        assert_same_effects_on_globals(func, ["SINK", "SINK_OBJECT", "COUNTER"], n)
        assert_ran_compiled(compiled(func, n), (n,))


def test_a_global_defined_after_compiling_is_seen() -> None:
    fast = compiled(cases.read_undefined_global)
    assert outcome(fast) == outcome(cases.read_undefined_global)
    vars(cases)["NEVER_DEFINED_ANYWHERE"] = [1]
    try:
        assert fast() == [1]
    finally:
        del vars(cases)["NEVER_DEFINED_ANYWHERE"]
    assert outcome(fast) == outcome(cases.read_undefined_global)


def test_nonlocal_counter_keeps_its_cell() -> None:
    runs: list[tuple[Any, list[Any]]] = [(0, [1, 2, 3]), ("a", ["b", "c"]), (2**62, [2**62, 1]), (0, ["x"])]
    for start, steps in runs:
        plain: Any = cases.counter_factory(start)
        fast: Any = jit.compile(cases.counter_factory(start), strict=True)
        assert [outcome(fast, step) for step in steps] == [outcome(plain, step) for step in steps]
        assert fast.__jit_original__.__closure__[0].cell_contents == plain.__closure__[0].cell_contents


def test_free_variable_read_before_its_assignment_raises_name_error() -> None:
    plain_read, plain_write = cases.reader_factory()
    fast_read_original, fast_write_original = cases.reader_factory()
    fast_read = jit.compile(fast_read_original, strict=True)
    fast_write = jit.compile(fast_write_original, strict=True)
    assert outcome(fast_read) == outcome(plain_read)
    assert outcome(fast_read)[0] == "raise"
    for value in (1, "x", None):
        plain_write(value)
        fast_write(value)
        assert outcome(fast_read) == outcome(plain_read) == ("ok", [value, value])


def test_closure_over_a_mutable_object() -> None:
    plain_items: list[object] = []
    fast_items: list[object] = []
    plain = cases.cell_holder_factory(plain_items)
    fast = jit.compile(cases.cell_holder_factory(fast_items), strict=True)
    for item in (1, "x", None, [2]):
        assert outcome(fast, item) == outcome(plain, item)
    assert fast_items == plain_items


@pytest.mark.parametrize("func", [
    pytest.param(cases.walrus_right_of_binary, id="binary"),
    pytest.param(cases.walrus_right_of_comparison, id="comparison"),
    pytest.param(cases.walrus_right_of_augmented, id="augmented"),
    pytest.param(cases.walrus_right_of_membership, id="membership"),
])
def test_walrus_on_the_right_does_not_change_the_left_operand(func: Callable[..., Any]) -> None:
    for value in (1, 7, "a", [1]):
        assert_same(func, value)


def test_walrus_in_a_tuple_assignment() -> None:
    assert_same(cases.walrus_in_tuple_assignment, 1)


def test_walrus_in_every_operand_position() -> None:
    for value in (1, "a"):
        assert_same(cases.walrus_everywhere, value)
    assert_same(cases.walrus_subscript_owner, [1])


@pytest.mark.parametrize(("func", "args"), [
    pytest.param(cases.dict_items_after_double_star, ({"a": 1},), id="after-double-star"),
    pytest.param(cases.big_dict_display, (), id="big-dict"),
    pytest.param(cases.big_dict_display_after_double_star, ({"a": 1},), id="big-dict-after-double-star"),
    pytest.param(cases.big_set_display, (), id="big-set"),
])
@pytest.mark.parametrize("key", [[], 3.5], ids=["unhashable", "hashable"])
def test_display_evaluates_and_stores_its_items_in_the_interpreters_order(func: Callable[..., Any],
                                                                          args: tuple[object, ...],
                                                                          key: object) -> None:
    # Which items are evaluated before a key that cannot be hashed stops the display: CPython's compiler
    # decides (a run of items built at once, a big one item by item).
    effects = []
    for each in (func, compiled(func, *args, key)):
        cases.NOTES.clear()
        effects.append((outcome(each, *args, key), list(cases.NOTES)))
    cases.NOTES.clear()
    assert effects[1] == effects[0]


def test_zero_argument_super_inside_a_comprehension() -> None:
    # Before 3.12 the comprehension is a function whose argument is its iterator: super() there takes that
    # (a TypeError); from 3.12 it is inline and takes the method's self.  Compiled, the same either way.
    plain = outcome(cases.SuperInComprehension().values)
    method = jit.compile(cases.SuperInComprehension.__dict__["values"], strict=True)
    assert outcome(method, cases.SuperInComprehension()) == plain


def test_temporaries_let_go_of_their_values_when_the_interpreter_does() -> None:
    assert_same(cases.releases_of_temporaries, 3)
    for scale in (2, 1.5, 10**30):
        assert assert_same(cases.temporaries_released_in_order, 3, scale)[0] == "ok"


def test_identity_of_numbers_runs_in_the_interpreter() -> None:
    # An unboxed number has no identity to compare: refused, with the reason, and the interpreter's answer.
    for args in [(5, 5), (2**70, 2**70), (1.5, None), (True, True), ([], 5), (None, 0.0)]:
        fast: Any = jit.compile(cases.identity_of_numbers)
        assert outcome(fast, *args) == outcome(cases.identity_of_numbers, *args)
        reasons = list(fast.__jit_dispatcher__.fallbacks.values())
        assert reasons and all("identity is lost" in reason for reason in reasons), reasons
    with pytest.raises(jit.UnsupportedError, match="identity is lost"):
        jit.compile(cases.identity_of_numbers, strict=True)(1, 2)


# --- tracebacks --------------------------------------------------------------------------------------------------


def plain_helper_raises(value: Any) -> Any:
    return {"present": 1}[value]


def traced_attribute(o: Any) -> Any:
    first = o.b
    return o.a + first.missing


def traced_subscript(xs: Any) -> Any:
    total = xs[0]
    return total + xs[10]


def traced_call(value: Any) -> Any:
    spacer = [value]
    return plain_helper_raises(spacer[0])


def traced_raise(value: Any) -> Any:
    if value:
        raise ValueError(f"raised {value}")
    return value


def traced_inner(o: Any) -> Any:
    return o.a.missing


def traced_outer(o: Any) -> Any:
    result = [o]
    result.append(traced_inner_compiled(o))
    return result


def traced_multiline_call(value: Any) -> Any:
    return plain_helper_raises(
        value,
    )


def traced_unpacking(value: Any) -> Any:
    a, b = value
    return b, a


def traced_for(value: Any) -> Any:
    for item in value:
        return item
    return None


def traced_comprehension(xs: Any) -> Any:
    return [10 // x for x in xs]


def traced_nested_comprehension(rows: Any) -> Any:
    return {key: [10 // x
                  for x in row]
            for key, row in rows}


def traced_comprehension_caught(xs: Any) -> Any:
    try:
        return {10 // x for x in xs}
    except ZeroDivisionError as error:
        raise ValueError("caught") from error


def traced_multiline_attribute(o: Any) -> Any:
    return (o
            .missing)


def traced_multiline_attribute_store(o: Any) -> Any:
    (o
     .missing) = 1


def traced_multiline_method_call(o: Any) -> Any:
    return (o
            .missing(1))


def traced_multiline_method_raises(o: Any) -> Any:
    return (o
            .pop(
                5))


traced_inner_compiled = jit.compile(traced_inner, strict=True)


def entries(func: Callable[..., Any], *args: object) -> list[tuple[str, int | None, str]]:
    """The traceback of the exception ``func(*args)`` raises, outermost first, without this helper's frame."""
    try:
        func(*args)
    except Exception as error:
        frames = traceback.extract_tb(error.__traceback__)[1:]
        if error.__cause__ is not None:  # raised from one caught here: its entries too
            frames += traceback.extract_tb(error.__cause__.__traceback__)
        return [(frame.filename, frame.lineno, frame.name) for frame in frames]
    raise AssertionError(f"{func.__name__}{args!r} did not raise")


TRACED: dict[str, tuple[Callable[..., Any], tuple[object, ...], tuple[object, ...]]] = {
    # name: (function, arguments that succeed, arguments that raise)
    "attribute": (traced_attribute, (cases.Box(a=[], b=types.SimpleNamespace(missing=[1])),), (cases.Box(a=1, b=2),)),
    "subscript": (traced_subscript, (list(range(11)),), ([1, 2],)),
    "call-into-the-interpreter": (traced_call, ("present",), ("missing",)),
    "raise": (traced_raise, (0,), (3,)),
    "compiled-calls-compiled": (traced_outer, (cases.Box(a=types.SimpleNamespace(missing=1)),), (cases.Box(a=5),)),
    "multi-line-call": (traced_multiline_call, ("present",), ("key",)),
    "unpacking": (traced_unpacking, ((1, 2),), ((1, 2, 3),)),
    "for": (traced_for, ([1],), (None,)),
    "multi-line-attribute": (traced_multiline_attribute, (types.SimpleNamespace(missing=1),), (5,)),
    "multi-line-attribute-store": (traced_multiline_attribute_store, (types.SimpleNamespace(),), (5,)),
    "multi-line-method-call": (traced_multiline_method_call, (types.SimpleNamespace(missing=abs),), (5,)),
    "multi-line-method-raises": (traced_multiline_method_raises, ([1] * 6,), ([1],)),
    "multi-line-assert": (cases.traced_multiline_assert, (1,), (0,)),
    "comprehension": (traced_comprehension, ([1],), ([0],)),
    "nested-comprehension": (traced_nested_comprehension, ([("a", [1])],), ([("a", [1]), ("b", [0])],)),
    "comprehension-caught": (traced_comprehension_caught, ([1],), ([0],)),
    "assert": (cases.assert_plain, (1,), (0,)),
}


@pytest.mark.parametrize("name", TRACED)
def test_traceback_entry_of_the_compiled_function_is_the_interpreters(name: str) -> None:
    func, good, bad = TRACED[name]
    fast = compiled(func)
    fast(*copy.deepcopy(good))  # the first call compiles it (through the dispatcher's slow path)
    expected, got = entries(func, *copy.deepcopy(bad)), entries(fast, *copy.deepcopy(bad))
    assert got == expected


def test_traceback_of_the_first_call_of_a_signature_has_no_extra_frame() -> None:
    fast = jit.compile(cases.raise_made, strict=True)
    assert [name for _, _, name in entries(fast, "first")] == ["raise_made"]


def test_traceback_has_no_extra_frame_after_the_first_call() -> None:
    fast = compiled(traced_raise)
    fast(0)
    names = [name for _, _, name in entries(fast, 1)]
    assert names == ["traced_raise"], names


# --- classes with compiled methods --------------------------------------------------------------------------------


def make_classes(decorate: Callable[[Any], Any]) -> tuple[Any, Any]:
    """The same two classes, their methods as written or passed through ``decorate`` (jit.compile)."""

    class Shape:
        @decorate
        def __init__(self, width: Any, height: Any = 1) -> None:
            self.width = width
            self.height = height
            self.log = []  # type: ignore[var-annotated]  # annotated, the compiler would refuse it

        @decorate
        def area(self) -> Any:
            return self.width * self.height

        @decorate
        def doubled_area(self) -> Any:
            return self.area() * 2  # a method calling another method

        @decorate
        def describe(self, tag: Any) -> Any:
            return f"{tag}: {self.width}x{self.height}"

        @decorate
        def record(self, item: Any) -> Any:
            self.log.append(item)
            return len(self.log)

        @staticmethod
        @decorate
        def unit(size: Any) -> Any:
            return (size, size)

        @classmethod
        @decorate
        def square(cls, size: Any) -> Any:
            return cls(size, size)

        @decorate
        def __repr__(self) -> str:
            return f"{type(self).__name__}({self.width!r}, {self.height!r})"

        @decorate
        def __eq__(self, other: Any) -> bool:
            return type(self) is type(other) and self.width == other.width and self.height == other.height

        __hash__ = None  # type: ignore[assignment]

        @decorate
        def __len__(self) -> int:
            return len(self.log)

        @decorate
        def __getitem__(self, index: Any) -> Any:
            return [self.width, self.height][index]

        @decorate
        def __contains__(self, value: Any) -> bool:
            return value == self.width or value == self.height

    class Box3(Shape):
        @decorate
        def __init__(self, width: Any, height: Any = 1, depth: Any = 2) -> None:
            super().__init__(width, height)
            self.depth = depth

        @decorate
        def area(self) -> Any:
            return super().area() * self.depth

        @decorate
        def describe(self, tag: Any) -> Any:
            return super().describe(tag) + f"x{self.depth}"

        @classmethod
        @decorate
        def square(cls, size: Any) -> Any:
            made = super().square(size)
            made.depth = size
            return made

    return Shape, Box3


def exercise(classes: tuple[Any, Any], width: Any, height: Any) -> list[Outcome]:
    shape_class, box_class = classes
    results: list[Outcome] = []

    def run(step: Callable[[], Any]) -> None:
        results.append(outcome(step))

    shape = box = None

    def make() -> Any:
        nonlocal shape, box
        shape, box = shape_class(width, height), box_class(width, height, 3)
        return repr(shape), repr(box)

    run(make)
    if shape is None or box is None:
        return results
    for step in (shape.area, shape.doubled_area, box.area, box.doubled_area,
                 lambda: shape.describe("s"), lambda: box.describe("b"), lambda: shape.record(width),
                 lambda: box.record(height), lambda: len(shape), lambda: shape[0], lambda: box[1], lambda: shape[5],
                 lambda: width in shape, lambda: "nope" in box, lambda: shape == shape_class(width, height),
                 lambda: shape == box, lambda: shape_class.unit(width), lambda: shape.unit(height),
                 lambda: repr(shape_class.square(width)), lambda: repr(box_class.square(height)),
                 lambda: box_class.square(width).depth, lambda: sorted(vars(box)), lambda: shape.log):
        run(step)
    return results


@SETTINGS
@given(st.one_of(small_ints, texts, int_lists), st.one_of(small_ints, texts, st.floats(-3, 3)))
def test_classes_with_compiled_methods_behave_as_the_plain_class(width: Any, height: Any) -> None:
    expected = exercise(PLAIN_CLASSES, width, height)
    got = exercise(COMPILED_CLASSES, width, height)
    assert len(got) == len(expected)
    for index, (e, g) in enumerate(zip(expected, got, strict=True)):
        assert same(e, g), f"step {index}: interpreter {e}, compiled {g}"


def strict_compile(func: Any) -> Any:
    return jit.compile(func, strict=True)


PLAIN_CLASSES = make_classes(lambda func: func)
COMPILED_CLASSES = make_classes(strict_compile)


def test_compiled_methods_run_machine_code() -> None:
    shape_class, box_class = COMPILED_CLASSES
    box = box_class(2, 3, 4)
    assert (box.area(), box.doubled_area(), box.describe("t")) == (24, 48, "t: 2x3x4")
    for method in (shape_class.area, box_class.area, box_class.__init__, shape_class.__init__, shape_class.doubled_area,
                   box_class.describe):
        dispatcher = method.__jit_dispatcher__
        assert dispatcher.specializations and not dispatcher.fallbacks, method


def test_super_with_the_first_argument_rebound() -> None:
    # Zero-argument super() takes the first argument's current value, as the interpreter does.
    class Base:
        def who(self) -> Any:
            return ("base", self)

    class Child(Base):
        def who(self) -> Any:
            self = Child.other  # noqa: PLW0642, F841
            return super().who()

        other: Any = None

    Child.other = Child()
    plain = Child().who()
    Child.who = jit.compile(Child.__dict__["who"], strict=True)  # type: ignore[method-assign]
    assert Child().who() == plain


@pytest.mark.parametrize(("func", "args"), [
    pytest.param(cases.genexp_sum, ([1, 2, 3], 2), id="sum"),
    pytest.param(cases.genexp_sum, ([1.5, "a"], 2), id="sum-type-error"),
    pytest.param(cases.genexp_sum, (5, 2), id="not-iterable"),
    pytest.param(cases.genexp_clauses, ([[1, 2], [], [3]],), id="clauses"),
    pytest.param(cases.genexp_stops_early, ([1, 2, 3, 4],), id="stops-early"),
    pytest.param(cases.genexp_late_binding, ([1, 2],), id="late-binding"),
    pytest.param(cases.genexp_first_iterable_now, ([1, 2],), id="first-iterable-now"),
    pytest.param(cases.genexp_first_iterable_now, (None,), id="first-iterable-not-iterable"),
    pytest.param(cases.genexp_nested, ([0, 1, 2],), id="nested"),
    pytest.param(cases.genexp_joined, (["ab", "c"],), id="joined"),
    pytest.param(cases.genexp_joined, ([],), id="joined-empty"),
    pytest.param(cases.genexp_two_on_a_line, ([1, 2],), id="two-on-a-line"),
    pytest.param(cases.genexp_raises, ([1, 0],), id="raises"),
    pytest.param(cases.comprehension_variable_in_cells, ([1, 2, 3],), id="comprehension-variable-in-cells"),
])
def test_generator_expression(func: Callable[..., Any], args: tuple[object, ...]) -> None:
    effects = []
    for each in (func, compiled(func, *args)):
        cases.NOTES.clear()
        effects.append((outcome(each, *copy.deepcopy(args)), list(cases.NOTES)))
    cases.NOTES.clear()
    assert effects[1] == effects[0]
    assert_ran_compiled(compiled(func, *args), args)


def test_generator_expression_returned_runs_after_the_call() -> None:
    fast = compiled(cases.genexp_returned, [1])
    items = fast([1, 2])
    assert type(items).__name__ == "generator" and list(items) == [2, 4]


def test_generator_expression_in_a_method() -> None:
    method = jit.compile(cases.GenexpMethod.__dict__["scaled"], strict=True)
    assert method(cases.GenexpMethod(3), [1, 2]) == cases.GenexpMethod(3).scaled([1, 2])


def test_traceback_runs_through_the_generator_expression() -> None:
    fast = compiled(cases.genexp_raises, [1])
    assert entries(fast, [1, 0]) == entries(cases.genexp_raises, [1, 0])


@pytest.mark.parametrize(("func", "argument_lists"), [
    pytest.param(cases.unbound_after_if, [(1, 3), (0, 3), (1, 2.5), (0, "a"), (1, "a")], id="after-if"),
    pytest.param(cases.unbound_loop_variable, [(3,), (0,), (-1,)], id="loop-variable"),
    pytest.param(cases.unbound_in_finally, [("p",), (None,)], id="finally"),
    pytest.param(cases.unbound_after_handler, [(0,), (2,)], id="after-handler"),
    pytest.param(cases.unbound_after_del, [(0, 5), (1, 5), (1, "s"), (0, 2.5)], id="after-del"),
    pytest.param(cases.unbound_parameter, [(1, 0), (1, 1), (2.5, 1), ("a", 0)], id="parameter"),
    pytest.param(cases.unbound_in_a_hot_loop, [(0,), (1,), (100,)], id="hot-loop"),
    pytest.param(cases.unbound_delete_twice, [(1,), ("a",)], id="delete-twice"),
    pytest.param(cases.unbound_caught, [(0,), (1,), ("a",)], id="caught"),
    pytest.param(cases.unbound_read_before_later_operands, [(0, 0), (1, 0), (1, 1), (0, 1)], id="read-in-order"),
    pytest.param(cases.unbound_bare_name, [(0,), (1,)], id="bare-name"),
])
def test_local_that_may_be_unbound_is_checked_where_it_is_read(func: Callable[..., Any],
                                                               argument_lists: list[tuple[object, ...]]) -> None:
    for args in argument_lists:
        fast = compiled(func, *args)
        effects = []
        for each in (func, fast):
            cases.NOTES.clear()
            effects.append((outcome(each, *args), list(cases.NOTES)))
        cases.NOTES.clear()
        assert effects[1] == effects[0], args
        assert_ran_compiled(fast, args)


def test_unbound_local_error_has_the_interpreters_traceback() -> None:
    fast = compiled(cases.unbound_after_if, 0, 1)
    assert entries(fast, 0, 1) == entries(cases.unbound_after_if, 0, 1)


# --- compact ints read inline --------------------------------------------------------------------------------------

def test_list_items_at_every_edge_of_a_compact_int() -> None:
    """Indices at the edges of one digit, negative from the end, out of range, bools, big ints: the inline read
    takes a compact int in range, the C API everything else, with its IndexError and TypeError messages."""
    size = 5
    for key in [*cases.DIGIT_EDGES, size - 1, size, -size, -size - 1, True, False, 2.0, "1"]:
        assert_same(cases.items_at, list(range(10, 10 + size)), [key])
        assert_same(cases.store_items_at, list(range(size)), [key])
        assert_same(cases.items_at, (1, 2, 3), [key])  # not a list: the C API
    huge = list(range(70000))  # an index that needs more than 16 bits
    assert_same(cases.items_at, huge, [65537, -65537, 69999])


class IndexedTuple(tuple):  # type: ignore[type-arg]
    def __getitem__(self, key: Any) -> Any:
        return ("own", key)


def test_tuple_items_at_every_edge_of_a_compact_int() -> None:
    """An exact tuple is read inline too (BINARY_SUBSCR_TUPLE_INT's case); a subclass's own __getitem__, slices,
    other keys and indices out of range go to the C API, with its messages."""
    size = 5
    items = tuple(range(10, 10 + size))
    for key in [*cases.DIGIT_EDGES, size - 1, size, -size, -size - 1, True, False, 2.0, "1", slice(1, 3)]:
        assert_same(cases.items_at, items, [key])
        assert_same(cases.items_at, IndexedTuple(items), [key])
        assert_same(cases.items_at, (), [key])
    assert_same(cases.items_at, tuple(range(70000)), [65537, -65537, 69999, 70000])


def test_arithmetic_at_every_edge_of_a_compact_int() -> None:
    edges = cases.DIGIT_EDGES
    assert_same(cases.arithmetic_pairs, [(a, b) for a in edges for b in edges])
    assert_same(cases.arithmetic_pairs, [(True, 2), (3, False), (2, 0.5), (1.5, 3), ("a", "b"), ([1], [2])])


def test_comparisons_at_every_edge_of_a_compact_int() -> None:
    edges = cases.DIGIT_EDGES
    assert_same(cases.compare_pairs, [(a, b) for a in edges for b in edges])
    assert_same(cases.compare_pairs, [(a, float(b)) for a in edges for b in edges[:8]])
    assert_same(cases.compare_pairs, [(0.5, 1.5), (float("nan"), 1.0), (float("nan"), float("nan")), (True, 1)])
