"""The public API: jit.compile (plain, decorator, strict), jit.explain, jit.stats, UnsupportedError.

A compiled function is a drop-in replacement: it keeps the original's metadata, binds arguments exactly as the
original does (keywords, defaults, positional-only parameters, and the interpreter's TypeError for bad calls),
refuses what is not a plain function with a TypeError, and reports what it could not compile: with strict=True as
an UnsupportedError naming the file, the real line and the construct, otherwise as a reason in jit.explain.
"""

from __future__ import annotations

import functools
import inspect
import io
import re
import types
from collections.abc import Callable
from typing import Any

import pytest
from test_differential import assert_same, outcome

import jit
from jit import UnsupportedError
from jit.compiler import MAX_SPECIALIZATIONS
from jit.ir import Type


def add(a: Any, b: Any) -> Any:
    """Add two numbers."""
    return a + b


add.custom_attribute = "kept"  # type: ignore[attr-defined]
THIS_FILE = add.__code__.co_filename  # the name the compiler sees


@jit.compile
def decorated(a: Any, b: Any) -> Any:
    """Decorated without parentheses."""
    return a * b - 1


@jit.compile(strict=True)
def decorated_strict(x: Any) -> Any:
    """Decorated with strict=True."""
    return x * 2 + 1


def parameters(a: Any, b: Any = 2, /, c: Any = 3.5, d: Any = True) -> Any:
    return a * b + c if d else a - b - c


def keyword_only(a: Any, *, b: Any = 1) -> Any:
    return a + b


def cannot_compile(a: Any, *, b: Any = 1) -> Any:
    import math  # noqa: PLC0415 - an import inside a function runs in the interpreter

    return math.floor(a + b)


def overflowing(x: Any) -> Any:
    return x * x


def generator(n: Any) -> Any:
    yield n


async def coroutine(n: Any) -> Any:
    return n


async def async_generator(n: Any) -> Any:
    yield n


class Holder:
    def method(self, x: Any) -> Any:
        return x + 1


# --- functions that cannot be compiled: the refused construct is on the line marked "refused" ------------------


def uses_locals(n: Any) -> Any:
    total = n + 1
    return locals()  # refused


def uses_try_star(n: Any) -> Any:
    total = 0
    try:  # refused
        total = 10 // n
    except* ZeroDivisionError:
        total = -1
    return total


def uses_annotated_nested_def(n: Any) -> Any:
    def double(value: int) -> int:  # refused
        return value * 2

    return double(n)


def uses_vars(n: Any) -> Any:
    for i in range(3):
        n = n + i
    return vars()  # refused


def uses_class_body(n: Any) -> Any:
    class Local:  # refused
        pass

    return n


def uses_mixed_double_star(n: Any) -> Any:
    return dict(n=n, **{"a": 1})  # noqa: PIE804  # refused


def uses_eval(n: Any) -> Any:
    total = n + 1  # noqa: F841 - read by the eval
    return eval("total")  # refused


def uses_import(n: Any) -> Any:
    import os  # noqa: PLC0415  # refused

    return n + len(os.sep)


def uses_walrus_in_comprehension(n: Any) -> Any:
    return [last := i for i in range(n)]  # noqa: F841  # refused


def uses_match(n: Any) -> Any:
    total = n + 1
    match total:  # refused
        case 1:
            return 0
    return total


REFUSED: dict[Callable[..., Any], str] = {
    uses_locals: "locals() reads the caller's frame",
    uses_try_star: "'try/except*' is not supported",
    uses_annotated_nested_def: "a nested function with annotations is not supported",
    uses_vars: "vars() reads the caller's frame",
    uses_class_body: "'class' is not supported",
    uses_mixed_double_star: "a call with '**' and other keyword arguments is not supported",
    uses_eval: "eval() reads the caller's frame",
    uses_import: "'import' is not supported",
    uses_walrus_in_comprehension: "an assignment expression inside a comprehension is not supported",
    uses_match: "'match' is not supported",
}


def refused_line(func: Callable[..., Any]) -> int:
    lines, first = inspect.getsourcelines(func)
    return first + next(i for i, line in enumerate(lines) if line.rstrip().endswith("# refused"))


def called(func: Callable[..., Any], args: tuple[object, ...], kwargs: dict[str, object]) -> tuple[object, ...]:
    return outcome(functools.partial(func, *args, **kwargs), ())


