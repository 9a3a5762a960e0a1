"""The micro-op IR: a register-style sequence of ops over frame slots.

The frontend produces it from a function's AST; optimizer passes rewrite it;
the backend lowers each op to one stencil per tier.  Ops keep CPython's tier-2
names where they mean the same thing (BINARY_OP, COMPARE_OP, FOR_ITER_RANGE,
RETURN_VALUE ...).  Operands are variables (one frame slot each) or constants,
so ``a, b = b, a + b`` is three ops, not eight.

The IR is untyped: for one signature of argument types, the types pass
(jit/optimizer/versions.py) rewrites a copy of it so that every variable has
one :class:`Type` (a block per combination of the types its live variables
hold, a variable per type), and the backend chooses each op's stencil from the
declarations in jit/ops.py.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

from jit.records import field, record


class _Enum(enum.Enum):
    """An enum hashed in C: Enum.__hash__ is Python code calling the real builtins' ``hash``, which user code
    may rebind (jit/_isolation.py); members are singletons, so identity is the right hash."""

    __hash__ = object.__hash__


class Type(_Enum):
    """What a variable holds, for one specialization."""

    UNKNOWN = "unknown"  # bottom of the lattice: not assigned yet
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    OBJECT = "object"  # anything, as a PyObject* (owned): computed on with the C API in either tier

    def join(self, other: Type) -> Type:
        if self is other or other is Type.UNKNOWN:
            return self
        if self is Type.UNKNOWN:
            return other
        return Type.OBJECT

    @property
    def unboxed(self) -> bool:
        return self in (Type.BOOL, Type.INT, Type.FLOAT)


def constant_type(value: object) -> Type:
    """The type a value has as a constant: a bool, an int64, a float; anything else (a bigger int, None) an
    object."""
    if type(value) is bool:
        return Type.BOOL
    if type(value) is int and -(2**63) <= value < 2**63:  # type: ignore[operator]
        return Type.INT
    return Type.FLOAT if type(value) is float else Type.OBJECT


@record(frozen=True)
class Var:
    """A frame slot: a local variable of the function or a temporary."""

    slot: int
    name: str

    def __str__(self) -> str:
        return self.name


@record(frozen=True, eq=False)
class Const:
    """A constant operand: a value of the function's source (a number, None, a str, a tuple of constants...)
    or an object the compiler found (a global's value: a class, a module, a function).  Numbers compare by
    value; anything else by identity, never through its own ``__eq__`` (which may be any code)."""

    value: Any

    def __eq__(self, other: object) -> bool:
        if type(other) is not Const:
            return NotImplemented
        if type(self.value) in NUMBERS and type(other.value) in NUMBERS:
            return bool(self.value == other.value)
        return self.value is other.value

    def __hash__(self) -> int:
        # Through the values' own methods, not the builtins (which user code may rebind: jit/_isolation.py).
        return self.value.__hash__() if type(self.value) in NUMBERS else object.__hash__(self.value)

    def __str__(self) -> str:
        return repr(self.value)


NUMBERS = (bool, int, float, type(None))  # the constants compared by value
Operand = Var | Const


@record(frozen=True)
class Label:
    """A branch target: the index of an op, resolved when the function is finished."""

    name: str

    def __str__(self) -> str:
        return self.name


class Opcode(_Enum):
    """The IR's operations.  ``arg`` and ``target`` of :class:`Op` give their details."""

    LOAD_CONST = "LOAD_CONST"  # dst = const
    LOAD_GLOBAL = "LOAD_GLOBAL"  # dst = the global arg as it is when the op runs; callee: (globals, builtins)
    COPY = "COPY"  # dst = src
    BOX = "BOX"  # dst = src as an object (where a value's representation changes)
    UNBOX = "UNBOX"  # dst = the value of the object a, bet to be of dst's type (callee: the bet's site)
    BINARY_OP = "BINARY_OP"  # dst = a <arg> b, arg in + - * / // % ** and the augmented += -= ...
    UNARY_OP = "UNARY_OP"  # dst = <arg> a, arg in - not
    COMPARE_OP = "COMPARE_OP"  # dst = a <arg> b, arg in < <= > >= == !=
    CALL_INTRINSIC = "CALL_INTRINSIC"  # dst = arg(*args), arg in abs min max int float math.*
    CALL_FUNCTION = "CALL_FUNCTION"  # dst = callee(*args), callee a compiled function
    CALL_OBJECT = "CALL_OBJECT"  # dst = callee(*args), callee any object, called on objects (generic tier)
    JUMP = "JUMP"  # goto target
    POP_JUMP_IF_TRUE = "POP_JUMP_IF_TRUE"  # if a: goto target
    POP_JUMP_IF_FALSE = "POP_JUMP_IF_FALSE"  # if not a: goto target
    COMPARE_AND_BRANCH = "COMPARE_AND_BRANCH"  # if (a <arg> b) == jump_if: goto target
    INDEX = "INDEX"  # dst = operator.index(a): how range() converts each bound to an exact int
    GET_RANGE = "GET_RANGE"  # checks range(start, stop, step) of exact ints: a zero step raises
    FOR_ITER_RANGE = "FOR_ITER_RANGE"  # dst = counter; counter += step; exit to target when done
    CHECK_SIGNALS = "CHECK_SIGNALS"  # a loop's back edge: answer Ctrl-C
    RETURN_VALUE = "RETURN_VALUE"  # return a
    # The object tier: ops on objects only, each CPython's own C-API call (jit/ops.py declares them).
    LOAD_ATTR = "LOAD_ATTR"  # dst = a.<arg>
    STORE_ATTR = "STORE_ATTR"  # a.<arg> = b
    DELETE_ATTR = "DELETE_ATTR"  # del a.<arg>
    BINARY_SUBSCR = "BINARY_SUBSCR"  # dst = a[b]
    STORE_SUBSCR = "STORE_SUBSCR"  # a[b] = c
    DELETE_SUBSCR = "DELETE_SUBSCR"  # del a[b]
    BUILD_SLICE = "BUILD_SLICE"  # dst = slice(a, b, c)
    BUILD_TUPLE = "BUILD_TUPLE"  # dst = (args...)
    BUILD_LIST = "BUILD_LIST"  # dst = [args...]
    BUILD_SET = "BUILD_SET"  # dst = {args...}
    BUILD_MAP = "BUILD_MAP"  # dst = {args[0]: args[1], ...}
    BUILD_STRING = "BUILD_STRING"  # dst = "".join(args), the parts of an f-string
    LIST_APPEND = "LIST_APPEND"  # a.append(b), for displays and comprehensions
    LIST_EXTEND = "LIST_EXTEND"  # a.extend(b) for [*b] and a call's f(a, *b)
    LIST_TO_TUPLE = "LIST_TO_TUPLE"  # dst = tuple(a)
    SET_ADD = "SET_ADD"  # a.add(b)
    SET_UPDATE = "SET_UPDATE"  # a.update(b) for {*b}
    DICT_UPDATE = "DICT_UPDATE"  # a.update(b) for {**b}
    CALL = "CALL"  # dst = a(args[1:]), the last len(callee) of them by keyword (callee: the names)
    CALL_METHOD = "CALL_METHOD"  # dst = args[0].<arg>(args[1:]), keywords last (callee: their names), no bound method
    # obj.m(...) whose arguments may run code: the method looked up first, as the interpreter's LOAD_METHOD does.
    LOAD_METHOD = "LOAD_METHOD"  # dst = what a.<arg> calls; a (a copy of the owner) becomes NULL if that is bound
    CALL_LOADED = "CALL_LOADED"  # dst = a(args[1:]), args[1] the self LOAD_METHOD left (NULL: none); keywords last
    CALL_FUNCTION_EX = "CALL_FUNCTION_EX"  # dst = a(*b, **c), b a tuple, c a dict or None
    GET_ITER = "GET_ITER"  # dst = iter(a)
    FOR_ITER = "FOR_ITER"  # dst = next(a); exit to target when a is exhausted
    UNPACK_SEQUENCE = "UNPACK_SEQUENCE"  # dst = a tuple of exactly the items a target list takes from a
    TUPLE_ITEM = "TUPLE_ITEM"  # dst = a[arg], a an UNPACK_SEQUENCE's tuple
    CONTAINS_OP = "CONTAINS_OP"  # dst = a in b (arg "in") or a not in b (arg "not in")
    FORMAT_VALUE = "FORMAT_VALUE"  # dst = format(conversion(a), b), conversion (arg) "s", "r", "a" or None
    RAISE = "RAISE"  # raise a [from b]; no operand: re-raise the exception being handled
    STORE_GLOBAL = "STORE_GLOBAL"  # the global arg = a; callee: (globals, builtins)
    DELETE_GLOBAL = "DELETE_GLOBAL"  # del the global arg
    GET_EXCEPTION = "GET_EXCEPTION"  # dst = the exception being raised, caught (a handler's first op)
    PUSH_EXC_INFO = "PUSH_EXC_INFO"  # dst = the exception handled so far (or None); a becomes the handled one
    POP_EXCEPT = "POP_EXCEPT"  # the handled exception becomes a again (leaving a handler)
    CHECK_EXC_MATCH = "CHECK_EXC_MATCH"  # dst = isinstance(a, b), b an exception class or a tuple of them
    RERAISE = "RERAISE"  # raise the caught exception a again, as it was
    DELETE_FAST = "DELETE_FAST"  # del a (a local): unbound from here on
    CHECK_BOUND = "CHECK_BOUND"  # a (a local that may be unbound, an object) is bound, else UnboundLocalError
    BEFORE_WITH = "BEFORE_WITH"  # dst = (a.__exit__, a.__enter__()), looked up as special methods
    WITH_EXCEPT_START = "WITH_EXCEPT_START"  # dst = a(type(b), b, b.__traceback__), a with's __exit__
    LOAD_DEREF = "LOAD_DEREF"  # dst = the value of the cell a, the variable arg (callee: "free" or "local")
    STORE_DEREF = "STORE_DEREF"  # the value of the cell a = b
    MAKE_CELL = "MAKE_CELL"  # dst = a new cell (holding a, a parameter, if given): a local a closure captures
    MAKE_FUNCTION = "MAKE_FUNCTION"  # dst = function(code a, closure b, defaults c, keyword defaults d)


def binary_operator(arg: str) -> str:
    """The arithmetic of a BINARY_OP's operator: "+" for both "+" and the augmented "+="."""
    return arg.removesuffix("=")


TERMINATORS = frozenset({Opcode.JUMP, Opcode.RETURN_VALUE, Opcode.RAISE, Opcode.RERAISE})
# The loops' iterations: each assigns its target only on the edge into the loop body, not on its exit.
LOOP_ITERATIONS = frozenset({Opcode.FOR_ITER_RANGE, Opcode.FOR_ITER})
IN_PLACE = frozenset({Opcode.FOR_ITER_RANGE, Opcode.LOAD_METHOD})  # ops that also assign their first operand
UNWIND = None  # an op's handler when its exception leaves the function


@record
class Op:
    opcode: Opcode
    dst: Var | None = None
    args: tuple[Operand, ...] = ()
    arg: str | None = None
    target: Label | None = None
    jump_if: bool = True  # COMPARE_AND_BRANCH: branch when the comparison is this
    # CALL_FUNCTION: the jit.Function being called; CALL_OBJECT: the object; CALL: the keywords' names;
    # UNPACK_SEQUENCE: (targets before a starred one, targets after it or -1); TUPLE_ITEM: True for the
    # tuple's last read, which releases it; the globals' namespaces.
    callee: object = None
    line: int = 0
    # The error edge: where an exception this op raises goes (jit/ops.py says which ops may raise): a
    # handler's label (a try's), or None for the function's unwinding exit (UNWIND), which releases the frame
    # and returns NULL.  The frontend gives a handler only to ops that may raise.
    handler: Label | None = None
    # The handler of the try statement the op is in (UNWIND outside any), even for an op that cannot raise: a
    # check that definite assignment puts before it raises there.  Only the frontend and that pass read it.
    enclosing: Label | None = None
    # Per operand, the index of the op before which the interpreter reads it, for a local read where the
    # expression names it (-1: at this op).  Definite assignment checks a local that may be unbound there.
    loaded: tuple[int, ...] = ()
    # The frames the interpreter would run the op in between the function's and its own, outermost first: on
    # 3.11, where a comprehension is a function of its own, each enclosing comprehension's name and the line
    # that calls it.  An exception's traceback gets an entry per frame, as the interpreter's gets.
    frames: tuple[tuple[str, int], ...] = ()

    def written(self) -> tuple[Var, ...]:
        """The variables this op assigns: its destination, FOR_ITER_RANGE's counter, advanced in place, and
        LOAD_METHOD's self, made NULL in place where the method is bound."""
        written = [self.dst] if self.dst is not None else []
        if self.opcode in IN_PLACE and isinstance(self.args[0], Var):
            written.append(self.args[0])
        return tuple(written)

    def __str__(self) -> str:
        parts = [self.opcode.value]
        if self.arg is not None:
            parts.append(self.arg)
        if self.opcode is Opcode.COMPARE_AND_BRANCH and not self.jump_if:
            parts.append("(negated)")
        text = " ".join(parts)
        if self.dst is not None:
            text = f"{self.dst} = {text}"
        if self.opcode in (Opcode.CALL_FUNCTION, Opcode.CALL_OBJECT):
            text += f" {getattr(self.callee, '__qualname__', self.callee)}"
        if self.args:
            text += " " + ", ".join(str(a) for a in self.args)
        if self.target is not None:
            text += f" -> {self.target}"
        return text


MISSING = object()  # a GlobalGuard's value when the name must stay unbound


@record(frozen=True)
class GlobalGuard:
    """The compiled code assumed ``namespace[name] is value`` (or that the name is absent)."""

    namespace: dict[str, object]
    name: str
    value: object

    def holds(self) -> bool:
        return self.namespace.get(self.name, MISSING) is self.value


FUNCTION_METADATA = ("__code__", "__defaults__", "__kwdefaults__")  # what a call of a function depends on


@record(frozen=True)
class MetadataGuard:
    """The compiled code assumed ``getattr(function, name) is value`` for a function's code or defaults.

    CPython keeps them in fixed fields of the function object, so machine code checks one word
    (GUARD_FIELD, at the offset found by jit/backend/layout.py); None is kept there as NULL.
    """

    function: object
    name: str  # one of FUNCTION_METADATA
    value: object

    def holds(self) -> bool:
        return getattr(self.function, self.name) is self.value


Guard = GlobalGuard | MetadataGuard


def metadata_guards(function: object) -> list[MetadataGuard]:
    """Guards that ``function`` keeps the code and defaults it has now."""
    return [MetadataGuard(function, name, getattr(function, name)) for name in FUNCTION_METADATA]


@record
class Function:
    """A function's IR: its ops in order, labels, and variables."""

    name: str
    filename: str
    first_line: int
    params: list[Var]
    ops: list[Op] = field(default_factory=list)
    labels: dict[Label, int] = field(default_factory=dict)  # label -> index of the op it marks
    variables: list[Var] = field(default_factory=list)
    label_count: int = 0
    guards: list[Guard] = field(default_factory=list)
    # What the frontend found for each global name it looked up (its value, or MISSING), folded or not: an IR
    # built before the first call is built again at that call if one differs (Function.globals_changed).
    seen_globals: list[GlobalGuard] = field(default_factory=list)

    def globals_changed(self) -> bool:
        return not all(seen.holds() for seen in self.seen_globals)

    def copy(self) -> Function:
        """A copy whose ops can be rewritten without touching this one's (each signature has its own IR)."""
        ops = [Op(op.opcode, op.dst, op.args, op.arg, op.target, op.jump_if, op.callee, op.line, op.handler,
                  op.enclosing, op.loaded, op.frames) for op in self.ops]
        return Function(self.name, self.filename, self.first_line, list(self.params), ops, dict(self.labels),
                        list(self.variables), self.label_count, list(self.guards), list(self.seen_globals))

    def new_var(self, name: str) -> Var:
        var = Var(len(self.variables), name)
        self.variables.append(var)
        return var

    def new_label(self, hint: str) -> Label:
        self.label_count += 1
        return Label(f"{hint}{self.label_count}")

    def place(self, label: Label) -> None:
        """Mark that ``label`` is the index of the next op appended."""
        self.labels[label] = len(self.ops)

    def emit(self, op: Op) -> Op:
        self.ops.append(op)
        return op

    def error_edge(self, op: Op) -> Label | None:
        """Where an exception ``op`` raises goes: its handler's label, or UNWIND (None), the function's
        unwinding exit.  Which ops may raise is their declaration's (jit/ops.py: ``effects.raises``)."""
        return op.handler

    def target_index(self, op: Op) -> int:
        assert op.target is not None
        return self.labels[op.target]

    def successors(self, index: int) -> Iterator[int]:
        """Indices of the ops that may run after op ``index``: its target, the next op, its handler."""
        op = self.ops[index]
        if op.target is not None:
            yield self.target_index(op)
        if op.opcode not in TERMINATORS and index + 1 < len(self.ops):
            yield index + 1
        if op.handler is not None:
            yield self.labels[op.handler]

    def format(self) -> str:
        label_at: dict[int, list[str]] = {}
        for label, index in self.labels.items():
            label_at.setdefault(index, []).append(label.name)
        lines = [f"function {self.name}({', '.join(p.name for p in self.params)}):"]
        for index, op in enumerate(self.ops):
            for name in sorted(label_at.get(index, ())):
                lines.append(f"  {name}:")
            lines.append(f"    {index:4d}  line {op.line:<4d} {op}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()
