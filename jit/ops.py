"""The registry of micro-ops: every operation the IR can hold, declared once.

Each declaration says what the op is (its opcode and, for families such as
BINARY_OP, its operator), how the frontend spells it (the AST node), how many
operands it takes, its type rule, its constant-folding rule (Python's own
operation), its effects, and the stencils it lowers to.  Everything else is
derived from here: the frontend's operator maps, the constant folder, type
inference, the lowering's choice of stencil, the stencil catalog the build
checks, and the list of terminal stencils.  CPython's ``Python/bytecodes.c``
(an instruction declared once, its interpreter cases and metadata generated)
and Numba's typing and lowering registries are the models.

A new operator is one :func:`binary` (or :func:`unary`, :func:`comparison`,
:func:`intrinsic`) call below plus its C stencils; see docs/architecture.md.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from jit import layouts
from jit.ir import Const, Opcode, Type
from jit.layouts import RICH_COMPARE

INTEGRAL = (Type.BOOL, Type.INT)


class Effects:
    """What an op may do besides computing its result, for the passes to query.

    ``raises``: it has an error edge (an exception goes where ``Op.handler`` says);
    ``deoptimizes``: its specialized stencil may leave for the generic tier;
    ``runs_python``: it may run arbitrary Python code (a dunder method, a signal handler), so anything the
    function cannot see may change; ``escapes``: an object it is given may be kept beyond the op.
    """

    __slots__ = ("deoptimizes", "escapes", "raises", "runs_python")

    def __init__(self, raises: bool = False, deoptimizes: bool = False, runs_python: bool = False,
                 escapes: bool = False) -> None:
        self.raises = raises
        self.deoptimizes = deoptimizes
        self.runs_python = runs_python
        self.escapes = escapes

    def __repr__(self) -> str:
        names = [name for name in self.__slots__ if getattr(self, name)]
        return f"Effects({', '.join(names) or 'none'})"


PURE = Effects()
ARITHMETIC = Effects(raises=True, deoptimizes=True, runs_python=True)  # on objects: any __add__
CALL = Effects(raises=True, deoptimizes=True, runs_python=True, escapes=True)
POLL = Effects(raises=True, runs_python=True)  # signal handlers run, KeyboardInterrupt
FAILS = Effects(raises=True)  # raises, nothing else (range() of a zero step, a box without memory)

TypeRule = Callable[[Sequence[Type]], Type]


class MicroOp:
    """One operation of the IR: an opcode, and for families its operator or intrinsic name (``arg``).

    ``stencils`` maps a *variant* to a stencil name: ``"INT"`` and ``"FLOAT"`` are the specialized tier's
    stencils for operands of that representation (a bool is an int64 0 or 1), ``"object"`` the stencil on
    objects (the generic tier's, and the specialized tier's for a value it cannot unbox), ``"inplace"`` the
    object stencil of the augmented form (``x += y``); comparisons add their branches (``"branch INT"``,
    ``"branch not INT"``, ...).  A variant that is absent means the op has no such form: the lowering
    computes it on objects.
    """

    __slots__ = (
        "arg",
        "arities",
        "effects",
        "fold",
        "form",
        "oparg",
        "opcode",
        "operands",
        "result",
        "stencils",
        "syntax",
        "terminal",
    )

    def __init__(self, opcode: Opcode, arg: str | None, *, operands: str, arities: tuple[int, ...],
                 result: TypeRule, effects: Effects, stencils: Mapping[str, str],
                 syntax: type[ast.AST] | None = None, fold: Callable[..., object] | None = None,
                 oparg: int = 0, terminal: bool = False, form: str | None = None) -> None:
        self.opcode = opcode
        self.arg = arg
        self.operands = operands  # how the op reads, for documentation: "dst = a + b"
        self.syntax = syntax
        self.arities = arities
        self.result = result
        self.fold = fold
        self.effects = effects
        self.stencils = dict(stencils)
        self.oparg = oparg  # an oparg the object stencil takes (a rich comparison's Py_LT ... Py_GE)
        self.terminal = terminal  # control never goes on to the next op: its stencils have no _JIT_CONTINUE
        # An op of the object tier: how its one stencil takes its operands (see OBJECT_FORMS).
        self.form = form

    def __repr__(self) -> str:
        return f"<micro-op {self.opcode.value}{' ' + self.arg if self.arg else ''}>"


REGISTRY: dict[tuple[Opcode, str | None], MicroOp] = {}
# The ops declared once per operator or intrinsic (their ``arg``); every other op is declared once.
FAMILIES = frozenset({Opcode.BINARY_OP, Opcode.UNARY_OP, Opcode.COMPARE_OP, Opcode.CALL_INTRINSIC})


def declare(op: MicroOp) -> MicroOp:
    key = (op.opcode, op.arg)
    assert key not in REGISTRY, f"{op} declared twice"
    REGISTRY[key] = op
    return op


def lookup(opcode: Opcode, arg: str | None = None) -> MicroOp:
    """The declaration of an op (for BINARY_OP, the augmented "+=" is declared with "+")."""
    if opcode is Opcode.BINARY_OP and arg is not None:
        arg = arg.removesuffix("=")
    elif opcode is Opcode.COMPARE_AND_BRANCH:
        opcode = Opcode.COMPARE_OP  # a comparison's branch forms are among its own variants
    elif opcode not in FAMILIES:
        arg = None  # the op's own detail (LOAD_GLOBAL's name), not a member of a family
    return REGISTRY[opcode, arg]


# --- type rules -------------------------------------------------------------------------
# A rule takes the operands' types and gives the result's.  UNKNOWN (an operand no assignment has reached
# yet) gives UNKNOWN; OBJECT is a boxed value: the op is computed on objects and its result is an object.


def _known(rule: TypeRule) -> TypeRule:
    def checked(types: Sequence[Type]) -> Type:
        if Type.UNKNOWN in types:
            return Type.UNKNOWN
        if Type.OBJECT in types:
            return Type.OBJECT
        return rule(types)
    checked.__doc__ = rule.__doc__
    checked.__name__ = rule.__name__
    return checked


@_known
def arithmetic(types: Sequence[Type]) -> Type:
    """+ - * // %: int if both are integral, else float."""
    return Type.INT if all(t in INTEGRAL for t in types) else Type.FLOAT


