"""Type inference for one signature: every variable gets one type, the join of what is assigned to it.

This is the guard-elimination pass of the design: argument types are checked
once at entry, and from there the types of every operation follow, so the
specialized tier needs no type guards inside the body; the guards that remain
are those on values (int64 overflow, zero divisors, float results of int
operations ...), which leave through side exits into the generic tier.
A variable that can hold values of two types is OBJECT, and a function with an
OBJECT variable runs only in the generic tier.
"""

from __future__ import annotations

import collections

from jit import ir
from jit.ir import Type
from jit.optimizer import Facts

INT64 = range(-(2**63), 2**63)
INTEGRAL = (Type.BOOL, Type.INT)
NUMERIC = (Type.BOOL, Type.INT, Type.FLOAT)

# Results of math functions for number arguments; any other math function gives OBJECT (generic call).
MATH_FLOAT = frozenset([
    "sqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "asin", "acos", "atan",
    "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "hypot", "pow", "fabs", "fmod", "copysign", "erf",
    "erfc", "gamma", "lgamma", "degrees", "radians", "cbrt", "remainder",
])
MATH_INT = frozenset(["floor", "ceil", "trunc"])
MATH_BOOL = frozenset(["isnan", "isinf", "isfinite"])


def constant_type(value: object) -> Type:
    if type(value) is bool:
        return Type.BOOL
    if type(value) is int and value in INT64:
        return Type.INT
    if type(value) is float:
        return Type.FLOAT
    return Type.OBJECT


def binary_type(op: str, left: Type, right: Type) -> Type:
    if left not in NUMERIC or right not in NUMERIC:
        return Type.OBJECT
    if op == "/":
        return Type.FLOAT
    if op == "**":
        # int ** int may be a float (negative exponent) or a big int: generic.
        return Type.OBJECT if left in INTEGRAL and right in INTEGRAL else Type.FLOAT
    return Type.INT if left in INTEGRAL and right in INTEGRAL else Type.FLOAT


def intrinsic_type(name: str, args: list[Type]) -> Type:
    if any(arg not in NUMERIC for arg in args):
        return Type.OBJECT
    if name == "abs":
        return Type.INT if args[0] in INTEGRAL else Type.FLOAT
    if name in ("min", "max"):
        return args[0] if args[0] is args[1] else Type.OBJECT
    if name == "int":
        return Type.INT
    if name == "float":
        return Type.FLOAT
    short = name.removeprefix("math.")
    if short in MATH_FLOAT:
        return Type.FLOAT
    if short in MATH_INT:
        return Type.INT
    if short in MATH_BOOL:
        return Type.BOOL
    return Type.OBJECT


def result_type(op: ir.Op, operand_types: list[Type], facts: Facts) -> Type:
    opcode = op.opcode
    if opcode in (ir.Opcode.LOAD_CONST, ir.Opcode.COPY):
        return operand_types[0]
    if opcode is ir.Opcode.BINARY_OP:
        assert op.arg is not None
        return binary_type(ir.binary_operator(op.arg), *operand_types)
    if opcode is ir.Opcode.UNARY_OP:
        (operand,) = operand_types
        if operand not in NUMERIC:
            return Type.OBJECT
        if op.arg == "not":
            return Type.BOOL
        return Type.FLOAT if operand is Type.FLOAT else Type.INT
    if opcode is ir.Opcode.COMPARE_OP:
        return Type.BOOL if all(t in NUMERIC for t in operand_types) else Type.OBJECT
    if opcode is ir.Opcode.CALL_INTRINSIC:
        assert op.arg is not None
        return intrinsic_type(op.arg, operand_types)
    if opcode is ir.Opcode.CALL_FUNCTION:
        return facts.callee_return_type(op.callee, tuple(operand_types))
    if opcode is ir.Opcode.CALL_OBJECT:  # whatever it returns: the function runs in the generic tier
        return Type.OBJECT
    if opcode is ir.Opcode.INDEX:  # range()'s conversion: a bool becomes an int, a float raises
        return Type.INT if operand_types[0] in INTEGRAL else Type.OBJECT
    if opcode is ir.Opcode.FOR_ITER_RANGE:
        return Type.INT if all(t in INTEGRAL for t in operand_types) else Type.OBJECT
    raise AssertionError(f"no result type for {opcode}")


def run(function: ir.Function, facts: Facts) -> None:
    """The least fixpoint of the joins, by a worklist of ops: an op is evaluated again only when the type of
    a variable it reads changed, and a type changes at most twice (UNKNOWN, a number, OBJECT), so the work
    is linear in the ops and their operands.  The ops are first taken in order, so each op's first
    evaluation sees what a pass in program order would (which matters for calls: see CALL_FUNCTION below).
    """
    ops = function.ops
    # By variable number (Var.slot): an int indexes a list, a Var hashes through Python code.
    known = [Type.UNKNOWN] * len(function.variables)
    for param, kind in zip(function.params, facts.signature, strict=True):
        known[param.slot] = kind
    readers: list[list[int]] = [[] for _ in function.variables]
    for index, op in enumerate(ops):
        if op.dst is not None:
            for operand in op.args:  # an op reading a variable twice is listed twice: queued once all the same
                if type(operand) is ir.Var:
                    readers[operand.slot].append(index)
    pending = collections.deque(index for index, op in enumerate(ops) if op.dst is not None)
    queued = [op.dst is not None for op in ops]
    steps = 0
    while pending:
        index = pending.popleft()
        queued[index] = False
        steps += 1
        op = ops[index]
        assert op.dst is not None
        operand_types = [known[a.slot] if isinstance(a, ir.Var) else constant_type(a.value) for a in op.args]
        if Type.UNKNOWN in operand_types and op.opcode is not ir.Opcode.CALL_FUNCTION:
            continue  # not reached by any assignment yet: evaluated again when an operand gets a type
        number = op.dst.slot
        new = known[number].join(result_type(op, operand_types, facts))
        if new is not known[number]:
            known[number] = new
            for reader in readers[number]:
                if not queued[reader]:
                    queued[reader] = True
                    pending.append(reader)
    facts.type_steps = steps
    facts.kinds = known
    facts.types = dict(zip(function.variables, known, strict=True))
    returned = Type.UNKNOWN
    for op in function.ops:
        if op.opcode is ir.Opcode.RETURN_VALUE:
            returned = returned.join(kind_of(op.args[0], known))
    facts.return_type = returned
    facts.specializable, facts.generic_reason = specializable(function, known, returned)


def kind_of(operand: ir.Operand, kinds: list[Type]) -> Type:
    """The type of an operand, variables looked up by number."""
    if isinstance(operand, ir.Const):
        return constant_type(operand.value)
    return kinds[operand.slot]


def specializable(function: ir.Function, kinds: list[Type], returned: Type) -> tuple[bool, str]:
    if returned is Type.UNKNOWN:
        return False, "the function never returns a value of a known type (it only recurses or raises)"
    for op in function.ops:
        if op.opcode is ir.Opcode.INDEX and kind_of(op.args[0], kinds) is Type.FLOAT:
            return False, f"line {op.line}: range() of a float"
    if Type.OBJECT in kinds:
        var = function.variables[kinds.index(Type.OBJECT)]
        shown = "a temporary" if var.name.startswith("$") else f"variable {var.name!r}"
        return False, f"{shown} holds values of more than one type, or not a number"
    return True, ""