# --- metadata and decorator forms --------------------------------------------------------------------------------


def test_compiled_function_keeps_the_originals_metadata() -> None:
    fast: Any = jit.compile(add)
    assert fast is not add
    for name in ("__name__", "__qualname__", "__doc__", "__module__"):
        assert getattr(fast, name) == getattr(add, name), name
    assert fast.__wrapped__ is add
    assert fast.custom_attribute == "kept"
    assert inspect.signature(fast) == inspect.signature(add)
    assert fast(2, 3) == 5


def test_decorator_forms() -> None:
    assert decorated.__name__ == "decorated" and decorated.__doc__ == "Decorated without parentheses."
    assert decorated_strict.__name__ == "decorated_strict" and decorated_strict.__doc__ == "Decorated with strict=True."
    assert decorated(6, 7) == 41
    assert decorated_strict(2**62) == 2**63 + 1
    dispatcher: Any = decorated_strict.__jit_dispatcher__  # type: ignore[attr-defined]
    assert dispatcher.strict and dispatcher.fallbacks == {}


def test_compiling_a_compiled_function_does_not_wrap_it_twice() -> None:
    fast: Any = jit.compile(jit.compile(add))
    assert fast.__wrapped__ is add
    assert fast(1.5, 2) == 3.5


# --- bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "mentioned"), [
    (42, "int"),
    (None, "NoneType"),
    (len, "builtin"),
    (Holder, "class"),
    (Holder().method, "bound method"),
    (functools.partial(add, 1), "partial"),
], ids=["number", "none", "builtin", "class", "bound-method", "partial"])
def test_what_is_not_a_plain_function_is_a_type_error(value: object, mentioned: str) -> None:
    with pytest.raises(TypeError, match=mentioned):
        jit.compile(value)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=mentioned):
        jit.compile(strict=True)(value)  # type: ignore[type-var]


@pytest.mark.parametrize("strict", ["no", 0, 1, None])
def test_strict_must_be_a_bool(strict: object) -> None:
    with pytest.raises(TypeError, match="'strict' must be True or False"):
        jit.compile(add, strict=strict)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="'strict' must be True or False"):
        jit.compile(strict=strict)  # type: ignore[call-overload]


@pytest.mark.parametrize(("func", "kind", "line"), [(generator, "generator", 1), (coroutine, "coroutine", 0),
                                                    (async_generator, "generator", 1)],
                         ids=["generator", "coroutine", "async-generator"])
def test_generators_and_coroutines_run_in_the_interpreter_with_the_reason(func: Any, kind: str, line: int) -> None:
    """The reason names the first yield or await (the def line when there is none)."""
    before = jit.stats()["fallbacks"]
    fast: Any = jit.compile(func)  # decorating one must not break the module at import
    assert fast is func  # handed back as it is: its calls cost what they cost without cpjit
    result, expected = fast(3), func(3)
    assert type(result) is type(expected)
    if hasattr(result, "__next__"):
        assert list(result) == list(expected) == [3]
    else:
        for made in (result, expected):  # close both unawaited objects without a warning
            made.aclose().close() if hasattr(made, "aclose") else made.close()
    reason = jit.explain(fast, file=io.StringIO())
    assert f"is a {kind} function: generators, coroutines and async generators run in the interpreter" in reason
    assert jit.stats()["fallbacks"] == before + 1
    with pytest.raises(jit.UnsupportedError) as raised:
        jit.compile(func, strict=True)
    assert raised.value.filename == __file__ and raised.value.line == func.__code__.co_firstlineno + line


def test_a_function_that_cannot_compile_is_handed_back_as_it_is() -> None:
    before = jit.stats()["fallbacks"]
    assert jit.compile(cannot_compile) is cannot_compile
    assert jit.compile(cannot_compile) is cannot_compile  # each time, and counted each time
    assert jit.stats()["fallbacks"] == before + 2
    assert "'import' is not supported" in jit.explain(cannot_compile, file=io.StringIO())
    with pytest.raises(UnsupportedError, match="'import' is not supported"):
        jit.compile(cannot_compile, strict=True)