@_known
def true_division(types: Sequence[Type]) -> Type:
    return Type.FLOAT


@_known
def power(types: Sequence[Type]) -> Type:
    """int ** int may be a float (a negative exponent) or a big int: computed on objects."""
    return Type.OBJECT if all(t in INTEGRAL for t in types) else Type.FLOAT


@_known
def bitwise(types: Sequence[Type]) -> Type:
    """& | ^: a bool for two bools (True & True is True), an int for integral operands; a float raises
    TypeError, on objects."""
    if all(t is Type.BOOL for t in types):
        return Type.BOOL
    return Type.INT if all(t in INTEGRAL for t in types) else Type.OBJECT


@_known
def shift(types: Sequence[Type]) -> Type:
    return Type.INT if all(t in INTEGRAL for t in types) else Type.OBJECT


@_known
def negation(types: Sequence[Type]) -> Type:
    return Type.FLOAT if types[0] is Type.FLOAT else Type.INT


@_known
def inversion(types: Sequence[Type]) -> Type:
    """~ of an int; ~ of a bool warns (3.12+) and ~ of a float raises: both on objects."""
    return Type.INT if types[0] is Type.INT else Type.OBJECT


@_known
def truth(types: Sequence[Type]) -> Type:
    return Type.BOOL


def identity(types: Sequence[Type]) -> Type:
    """``x is None`` (the frontend allows only None, True and False on the right): always an unboxed bool."""
    return Type.UNKNOWN if Type.UNKNOWN in types else Type.BOOL


@_known
def same_type(types: Sequence[Type]) -> Type:
    """min and max: the type of their operands when they agree (else objects: min(1, 1.0) is 1)."""
    return types[0] if all(t is types[0] for t in types) else Type.OBJECT


@_known
def absolute(types: Sequence[Type]) -> Type:
    return Type.FLOAT if types[0] is Type.FLOAT else Type.INT


def constant(kind: Type) -> TypeRule:
    @_known
    def rule(types: Sequence[Type]) -> Type:
        return kind
    rule.__name__ = f"always_{kind.value}"
    return rule


@_known
def unboxable(types: Sequence[Type]) -> Type:
    """A math function without an unboxed result: on objects."""
    return Type.OBJECT


def same(types: Sequence[Type]) -> Type:
    """A copy: the type of its operand, whatever it is."""
    return types[0]


# --- folding rules ----------------------------------------------------------------------
# Python's own operations compute folded values, so they are the interpreter's.  A rule raises (any of
# ArithmeticError, ValueError, TypeError) where the op must stay for run time: it raises there, or its result
# would cost the compiler too much, or it has an effect of its own.

MAX_FOLDED_EXPONENT = 64  # an int ** int or << beyond this is not an int64 unless its base is 0 or ±1


def folded_power(base: Any, exponent: Any) -> object:
    if type(base) is not float and type(exponent) is not float and abs(exponent) > MAX_FOLDED_EXPONENT \
            and abs(base) > 1:
        raise OverflowError("2 ** 10**9 would take the compiler minutes")
    return operator.pow(base, exponent)


def folded_lshift(value: object, count: object) -> object:
    if type(count) is int and count > MAX_FOLDED_EXPONENT and value != 0:
        raise OverflowError("1 << 10**9 would take the compiler minutes")
    return operator.lshift(value, count)  # type: ignore[call-overload]


def folded_invert(value: object) -> object:
    if type(value) is bool:
        raise TypeError("~ of a bool warns (DeprecationWarning, 3.12+): at run time")
    return operator.invert(value)  # type: ignore[arg-type]


# --- declarations ----------------------------------------------------------------------

BINARY_SYNTAX: dict[type[ast.AST], str] = {}
UNARY_SYNTAX: dict[type[ast.AST], str] = {}
COMPARE_SYNTAX: dict[type[ast.AST], str] = {}
COMPARE_SYMBOLS: set[str] = set()


def binary(symbol: str, syntax: type[ast.AST], fold: Callable[..., object], result: TypeRule, *,
           object_stencil: str, inplace: str, int_stencil: str | None = None,
           float_stencil: str | None = None) -> MicroOp:
    stencils = {"object": object_stencil, "inplace": inplace}
    if int_stencil:
        stencils["INT"] = int_stencil
    if float_stencil:
        stencils["FLOAT"] = float_stencil
    BINARY_SYNTAX[syntax] = symbol
    return declare(MicroOp(Opcode.BINARY_OP, symbol, operands=f"dst = a {symbol} b", arities=(2,),
                           result=result, effects=ARITHMETIC, stencils=stencils, syntax=syntax, fold=fold))


binary("+", ast.Add, operator.add, arithmetic, int_stencil="BINARY_OP_ADD_INT",
       float_stencil="BINARY_OP_ADD_FLOAT", object_stencil="BINARY_OP_ADD", inplace="BINARY_OP_INPLACE_ADD")
binary("-", ast.Sub, operator.sub, arithmetic, int_stencil="BINARY_OP_SUBTRACT_INT",
       float_stencil="BINARY_OP_SUBTRACT_FLOAT", object_stencil="BINARY_OP_SUBTRACT",
       inplace="BINARY_OP_INPLACE_SUBTRACT")
