"""Bets on the types of objects that arithmetic reads: which values to unbox, as what, and what a lost bet teaches.

An item of a list, an attribute, a call's result is an object: the compiler cannot know its type.  But the
values real code does arithmetic on are mostly floats and ints, and computing on them as objects allocates a
box per operation.  So where every read of such a value is arithmetic (or a comparison), the types pass
(jit/optimizer/versions.py) bets on its type: an UNBOX op right after the op that makes it, whose stencil checks
the type and unboxes, and the rest of the code computes unboxed.  A lost bet deoptimizes: the generic tier
resumes at the UNBOX, so the result is the interpreter's whatever the value was.  Before it leaves, NOTE_TYPE
writes what the value was into the bet's word and marks the specialization (the generic tier notes every value
its UNBOX ops copy), whose dispatcher then sends the next call to the driver, which compiles the signature
again betting on what was seen (`learn`), or not at all on a site that lost twice or saw several kinds.

This is type feedback from failed speculation, as in the "deoptimize and don't speculate again" of the HotSpot
and V8 compilers, without a profiling tier: the first bet is a guess from what the value meets (`x * 0.5` a
float, `n - 1` an int; a float where nothing says).
"""

from __future__ import annotations

from jit import ir, ops
from jit.ir import Opcode, Type
from jit.layouts import OBSERVED_BOOL, OBSERVED_FLOAT, OBSERVED_INT, OBSERVED_LOST

# The ops whose object result may be bet on: they read an object's contents or call something.
SITES = frozenset({Opcode.BINARY_SUBSCR, Opcode.LOAD_ATTR, Opcode.TUPLE_ITEM, Opcode.FOR_ITER, Opcode.CALL,
                   Opcode.CALL_METHOD, Opcode.CALL_LOADED, Opcode.CALL_OBJECT, Opcode.LOAD_DEREF,
                   Opcode.BINARY_OP, Opcode.UNARY_OP})
# Reads that neither call for a bet nor forbid it: a truth test has an unboxed form for every number.
NEUTRAL = frozenset({Opcode.POP_JUMP_IF_TRUE, Opcode.POP_JUMP_IF_FALSE})
OBSERVED = {OBSERVED_FLOAT: Type.FLOAT, OBSERVED_INT: Type.INT, OBSERVED_BOOL: Type.BOOL}
KIND_BITS = {kind: bit for bit, kind in OBSERVED.items()}


def guesses(function: ir.Function) -> dict[int, Type]:
    """The first bets: by the index of an op of SITES whose result only arithmetic and comparisons read, the type
    to bet on.  A value that any other op reads (a call's argument, a subscript's index, a return) is left an
    object: unboxed, it would be boxed again there, a new object where the interpreter passes the same one.
    The guess is what the other operands say (a constant, a global's value, a range's counter), UNKNOWN where
    they say nothing (`bet_on`: a float)."""
    made = hints(function)
    numeric: dict[int, Type] = {}  # by variable number: what the operands it meets say (FLOAT over INT)
    barred: set[int] = set()
    for op in function.ops:
        reader = arithmetic(op)
        for position, operand in enumerate(op.args):
            if type(operand) is not ir.Var or op.opcode in NEUTRAL:
                continue
            number = operand.slot
            other = op.args[1 - position] if reader and len(op.args) == 2 else None
            hint = ir.constant_type(other.value) if type(other) is ir.Const else \
                made.get(other.slot, Type.UNKNOWN) if type(other) is ir.Var else Type.UNKNOWN
            if not reader or hint is Type.OBJECT:  # `s + "!"`, `"%d" % n`: not a number's operation
                barred.add(number)
            elif numeric.get(number) is not Type.FLOAT:
                numeric[number] = Type.INT if hint in (Type.INT, Type.BOOL) else \
                    Type.FLOAT if hint is Type.FLOAT else numeric.get(number, Type.UNKNOWN)
    found: dict[int, Type] = {}
    for index, op in enumerate(function.ops):
        number = op.dst.slot if op.dst is not None else -1
        if op.opcode in SITES and number in numeric and number not in barred:
            found[index] = numeric[number]
    return found


def hints(function: ir.Function) -> dict[int, Type]:
    """By variable number, the type of number some op gives it for sure: a constant, a global's value when
    compiled (what LOAD_GLOBAL bets on), a range's counter."""
    found: dict[int, Type] = {}
    for op in function.ops:
        if op.dst is None or op.dst.slot in found:
            continue
        if op.opcode is Opcode.LOAD_CONST and type(op.args[0]) is ir.Const:
            kind = ir.constant_type(op.args[0].value)
        elif op.opcode is Opcode.LOAD_GLOBAL:
            kind = op.callee[2]  # type: ignore[index]
        elif op.opcode in (Opcode.FOR_ITER_RANGE, Opcode.INDEX):
            kind = Type.INT
        else:
            continue
        if kind in (Type.INT, Type.FLOAT):
            found[op.dst.slot] = kind
    return found


def arithmetic(op: ir.Op) -> bool:
    """Whether ``op`` computes on numbers where its operands are numbers: an operator, a builtin (`abs`, `min`,
    `math.sqrt`...) or a comparison with unboxed forms (not identity, which an unboxed number has lost; not
    `math.sin`, which boxes its argument again to call CPython)."""
    key = (op.opcode, op.arg)
    known = _ARITHMETIC.get(key)
    if known is None:
        if op.opcode in (Opcode.BINARY_OP, Opcode.UNARY_OP, Opcode.CALL_INTRINSIC):
            stencils = ops.lookup(op.opcode, op.arg).stencils
            known = "INT" in stencils or "FLOAT" in stencils
        else:
            known = op.opcode in (Opcode.COMPARE_OP, Opcode.COMPARE_AND_BRANCH) and op.arg not in ops.IDENTITY
        _ARITHMETIC[key] = known
    return known


_ARITHMETIC: dict[tuple[Opcode, str | None], bool] = {}  # arithmetic(), by opcode and operator


def bet_on(guess: Type) -> Type:
    """The type bet on for a guess: FLOAT where nothing said (UNKNOWN)."""
    return Type.FLOAT if guess is Type.UNKNOWN else guess


def learn(made: dict[int, Type], learned: dict[int, Type], lost_before: set[int], words: dict[int, int]) -> None:
    """Learn from the words of a specialization's bets (``made``, by site) into ``learned`` (by site, the bet to
    make from now on).  A word has a bit per kind of value seen there (the specialized tier notes the value where
    it loses the bet, with OBSERVED_LOST; the generic tier, which runs the rest of that call, notes every value
    it reaches), so one call tells about every site it reaches after the first loss.  A site that lost bets next
    on the one kind seen, unless that is what it bet (an int too big for int64), several kinds were seen or it
    lost before: then on nothing (OBJECT, the value stays an object)."""
    for site, word in words.items():
        bet = made[site]
        if not lost(bet, word):
            continue
        seen = OBSERVED.get(word & ~OBSERVED_LOST)
        learned[site] = Type.OBJECT if seen is None or seen is bet or site in lost_before else seen
        lost_before.add(site)


def lost(bet: Type, word: int) -> bool:
    """Whether a bet on ``bet`` whose word is ``word`` was lost: where the specialized tier noted a loss, or a
    value of another kind was seen."""
    return bool(word & OBSERVED_LOST) or word != KIND_BITS[bet]