def test_a_function_whose_new_code_cannot_compile_forwards_every_call_form_to_it() -> None:
    function = fresh(add)
    fast: Any = jit.compile(function)
    assert fast(1, 2) == 3 and fast.__jit_dispatcher__.specializations
    function.__code__ = cannot_compile.__code__  # after jit.compile returned: its dispatcher forwards
    function.__kwdefaults__ = {"b": 1}
    assert fast(1) == 2
    assert fast(1, b=5) == 6
    assert fast.__jit_dispatcher__.refusal is not None
    assert fast(a=2, b=3) == 5
    with pytest.raises(TypeError) as raised:
        fast(1, 2)
    with pytest.raises(TypeError) as expected:
        function(1, 2)
    assert str(raised.value) == str(expected.value)
    function.__code__ = add.__code__  # forwarded still (refused for good), to the code it has now
    assert fast(2, 3) == 5


def test_a_refused_function_whose_code_is_replaced_compiles() -> None:
    function = fresh(cannot_compile)
    assert jit.compile(function) is function
    function.__code__, function.__kwdefaults__ = add.__code__, None
    fast: Any = jit.compile(function)
    assert fast is not function and fast(1, 2) == 3 and fast.__jit_dispatcher__.specializations


def later_helper_caller(x: Any) -> Any:
    return later_helper(x) + 1  # noqa: F821 - defined by the test below, after jit.compile


def test_globals_defined_after_jit_compile_are_folded_at_the_first_call() -> None:
    # jit.compile builds the IR at once, when names the function uses may not be defined yet (a function further
    # down the module, the class of a method): the first call builds it again if one changed since.
    fast: Any = jit.compile(fresh(later_helper_caller))
    before = fast.__jit_dispatcher__.ir
    assert before is not None
    globals()["later_helper"] = abs
    try:
        assert fast(-3) == 4
        dispatcher = fast.__jit_dispatcher__
        assert dispatcher.ir is not before and dispatcher.invalidations == 0
        (spec,) = dispatcher.specializations.values()
        assert any(getattr(g, "name", None) == "later_helper" for g in spec.function.guards)  # folded, guarded
        assert not any(op.opcode.name == "LOAD_GLOBAL" for op in spec.function.ops)
    finally:
        del globals()["later_helper"]


def test_an_ir_whose_globals_did_not_change_is_kept_for_the_first_call() -> None:
    fast: Any = jit.compile(fresh(add))
    before = fast.__jit_dispatcher__.ir
    assert fast(1, 2) == 3 and fast.__jit_dispatcher__.ir is before


def fresh(func: Callable[..., Any]) -> Any:
    """A new function of ``func``'s code (its own dispatcher, whatever other tests compiled of ``func``)."""
    copy = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__)
    copy.__qualname__ = func.__qualname__
    return copy


def test_argument_type_fallbacks_are_counted() -> None:
    fast: Any = jit.compile(fresh(add))
    signatures = [(a, b) for a in (1, 1.5, True) for b in (1, 1.5, True)] + [("a", "b")]  # ten: two too many
    before = jit.stats()["fallbacks"]
    for args in signatures:
        assert fast(*args) == add(*args)
    assert jit.stats()["fallbacks"] == before + len(signatures) - MAX_SPECIALIZATIONS


def test_explain_of_something_not_compiled_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        jit.explain(add)


# --- argument binding ------------------------------------------------------------------------------------------

CALLS: list[tuple[tuple[object, ...], dict[str, object]]] = [
    ((1,), {}), ((1, 5), {}), ((1, 5, 2.5), {}), ((1, 5, 2.5, False), {}), ((1, 5), {"c": 2.5}),
    ((1,), {"d": False}), ((1.5, 2), {"d": True, "c": -1}), ((2**63, 2), {}),
    # The interpreter's TypeErrors, word for word:
    ((), {}), ((1, 2, 3, 4, 5), {}), ((), {"a": 1}), ((1,), {"b": 2}), ((1,), {"e": 3}), ((1, 2, 3), {"c": 4}),
]