binary("*", ast.Mult, operator.mul, arithmetic, int_stencil="BINARY_OP_MULTIPLY_INT",
       float_stencil="BINARY_OP_MULTIPLY_FLOAT", object_stencil="BINARY_OP_MULTIPLY",
       inplace="BINARY_OP_INPLACE_MULTIPLY")
# int / int runs in doubles while both are exact doubles (the INT stencil's result is a double).
binary("/", ast.Div, operator.truediv, true_division, int_stencil="BINARY_OP_TRUE_DIVIDE_INT",
       float_stencil="BINARY_OP_TRUE_DIVIDE_FLOAT", object_stencil="BINARY_OP_TRUE_DIVIDE",
       inplace="BINARY_OP_INPLACE_TRUE_DIVIDE")
binary("//", ast.FloorDiv, operator.floordiv, arithmetic, int_stencil="BINARY_OP_FLOOR_DIVIDE_INT",
       float_stencil="BINARY_OP_FLOOR_DIVIDE_FLOAT", object_stencil="BINARY_OP_FLOOR_DIVIDE",
       inplace="BINARY_OP_INPLACE_FLOOR_DIVIDE")
binary("%", ast.Mod, operator.mod, arithmetic, int_stencil="BINARY_OP_REMAINDER_INT",
       float_stencil="BINARY_OP_REMAINDER_FLOAT", object_stencil="BINARY_OP_REMAINDER",
       inplace="BINARY_OP_INPLACE_REMAINDER")
binary("**", ast.Pow, folded_power, power, float_stencil="BINARY_OP_POWER_FLOAT",
       object_stencil="BINARY_OP_POWER", inplace="BINARY_OP_INPLACE_POWER")
binary("&", ast.BitAnd, operator.and_, bitwise, int_stencil="BINARY_OP_AND_INT",
       object_stencil="BINARY_OP_AND", inplace="BINARY_OP_INPLACE_AND")
binary("|", ast.BitOr, operator.or_, bitwise, int_stencil="BINARY_OP_OR_INT",
       object_stencil="BINARY_OP_OR", inplace="BINARY_OP_INPLACE_OR")
binary("^", ast.BitXor, operator.xor, bitwise, int_stencil="BINARY_OP_XOR_INT",
       object_stencil="BINARY_OP_XOR", inplace="BINARY_OP_INPLACE_XOR")
binary("<<", ast.LShift, folded_lshift, shift, int_stencil="BINARY_OP_LSHIFT_INT",
       object_stencil="BINARY_OP_LSHIFT", inplace="BINARY_OP_INPLACE_LSHIFT")
binary("@", ast.MatMult, operator.matmul, unboxable, object_stencil="BINARY_OP_MATRIX_MULTIPLY",
       inplace="BINARY_OP_INPLACE_MATRIX_MULTIPLY")
binary(">>", ast.RShift, operator.rshift, shift, int_stencil="BINARY_OP_RSHIFT_INT",
       object_stencil="BINARY_OP_RSHIFT", inplace="BINARY_OP_INPLACE_RSHIFT")


def unary(symbol: str, syntax: type[ast.AST], fold: Callable[..., object], result: TypeRule, *,
          object_stencil: str, int_stencil: str | None = None, float_stencil: str | None = None,
          effects: Effects = ARITHMETIC) -> MicroOp:
    stencils = {"object": object_stencil}
    if int_stencil:
        stencils["INT"] = int_stencil
    if float_stencil:
        stencils["FLOAT"] = float_stencil
    UNARY_SYNTAX[syntax] = symbol
    return declare(MicroOp(Opcode.UNARY_OP, symbol, operands=f"dst = {symbol} a", arities=(1,), result=result,
                           effects=effects, stencils=stencils, syntax=syntax, fold=fold))


unary("-", ast.USub, operator.neg, negation, int_stencil="UNARY_NEGATIVE_INT", float_stencil="UNARY_NEGATIVE_FLOAT",
      object_stencil="UNARY_NEGATIVE")
unary("not", ast.Not, operator.not_, truth, int_stencil="UNARY_NOT_INT", float_stencil="UNARY_NOT_FLOAT",
      object_stencil="UNARY_NOT", effects=Effects(raises=True, runs_python=True))
unary("~", ast.Invert, folded_invert, inversion, int_stencil="UNARY_INVERT_INT", object_stencil="UNARY_INVERT")
unary("+", ast.UAdd, operator.pos, unboxable, object_stencil="UNARY_POSITIVE")



def comparison(symbol: str, syntax: type[ast.AST], fold: Callable[..., object], *,
               int_stencils: tuple[str, str, str], float_stencils: tuple[str, str, str],
               object_branches: tuple[str, str]) -> MicroOp:
    """A rich comparison: its value stencils, and its branches (jump if true, jump if false) per type.  The
    branches on objects are one stencil per comparison, whose inline int and float cases then compile to one
    compare each (with the comparison an oparg, every site carried all six: 686 bytes against 2xx)."""
    stencils = {"object": "COMPARE_OP", "inline": "COMPARE_OP_INLINE", "branch object": object_branches[0],
                "branch not object": object_branches[1]}
    for kind, (value, branch, branch_not) in (("INT", int_stencils), ("FLOAT", float_stencils)):
        stencils[kind], stencils[f"branch {kind}"], stencils[f"branch not {kind}"] = value, branch, branch_not
    COMPARE_SYNTAX[syntax] = symbol
    COMPARE_SYMBOLS.add(symbol)
    return declare(MicroOp(Opcode.COMPARE_OP, symbol, operands=f"dst = a {symbol} b", arities=(2,),
                           result=truth, effects=ARITHMETIC, stencils=stencils, syntax=syntax, fold=fold,
                           oparg=RICH_COMPARE[symbol]))


comparison("<", ast.Lt, operator.lt, int_stencils=("COMPARE_OP_INT_LT", "JUMP_IF_INT_LT", "JUMP_IF_NOT_INT_LT"),
           float_stencils=("COMPARE_OP_FLOAT_LT", "JUMP_IF_FLOAT_LT", "JUMP_IF_NOT_FLOAT_LT"),
           object_branches=("JUMP_IF_COMPARE_LT", "JUMP_IF_NOT_COMPARE_LT"))
comparison("<=", ast.LtE, operator.le, int_stencils=("COMPARE_OP_INT_LE", "JUMP_IF_INT_LE", "JUMP_IF_NOT_INT_LE"),
           float_stencils=("COMPARE_OP_FLOAT_LE", "JUMP_IF_FLOAT_LE", "JUMP_IF_NOT_FLOAT_LE"),
           object_branches=("JUMP_IF_COMPARE_LE", "JUMP_IF_NOT_COMPARE_LE"))
comparison(">", ast.Gt, operator.gt, int_stencils=("COMPARE_OP_INT_GT", "JUMP_IF_INT_GT", "JUMP_IF_NOT_INT_GT"),
           float_stencils=("COMPARE_OP_FLOAT_GT", "JUMP_IF_FLOAT_GT", "JUMP_IF_NOT_FLOAT_GT"),
           object_branches=("JUMP_IF_COMPARE_GT", "JUMP_IF_NOT_COMPARE_GT"))
comparison(">=", ast.GtE, operator.ge, int_stencils=("COMPARE_OP_INT_GE", "JUMP_IF_INT_GE", "JUMP_IF_NOT_INT_GE"),
           float_stencils=("COMPARE_OP_FLOAT_GE", "JUMP_IF_FLOAT_GE", "JUMP_IF_NOT_FLOAT_GE"),
           object_branches=("JUMP_IF_COMPARE_GE", "JUMP_IF_NOT_COMPARE_GE"))
comparison("==", ast.Eq, operator.eq, int_stencils=("COMPARE_OP_INT_EQ", "JUMP_IF_INT_EQ", "JUMP_IF_NOT_INT_EQ"),
           float_stencils=("COMPARE_OP_FLOAT_EQ", "JUMP_IF_FLOAT_EQ", "JUMP_IF_NOT_FLOAT_EQ"),
           object_branches=("JUMP_IF_COMPARE_EQ", "JUMP_IF_NOT_COMPARE_EQ"))
comparison("!=", ast.NotEq, operator.ne, int_stencils=("COMPARE_OP_INT_NE", "JUMP_IF_INT_NE", "JUMP_IF_NOT_INT_NE"),
           float_stencils=("COMPARE_OP_FLOAT_NE", "JUMP_IF_FLOAT_NE", "JUMP_IF_NOT_FLOAT_NE"),
           object_branches=("JUMP_IF_COMPARE_NE", "JUMP_IF_NOT_COMPARE_NE"))

# Identity: objects compare by address.  An unboxed operand is never None, and is True or False exactly when
# it is a bool of that value; against anything else, an unboxed number has no identity left (the lowering
# refuses it, and that signature runs in the interpreter).
SINGLETONS = (None, True, False)


def is_singleton(operand: object) -> bool:
    """Whether an operand is the constant None, True or False."""
    return type(operand) is Const and any(operand.value is value for value in SINGLETONS)


def folded_identity(negated: bool) -> Callable[[object, object], bool]:
    """Identity folds only between singletons: which object any other constant is, is run time's."""
    def fold(a: object, b: object) -> bool:
        if not any(a is s for s in SINGLETONS) or not any(b is s for s in SINGLETONS):
            raise TypeError("the identity of other constants is known at run time")
        return (a is not b) if negated else (a is b)
    return fold


IDENTITY = {"is": (ast.Is, folded_identity(False)), "is not": (ast.IsNot, folded_identity(True))}
for _symbol, (_syntax, _fold) in IDENTITY.items():
    _negated = _symbol == "is not"
    COMPARE_SYNTAX[_syntax] = _symbol
    COMPARE_SYMBOLS.add(_symbol)
    declare(MicroOp(Opcode.COMPARE_OP, _symbol, operands=f"dst = a {_symbol} b", arities=(2,),
                    result=identity, effects=PURE, syntax=_syntax, fold=_fold, stencils={
                        # objects in both slots (the generic tier: the result is True or False itself)
                        "object": "IS_NOT_OP" if _negated else "IS_OP",
                        "branch object": "JUMP_IF_IS_NOT" if _negated else "JUMP_IF_IS",
                        "branch not object": "JUMP_IF_IS" if _negated else "JUMP_IF_IS_NOT",
                        # an object against the singleton's address (the specialized tier: an unboxed bool)
                        "operand": "IS_NOT_OPERAND_INT" if _negated else "IS_OPERAND_INT",
                        "branch operand": "JUMP_IF_IS_NOT_OPERAND" if _negated else "JUMP_IF_IS_OPERAND",
                        "branch not operand": "JUMP_IF_IS_OPERAND" if _negated else "JUMP_IF_IS_NOT_OPERAND",
                    }))


def intrinsic(name: str, arities: tuple[int, ...], result: TypeRule, stencils: Mapping[str, str],
              effects: Effects = ARITHMETIC) -> MicroOp:
    return declare(MicroOp(Opcode.CALL_INTRINSIC, name, operands=f"dst = {name}(...)", arities=arities,
                           result=result, effects=effects, stencils=stencils))