@pytest.mark.parametrize(("args", "kwargs"), CALLS, ids=[f"{a}-{k}" for a, k in CALLS])
def test_arguments_bind_as_in_the_original(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    fast: Any = jit.compile(parameters)
    assert called(fast, args, kwargs) == called(parameters, args, kwargs)
    assert fast.__jit_dispatcher__.fallbacks == {}


def test_keyword_calls_run_compiled_code() -> None:
    def fresh(a: Any, b: Any = 2, /, c: Any = 3.5, d: Any = True) -> Any:
        return a * b + c if d else a - b - c

    fast: Any = jit.compile(fresh)
    assert fast(1, 5, c=2.5, d=False) == fresh(1, 5, c=2.5, d=False)
    assert fast(1) == fresh(1)
    signatures = {tuple(t.value for t in s) for s in fast.__jit_dispatcher__.specializations}
    assert signatures == {("int", "int", "float", "bool")}


def bound_in_machine_code(a: Any, b: Any = 2, c: Any = 3.5) -> Any:
    return a * b + c


KEYWORD_CALLS: list[tuple[tuple[object, ...], dict[str, object]]] = [
    ((1,), {"c": 1.0}), ((), {"c": 1.0, "a": 4, "b": 5}), ((1, 2), {"c": 0.5}), ((1,), {}), ((), {"a": 1}),
    # given twice, unknown, missing, too many: the interpreter's TypeErrors
    ((1,), {"a": 2}), ((1, 2), {"b": 3}), ((1,), {"d": 3}), ((), {"b": 1}), ((1, 2, 3), {"c": 4}),
    # a keyword whose name is not the interned string (built at run time): bound by the slow path
    ((1,), {"".join(["b"]): 7}),
]


@pytest.mark.parametrize(("args", "kwargs"), KEYWORD_CALLS, ids=[f"{a}-{k}" for a, k in KEYWORD_CALLS])
def test_entry_binds_keywords_and_defaults_as_the_interpreter(args: tuple[object, ...],
                                                             kwargs: dict[str, object]) -> None:
    fast: Any = jit.compile(bound_in_machine_code)
    for _ in range(2):
        assert called(fast, args, kwargs) == called(bound_in_machine_code, args, kwargs)


def test_entry_reads_the_defaults_as_they_are_at_each_call() -> None:
    def changing(a: Any, b: Any = 2) -> Any:
        return a - b

    fast: Any = jit.compile(changing)
    assert fast(10) == 8 and fast(10, b=1) == 9
    changing.__defaults__ = (7,)
    assert fast(10) == changing(10) == 3
    changing.__defaults__ = None
    assert called(fast, (10,), {}) == called(changing, (10,), {})


def test_keyword_only_parameters_compile_and_behave_as_the_original() -> None:
    fast: Any = jit.compile(keyword_only, strict=True)
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = [
        ((1,), {}), ((1,), {"b": 2.5}), ((1, 2), {}), ((), {"a": 1}), ((1,), {"c": 1})]
    for args, kwargs in calls:
        assert called(fast, args, kwargs) == called(keyword_only, args, kwargs)
    assert fast.__jit_dispatcher__.specializations


def test_arguments_of_other_types_are_objects_in_machine_code() -> None:
    fast: Any = jit.compile(fresh(add))
    for args in [("a", "b"), ("a", 1), ([1], [2]), (1j, 2), (None, 1)]:
        assert outcome(fast, args) == outcome(add, args)
    dispatcher = fast.__jit_dispatcher__
    assert dispatcher.fallbacks == {}
    assert {(Type.OBJECT, Type.OBJECT), (Type.OBJECT, Type.INT)} <= set(dispatcher.specializations)
    assert fast(1, 2) == 3 and (Type.INT, Type.INT) in dispatcher.specializations  # numbers: their own


def test_strict_compiles_arguments_of_any_type() -> None:
    # strict=True promises compiled code or an error: a str argument is an object in compiled code.
    fast: Any = jit.compile(add, strict=True)
    assert fast(1, 2) == 3
    assert fast("a", "b") == "ab"


# --- refusals --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", REFUSED, ids=lambda f: f.__name__)
def test_strict_names_file_line_and_construct(func: Callable[..., Any]) -> None:
    with pytest.raises(UnsupportedError) as raised:
        jit.compile(func, strict=True)
    error = raised.value
    assert error.filename == THIS_FILE
    assert error.line == refused_line(func)
    assert REFUSED[func] in error.construct
    assert f"line {error.line}: " in str(error) and REFUSED[func] in str(error)


@pytest.mark.parametrize("func", REFUSED, ids=lambda f: f.__name__)
def test_without_strict_the_reason_is_in_explain(func: Callable[..., Any]) -> None:
    fast: Any = jit.compile(func)
    assert fast is func
    assert_same(func, 3, compiled=False)
    assert outcome(fast, (-2,)) == outcome(func, (-2,))
    text = jit.explain(fast, file=io.StringIO())
    assert "runs in the interpreter" in text
    assert f"line {refused_line(func)}: " in text and REFUSED[func] in text


def test_a_function_without_source_falls_back_with_that_reason() -> None:
    namespace: dict[str, Any] = {}
    exec("def nowhere(x):\n    return x + 1\n", namespace)
    fast: Any = jit.compile(namespace["nowhere"])
    assert fast(41) == 42
    assert "cannot be found" in jit.explain(fast, file=io.StringIO())
    with pytest.raises(UnsupportedError, match="cannot be found"):
        jit.compile(namespace["nowhere"], strict=True)


def test_strict_decorator_refuses_at_definition() -> None:
    with pytest.raises(UnsupportedError) as raised:
        @jit.compile(strict=True)
        def refused(n: Any) -> Any:
            import os  # noqa: PLC0415  # refused
            return os.sep * n

    assert raised.value.line == refused_line(test_strict_decorator_refuses_at_definition)
    assert "'import' is not supported" in str(raised.value)


# --- explain and stats ------------------------------------------------------------------------------------------


def test_explain_shows_lines_micro_ops_tiers_and_machine_code() -> None:
    def fibonacci(n: Any) -> Any:
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        return a

    fast: Any = jit.compile(fibonacci)
    assert "not called yet" in jit.explain(fast, file=io.StringIO())
    assert fast(100) == fibonacci(100)
    text = jit.explain(fast, file=io.StringIO())
    first = fibonacci.__code__.co_firstlineno
    assert f"line {first + 3}: a, b = b, a + b" in text
    assert f"line {first + 2}: for _ in range(n):" in text
    assert "FOR_ITER_RANGE" in text and "BINARY_OP" in text  # micro-ops
    assert "BINARY_OP_ADD_INT" in text and "BINARY_OP_ADD" in text  # stencils of both tiers
    assert "specialized" in text and "generic" in text
    assert re.search(r"(?:[0-9a-f]{2} ){8}", text), "no machine-code bytes"
    assert "1 deoptimizations" in text
    printed = io.StringIO()
    assert jit.explain(fast, file=printed) == printed.getvalue()


def test_stats_counters_move() -> None:
    def fresh(x: Any) -> Any:
        return x * x

    before = jit.stats()
    fast: Any = jit.compile(fresh)
    assert fast(3) == 9
    after_compile = jit.stats()
    assert after_compile["compiles"] == before["compiles"] + 1
    assert after_compile["compile_seconds"] > before["compile_seconds"]
    assert after_compile["code_bytes"] > before["code_bytes"]
    assert fast(2**40) == 2**80
    assert jit.stats()["deoptimizations"] == after_compile["deoptimizations"] + 1

    def refused(x: Any) -> Any:
        import itertools  # noqa: PLC0415 - an import in a function: refused

        return list(itertools.repeat(x, 1))

    fallbacks = jit.stats()["fallbacks"]
    assert jit.compile(refused)(1) == [1]
    assert jit.stats()["fallbacks"] == fallbacks + 1
    assert jit.stats()["frame_slots_in_use"] == 0


class Counter:
    def __init__(self) -> None:
        self.base = 10

    @jit.compile
    def bump(self, x: Any) -> Any:
        return self.base + x


def test_a_compiled_method_is_called_without_binding_and_still_binds() -> None:
    counter = Counter()
    assert counter.bump(1) == 11  # LOAD_METHOD calls it with self: the object type is a method descriptor
    bound: Any = counter.bump
    assert bound.__self__ is counter and bound(2) == 12
    assert Counter.bump(counter, 3) == 13
    assert getattr(counter, "bump")(4) == 14  # noqa: B009 - the attribute path, not LOAD_METHOD


def test_argument_types_that_fell_back_keep_the_interpreters_results_and_errors() -> None:
    fast: Any = jit.compile(add)
    for _ in range(3):  # the first call decides; the next ones are handed on by the machine code
        assert fast("a", "b") == "ab"
        assert fast([1], [2]) == [1, 2]
        with pytest.raises(TypeError) as raised:
            fast("a", 1)
        with pytest.raises(TypeError) as expected:
            add("a", 1)
        assert str(raised.value) == str(expected.value)
    assert fast(1, 2) == 3  # the specialization is still there