# The builtins the frontend inlines, by name (the frontend keys them by the genuine objects).  int() of a
# float truncates within int64 (else deoptimizes); float() of an int converts exactly.
intrinsic("abs", (1,), absolute, {"INT": "UNARY_ABS_INT", "FLOAT": "UNARY_ABS_FLOAT", "object": "UNARY_ABS"})
intrinsic("min", (2,), same_type, {"INT": "MIN_INT", "FLOAT": "MIN_FLOAT", "object": "MIN"})
intrinsic("max", (2,), same_type, {"INT": "MAX_INT", "FLOAT": "MAX_FLOAT", "object": "MAX"})
intrinsic("int", (1,), constant(Type.INT), {"FLOAT": "FLOAT_TO_INT", "object": "CONVERT_INT"})
intrinsic("float", (1,), constant(Type.FLOAT), {"INT": "INT_TO_FLOAT", "object": "CONVERT_FLOAT"})
BUILTIN_INTRINSICS = ("abs", "min", "max", "int", "float")

# math's functions are called through the C API on boxed numbers (no libm in stencils) and their results
# unboxed, except sqrt, which has an instruction.  Results by function:
MATH_RESULTS: dict[str, Type] = {
    **dict.fromkeys(["sqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "asin",
                     "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "hypot", "pow",
                     "fabs", "fmod", "copysign", "erf", "erfc", "gamma", "lgamma", "degrees", "radians", "cbrt",
                     "remainder"], Type.FLOAT),
    **dict.fromkeys(["floor", "ceil", "trunc"], Type.INT),
    **dict.fromkeys(["isnan", "isinf", "isfinite"], Type.BOOL),
}


def math_function(name: str) -> MicroOp:
    """The declaration of ``math.<name>``, made when the frontend first meets it (the math module's
    functions differ between versions)."""
    key = (Opcode.CALL_INTRINSIC, f"math.{name}")
    if key in REGISTRY:
        return REGISTRY[key]
    stencils = {"FLOAT": "SQRT_FLOAT"} if name == "sqrt" else {}
    kind = MATH_RESULTS.get(name)
    return intrinsic(f"math.{name}", (), constant(kind) if kind else unboxable, stencils, effects=CALL)


def callable_of(op: MicroOp) -> object:
    """The Python function an intrinsic stands for (what its object form calls)."""
    assert op.arg is not None and op.arg.startswith("math.")
    return getattr(math, op.arg.removeprefix("math."))


# The ops that are not families: one declaration each.  Their stencils are chosen by the lowering's code for
# the op (named here so that the catalog is complete).
declare(MicroOp(Opcode.LOAD_CONST, None, operands="dst = constant", arities=(1,), result=same, effects=PURE,
                stencils={"INT": "COPY", "FLOAT": "COPY", "object": "COPY_OBJECT"}))
# "move": the copy of an object nobody reads after it, whose reference the destination takes over.
declare(MicroOp(Opcode.COPY, None, operands="dst = a", arities=(1,), result=same, effects=PURE,
                stencils={"INT": "COPY", "FLOAT": "COPY", "object": "COPY_OBJECT", "move": "MOVE_OBJECT"}))
declare(MicroOp(Opcode.LOAD_GLOBAL, None, operands="dst = globals()[name] or builtins[name]", arities=(0,),
                result=constant(Type.OBJECT), effects=Effects(raises=True),
                stencils={"object": "LOAD_GLOBAL", "cached": "LOAD_GLOBAL_CACHED", "hit": "LOAD_GLOBAL_HIT"}))
declare(MicroOp(Opcode.BOX, None, operands="dst = box(a)", arities=(1,), result=constant(Type.OBJECT),
                effects=FAILS, stencils={"INT": "BOX_INT", "FLOAT": "BOX_FLOAT", "BOOL": "BOX_BOOL",
                                         "object": "COPY_OBJECT"}))
declare(MicroOp(Opcode.UNBOX, None, operands="dst = unbox(a), a bet on its type", arities=(1,), result=same,
                effects=Effects(raises=True, deoptimizes=True),
                stencils={"INT": "UNBOX_INT", "FLOAT": "UNBOX_FLOAT", "BOOL": "UNBOX_BOOL", "object": "COPY_OBJECT",
                          "missed": "NOTE_TYPE"}))
declare(MicroOp(Opcode.CALL_FUNCTION, None, operands="dst = callee(*args)", arities=(), result=same,
                effects=CALL, stencils={"INT": "CALL_JIT", "object": "CALL_SLOTS"}))
declare(MicroOp(Opcode.CALL_OBJECT, None, operands="dst = callee(*args), on objects", arities=(),
                result=unboxable, effects=CALL, stencils={"object": "CALL_SLOTS"}))
declare(MicroOp(Opcode.JUMP, None, operands="goto target", arities=(0,), result=same, effects=PURE,
                stencils={"INT": "JUMP", "object": "JUMP"}, terminal=True))
for _opcode, _stencils in (
        (Opcode.POP_JUMP_IF_TRUE, {"INT": "JUMP_IF_TRUE_INT", "FLOAT": "JUMP_IF_TRUE_FLOAT", "object": "JUMP_IF_TRUE"}),
        (Opcode.POP_JUMP_IF_FALSE,
         {"INT": "JUMP_IF_FALSE_INT", "FLOAT": "JUMP_IF_FALSE_FLOAT", "object": "JUMP_IF_FALSE"})):
    declare(MicroOp(_opcode, None, operands="if a: goto target", arities=(1,), result=same,
                    effects=Effects(raises=True, runs_python=True), stencils=_stencils))
declare(MicroOp(Opcode.INDEX, None, operands="dst = operator.index(a)", arities=(1,),
                result=lambda types: Type.UNKNOWN if Type.UNKNOWN in types
                else Type.INT if types[0] in INTEGRAL else Type.OBJECT,
                effects=Effects(raises=True, runs_python=True), stencils={"INT": "COPY", "object": "CALL_1"}))
declare(MicroOp(Opcode.GET_RANGE, None, operands="check range(start, stop, step)", arities=(3,), result=same,
                effects=FAILS, stencils={"INT": "JUMP_IF_FALSE_INT", "object": "CALL_SLOTS"}))
declare(MicroOp(Opcode.FOR_ITER_RANGE, None, operands="dst = counter; counter += step; exit when done",
                arities=(3,), result=shift, effects=PURE,
                stencils={"INT": "FOR_ITER_RANGE", "ascending": "FOR_ITER_RANGE_UP",
                          "object": "FOR_ITER_RANGE_OBJECT"}))
declare(MicroOp(Opcode.CHECK_SIGNALS, None, operands="back edge: answer Ctrl-C", arities=(0,), result=same,
                effects=POLL, stencils={"count": "CHECK_SIGNALS", "poll": "POLL_SIGNALS"}))
declare(MicroOp(Opcode.RETURN_VALUE, None, operands="return a", arities=(1,), result=same, effects=PURE,
                stencils={"raw": "RETURN_RAW", "constant": "RETURN_CONST", "INT": "RETURN_INT",
                          "FLOAT": "RETURN_FLOAT", "BOOL": "RETURN_BOOL", "object": "RETURN_OBJECT"},
                terminal=True))


math_function("sqrt")  # the one with a stencil of its own: declared at import, for the catalog

# --- the object tier ---------------------------------------------------------------------------------
# Ops on objects only: in either tier, their operands are objects (the specialized tier boxes what it holds
# unboxed) and their result is an object; each stencil calls CPython's own C-API function, so results and
# exceptions are the interpreter's.  The form says how the lowering gives the stencil its operands:
OBJECT_FORMS = {
    "result": "dst, then the operands' slots",
    "effect": "the operands' slots (no result)",
    "vector": "dst, then the operands copied to consecutive slots (a borrowed array) and their count",
    "call": "dst, the callable's slot, the arguments as a vector, the positional count; the keywords' names",
    "method": "dst, the vector of self and the arguments, the positional count; the name, the keywords' names",
    "branch": "dst, the operand's slot; jumps to the op's target instead of giving a result",
    "raise": "the operands' slots; never goes on (always to the error edge)",
}
OBJECT_RESULT = constant(Type.OBJECT)
EFFECT = same  # an op without a result: its rule is never asked


def object_op(opcode: Opcode, operands: str, stencils: Mapping[str, str], *, form: str = "result",
              arities: tuple[int, ...] = (), effects: Effects = ARITHMETIC) -> MicroOp:
    assert form in OBJECT_FORMS
    return declare(MicroOp(opcode, None, operands=operands, arities=arities,
                           result=OBJECT_RESULT if form not in ("effect", "raise") else EFFECT, effects=effects,
                           stencils=stencils, form=form, terminal=form == "raise"))


# How each CPython keeps an instance's values (layouts.VALUES_*), as the variants of an attribute site's hit stencil
# name it: "hit_inline", "hit_pointer", "hit_tagged" (the lowering takes the running interpreter's).
VALUES_MODE_NAMES = {layouts.VALUES_INLINE: "inline", layouts.VALUES_POINTER: "pointer",
                     layouts.VALUES_TAGGED: "tagged"}

object_op(Opcode.LOAD_ATTR, "dst = a.name", {
    "object": "LOAD_ATTR", "cached": "LOAD_ATTR_CACHED", "hit_inline": "LOAD_ATTR_HIT_INLINE",
    "hit_pointer": "LOAD_ATTR_HIT_POINTER", "hit_tagged": "LOAD_ATTR_HIT_TAGGED"}, arities=(1,))
object_op(Opcode.STORE_ATTR, "a.name = b", {
    "object": "STORE_ATTR", "cached": "STORE_ATTR_CACHED", "hit_inline": "STORE_ATTR_HIT_INLINE",
    "hit_pointer": "STORE_ATTR_HIT_POINTER", "hit_tagged": "STORE_ATTR_HIT_TAGGED"}, form="effect", arities=(2,))
object_op(Opcode.DELETE_ATTR, "del a.name", {"object": "DELETE_ATTR"}, form="effect", arities=(1,))
# "INT index": the specialized tier's form for an index it holds as an int64 (the general one boxes it).
object_op(Opcode.BINARY_SUBSCR, "dst = a[b]", {"object": "BINARY_SUBSCR", "INT index": "BINARY_SUBSCR_INT"},
          arities=(2,))
object_op(Opcode.STORE_SUBSCR, "a[b] = c", {"object": "STORE_SUBSCR", "INT index": "STORE_SUBSCR_INT"},
          form="effect", arities=(3,))
object_op(Opcode.DELETE_SUBSCR, "del a[b]", {"object": "DELETE_SUBSCR"}, form="effect", arities=(2,))
object_op(Opcode.BUILD_SLICE, "dst = slice(a, b, c)", {"object": "BUILD_SLICE"}, arities=(3,), effects=FAILS)
object_op(Opcode.BUILD_TUPLE, "dst = (args...)", {"object": "BUILD_TUPLE"}, form="vector", effects=FAILS)
object_op(Opcode.BUILD_LIST, "dst = [args...]", {"object": "BUILD_LIST"}, form="vector", effects=FAILS)
object_op(Opcode.BUILD_SET, "dst = {args...}", {"object": "BUILD_SET"}, form="vector")  # hashes: any code
object_op(Opcode.BUILD_MAP, "dst = {args[0]: args[1], ...}", {"object": "BUILD_MAP"}, form="vector")
object_op(Opcode.BUILD_STRING, 'dst = "".join(args)', {"object": "BUILD_STRING"}, form="vector", effects=FAILS)
object_op(Opcode.LIST_APPEND, "a.append(b)", {"object": "LIST_APPEND"}, form="effect", arities=(2,),
          effects=FAILS)
object_op(Opcode.LIST_EXTEND, "a.extend(b)", {"object": "LIST_EXTEND"}, form="effect", arities=(2,))
object_op(Opcode.LIST_TO_TUPLE, "dst = tuple(a)", {"object": "LIST_TO_TUPLE"}, arities=(1,), effects=FAILS)
object_op(Opcode.SET_ADD, "a.add(b)", {"object": "SET_ADD"}, form="effect", arities=(2,))
object_op(Opcode.SET_UPDATE, "a.update(b)", {"object": "SET_UPDATE"}, form="effect", arities=(2,))
object_op(Opcode.DICT_UPDATE, "a.update(b), b a mapping", {"object": "DICT_UPDATE"}, form="effect", arities=(2,))
object_op(Opcode.CALL, "dst = a(*args[1:]), keywords last", {"object": "CALL"}, form="call", effects=CALL)
object_op(Opcode.CALL_METHOD, "dst = a.name(*args[1:])", {"object": "CALL_METHOD", "cached": "CALL_METHOD_CACHED"},
          form="method", effects=CALL)
object_op(Opcode.LOAD_METHOD, "dst = what a.name calls; a becomes NULL where that is bound",
          {"object": "LOAD_METHOD", "cached": "LOAD_METHOD_CACHED", "hit_inline": "LOAD_METHOD_HIT_INLINE",
           "hit_pointer": "LOAD_METHOD_HIT_POINTER", "hit_tagged": "LOAD_METHOD_HIT_TAGGED"}, arities=(1,))
object_op(Opcode.CALL_LOADED, "dst = a(*args[1:]), args[1] NULL for no self, keywords last", {"object": "CALL_LOADED"},
          form="call", effects=CALL)
object_op(Opcode.CALL_FUNCTION_EX, "dst = a(*b, **c)", {"object": "CALL_FUNCTION_EX",
          "keywords": "CALL_FUNCTION_EX_KW"}, arities=(2, 3), effects=CALL)
object_op(Opcode.GET_ITER, "dst = iter(a)", {"object": "GET_ITER"}, arities=(1,))
object_op(Opcode.FOR_ITER, "dst = next(a); exit when exhausted", {"object": "FOR_ITER"}, form="branch",
          arities=(1,))
object_op(Opcode.UNPACK_SEQUENCE, "dst = the items of a, as a tuple for a target list", {
    "object": "UNPACK_SEQUENCE", "exact": "UNPACK_SEQUENCE_EXACT", "slots": "UNPACK_TO_SLOTS"}, arities=(1,))
object_op(Opcode.TUPLE_ITEM, "dst = a[i], a tuple UNPACK_SEQUENCE made", {"object": "TUPLE_ITEM",
          "items": "TUPLE_ITEMS"}, arities=(1,), effects=PURE)
object_op(Opcode.CONTAINS_OP, "dst = a in b", {"object": "CONTAINS_OP"}, arities=(2,))
object_op(Opcode.FORMAT_VALUE, "dst = format(conversion(a), b)", {"object": "FORMAT_VALUE",
          "spec": "FORMAT_WITH_SPEC"}, arities=(1, 2))
object_op(Opcode.RAISE, "raise a from b", {"object": "RAISE", "cause": "RAISE_FROM", "reraise": "RAISE_HANDLED"},
          form="raise", arities=(0, 1, 2))
object_op(Opcode.GET_EXCEPTION, "dst = the exception caught", {"object": "GET_EXCEPTION"}, arities=(0,),
          effects=PURE)
object_op(Opcode.PUSH_EXC_INFO, "dst = sys.exception(); a handled", {"object": "PUSH_EXC_INFO"}, arities=(1,),
          effects=PURE)
object_op(Opcode.POP_EXCEPT, "a handled again", {"object": "POP_EXCEPT"}, form="effect", arities=(1,),
          effects=PURE)
object_op(Opcode.CHECK_EXC_MATCH, "dst = isinstance(a, b), b checked", {"object": "CHECK_EXC_MATCH"},
          arities=(2,), effects=FAILS)
object_op(Opcode.RERAISE, "raise a again, as it was", {"object": "RERAISE_EXCEPTION"}, form="raise", arities=(1,))
object_op(Opcode.DELETE_FAST, "del a", {"object": "CLEAR"}, form="effect", arities=(1,), effects=PURE)
object_op(Opcode.CHECK_BOUND, "a is bound", {"object": "CHECK_BOUND"}, form="effect", arities=(1,), effects=FAILS)
object_op(Opcode.BEFORE_WITH, "dst = (a.__exit__, a.__enter__())", {"object": "BEFORE_WITH"}, arities=(1,))
object_op(Opcode.WITH_EXCEPT_START, "dst = a(type(b), b, b.__traceback__)", {"object": "WITH_EXCEPT_START"},
          arities=(2,), effects=CALL)
object_op(Opcode.STORE_GLOBAL, "globals()[name] = a", {"object": "STORE_GLOBAL"}, form="effect", arities=(1,))
object_op(Opcode.LOAD_DEREF, "dst = the value of the cell a", {"object": "LOAD_DEREF"}, arities=(1,), effects=FAILS)
object_op(Opcode.STORE_DEREF, "the value of the cell a = b", {"object": "STORE_DEREF"}, form="effect",
          arities=(2,), effects=FAILS)
object_op(Opcode.MAKE_CELL, "dst = cell(a)", {"object": "MAKE_CELL", "initial": "MAKE_CELL_OF"}, arities=(0, 1),
          effects=FAILS)
object_op(Opcode.MAKE_FUNCTION, "dst = function(code, closure, defaults, keyword defaults)",
          {"object": "MAKE_FUNCTION"}, form="vector", arities=(4,), effects=FAILS)
object_op(Opcode.DELETE_GLOBAL, "del globals()[name]", {"object": "DELETE_GLOBAL"}, form="effect",
          arities=(0,), effects=FAILS)


def effects(opcode: Opcode, arg: str | None = None) -> Effects:
    return lookup(opcode, arg).effects


# --- the stencils that are not an op's: the frame, the tiers' crossings, calls, the dispatcher -------------
# (name, terminal: whether control never reaches the next stencil)
SUPPORT_STENCILS: dict[str, bool] = {
    "LOAD_CONST": False, "LOAD_CONST_OBJECT": False, "INCREF": False, "CLEAR": False, "SET_NULL": False,
    "SET_NULL_RANGE": False, "CLEAR_RANGE": False, "UNBOX_INT": False, "UNBOX_FLOAT": False,
    "UNBOX_BOOL": False, "GUARD_TYPE": False,
    "GUARD_NOT_NUMBER": False, "GUARD_INT_FITS_FLOAT": False, "CALL_1": False, "CALL_2": False,
    "CHECK_SIGNALS_ON_CALL": False, "POLL_SIGNALS_ON_CALL": False, "GUARD_GLOBAL": False, "GUARD_FIELD": False,
    "GUARD_BELOW": False,
    "RETURN_NULL": True, "DEOPT": True, "ENTRY": True, "FORWARD": True, "CALL_SLOWPATH": True,
    "CALL_ORIGINAL": True, "RETURN_SPECIALIZED_INT": True, "RETURN_SPECIALIZED_FLOAT": True,
    "RETURN_SPECIALIZED_BOOL": True, "RETURN_SPECIALIZED_OBJECT": True,
    "CHECK_RECURSION_COMPARE": False, "CHECK_RECURSION_COMPARE_INT": False,
    "CHECK_RECURSION_COMPARE_INT_ONE": False, "RECURSION_COMPARE_LIMIT": True,
    "ADD_TRACEBACK": True, "ADD_TRACEBACK_FRAME": False, "GUARD_NAMESPACE": False, "REFRESH_NAMESPACE": False,
    "NAMESPACE_WATCHER": True,
}


# Helpers (stencils/helpers.c): plain functions, emitted once per process, that the stencils named in each entry
# calls for its body, keeping every copy of that stencil short (name -> the stencils that call it).
HELPER_STENCILS: dict[str, str] = {
    "ENTRY_BODY": "ENTRY",
    "CLEAR_RANGE_BODY": "CLEAR_RANGE",
    "COMPARISON_TRUTH_BODY": "JUMP_IF_COMPARE_LT ... JUMP_IF_NOT_COMPARE_GE",
    "UNPACK_TO_SLOTS_BODY": "UNPACK_TO_SLOTS",
    "LOAD_ATTR_CACHED_BODY": "LOAD_ATTR_CACHED",
    "STORE_ATTR_CACHED_BODY": "STORE_ATTR_CACHED",
    "LOAD_METHOD_CACHED_BODY": "LOAD_METHOD_CACHED",
    "CALL_METHOD_CACHED_BODY": "CALL_METHOD_CACHED",
}


# The ops of the object tier (declared with a form): computed on objects in either tier.
OBJECT_TIER = frozenset(op.opcode for op in REGISTRY.values() if op.form is not None)
IDENTITY_OPS = frozenset({Opcode.COMPARE_OP, Opcode.COMPARE_AND_BRANCH})
NEVER_ON_OBJECTS = frozenset({Opcode.RETURN_VALUE, Opcode.JUMP, Opcode.CHECK_SIGNALS, Opcode.UNBOX})


def computed_on_objects(opcode: Opcode, arg: str | None, operand_types: Sequence[Type], result: Type | None) -> bool:
    """Whether the specialized tier computes an op on objects: an op of the object tier, or an operand or the
    result an object (a value the types could not unbox), but for identity (addresses compared in the
    specialized tier's own stencils).  The lowering boxes such an op's unboxed operands into spare object
    slots, which liveness reserves where this holds for some op."""
    if opcode in NEVER_ON_OBJECTS:
        return False
    if opcode in OBJECT_TIER:
        return True
    if opcode in IDENTITY_OPS and arg in IDENTITY:
        return False
    return Type.OBJECT in operand_types or result is Type.OBJECT


def op_stencils() -> set[str]:
    return {name for op in REGISTRY.values() for name in op.stencils.values()}


def all_stencils() -> frozenset[str]:
    """Every stencil the compiler may select: the build checks that each exists in all six targets."""
    return frozenset(op_stencils() | set(SUPPORT_STENCILS) | set(HELPER_STENCILS))


def terminal_stencils() -> frozenset[str]:
    """The stencils after which control never reaches the next one (they need no _JIT_CONTINUE)."""
    ops_ = {name for op in REGISTRY.values() if op.terminal for name in op.stencils.values()}
    return frozenset({name for name, terminal in SUPPORT_STENCILS.items() if terminal} | ops_ | set(HELPER_STENCILS))


def catalog_problems(tables: Mapping[str, Iterable[str]]) -> tuple[list[str], list[str]]:
    """What the stencil tables of each target (name -> its stencil names) lack of the catalog, and the
    stencils of any table that nothing selects."""
    catalog = all_stencils()
    missing = [f"{target}: no stencil {name}" for target, names in tables.items()
               for name in sorted(catalog - set(names))]
    unselected = sorted({name for names in tables.values() for name in names} - catalog)
    return missing, unselected
