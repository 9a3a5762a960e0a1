"""The lowering (jit/backend/lowering.py): which stencils each op becomes in each tier, for one signature.

Functions are taken through the frontend and the passes as the driver does (each signature on its own copy of
the IR), lowered with a context of stand-in addresses, and the instructions are checked by stencil name and tier;
nothing is emitted or run here.
"""

from __future__ import annotations

from collections.abc import Callable

from jit import ir, ops
from jit.backend import lowering
from jit.backend.emitter import Instruction
from jit.compiler import holes_of  # the host's tables
from jit.frontend import build_ir
from jit.ir import Type
from jit.layouts import DEOPT_BORROWED, DEOPT_ENTRY, DEOPT_HEADER, DEOPT_KEEP
from jit.optimizer import Facts, function_passes, optimize, signature_passes


def lower(func: Callable[..., object], *signature: Type,
          count_recursion: bool = False) -> tuple[lowering.Lowered, Facts, list[object]]:
    base = build_ir(func)
    optimize(base, Facts(()), function_passes())
    function = base.copy()
    facts = Facts(signature)
    optimize(function, facts, signature_passes())
    keep: list[object] = []
    context = lowering.Context(frame_stack=0x7E0000001000, call_countdown=0x7E0000002000, holes_of=holes_of,
                               keep_alive=keep, deopt_counter=0x7E0000003000,
                               comparisons_count_recursion=count_recursion)
    return lowering.lower(function, facts, context), facts, keep


def stencils(lowered: lowering.Lowered, tier: str) -> list[str]:
    return [i.stencil for i, t in zip(lowered.instructions, lowered.tiers, strict=True) if t == tier]


def add(a: int, b: int) -> int:
    c = a + b
    c += b
    return c


def count(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def count_by(n: int, step: int) -> int:
    total = 0
    for i in range(0, n, step):
        total += i
    return total


def test_an_op_becomes_its_declared_stencil_per_tier() -> None:
    lowered, _, _ = lower(add, Type.INT, Type.INT)
    assert stencils(lowered, "specialized").count("BINARY_OP_ADD_INT") == 2
    generic = stencils(lowered, "generic")
    assert "BINARY_OP_ADD" in generic and "BINARY_OP_INPLACE_ADD" in generic  # += has its own C-API function
    lowered, _, _ = lower(add, Type.FLOAT, Type.INT)
    assert "INT_TO_FLOAT" in stencils(lowered, "specialized")
    assert "BINARY_OP_ADD_FLOAT" in stencils(lowered, "specialized")


def test_every_stencil_lowered_is_in_the_registrys_catalog() -> None:
    catalog = ops.all_stencils()
    for func, signature in ((add, (Type.INT, Type.INT)), (count, (Type.INT,)), (mixed_types, (Type.INT,)),
                            (identities, (Type.BOOL, Type.INT)), (on_objects, (Type.INT,))):
        lowered, _, _ = lower(func, *signature)
        assert {i.stencil for i in lowered.instructions} <= catalog, func.__name__


def test_a_range_of_one_argument_counts_upward() -> None:
    # range(n)'s step is the constant 1 once constants propagate: the loop needs no test of its sign.
    assert "FOR_ITER_RANGE_UP" in stencils(lower(count, Type.INT)[0], "specialized")
    with_step = stencils(lower(count_by, Type.INT, Type.INT)[0], "specialized")
    assert "FOR_ITER_RANGE" in with_step and "FOR_ITER_RANGE_UP" not in with_step


def mixed_types(n: int) -> float:
    s = 0
    for i in range(n):
        s += i * 0.5
    return s


def test_a_variable_of_two_types_is_unboxed_in_both() -> None:
    lowered, facts, _ = lower(mixed_types, Type.INT)
    assert facts.specializable
    specialized = stencils(lowered, "specialized")
    assert "BINARY_OP_ADD_FLOAT" in specialized and "BOX_FLOAT" not in specialized
    assert "RETURN_INT" in specialized and "RETURN_FLOAT" in specialized  # each path returns its own


def on_objects(n: int) -> int:
    big = 2**70  # no int64 holds it: an object
    return big + n


def test_values_the_types_cannot_unbox_are_objects_in_the_same_code() -> None:
    lowered, facts, _ = lower(on_objects, Type.INT)
    assert facts.specializable
    liveness = facts.liveness
    assert liveness is not None and liveness.objects > 0
    specialized = [(i, t) for i, t in zip(lowered.instructions, lowered.tiers, strict=True) if t == "specialized"]
    names = [i.stencil for i, _ in specialized]
    # The object slots are NULL on entry, the int operand is boxed, the op is the generic tier's own stencil.
    first_object = liveness.first_object
    assert Instruction("SET_NULL_RANGE", (first_object, liveness.objects)) in [i for i, _ in specialized]
    assert names.index("BOX_INT") < names.index("BINARY_OP_ADD")
    # Its exception gets the function's traceback entry for its line, then goes to the unwinding exit, which
    # releases the object slots before returning NULL.
    add_op = next(i for i, _ in specialized if i.stencil == "BINARY_OP_ADD")
    assert add_op.error is not None
    entry = lowered.instructions[add_op.error]
    assert entry.stencil == "ADD_TRACEBACK" and entry.opargs == (on_objects.__code__.co_firstlineno + 2,)
    assert entry.jump_target is not None
    unwind = lowered.instructions[entry.jump_target]
    assert unwind == Instruction("CLEAR_RANGE", (first_object, liveness.objects))
    assert lowered.instructions[entry.jump_target + 1].stencil == "RETURN_NULL"
    # The returned object moves out of its slot first, then the slots are released.
    returned = names.index("RETURN_OBJECT")
    assert names[returned - 3 : returned + 1] == ["COPY", "SET_NULL", "CLEAR_RANGE", "RETURN_OBJECT"]


def deopts_with_an_object_live(n: int) -> int:
    big = 2**70
    total = n * n  # may overflow: deoptimizes while big is live
    return total + big


def test_deoptimization_keeps_the_object_slots() -> None:
    _, facts, keep = lower(deopts_with_an_object_live, Type.INT)
    liveness = facts.liveness
    assert liveness is not None
    tables = [bytes(item) for item in keep if isinstance(item, bytes | bytearray) or hasattr(item, "_type_")]
    variable_tables = [t for t in tables if len(t) == DEOPT_HEADER.size + DEOPT_ENTRY.size * liveness.variable_slots]
    assert variable_tables, "a table per exit over the variable slots"
    for table in variable_tables:
        for slot in range(liveness.first_object, liveness.first_object + liveness.objects):
            _, kind, _ = DEOPT_ENTRY.unpack_from(table, DEOPT_HEADER.size + DEOPT_ENTRY.size * slot)
            assert kind == DEOPT_KEEP  # NULL or a reference the generic tier then owns


def identities(flag: bool, n: int) -> int:
    a = flag is True
    b = n is None
    c = flag is not False
    return a + b + c


def test_identity_with_a_singleton_in_the_specialized_tier() -> None:
    lowered, _, _ = lower(identities, Type.BOOL, Type.INT)
    specialized = stencils(lowered, "specialized")
    # A bool is True or False itself: equality of 0/1.  An int is never None: a constant.
    assert "COMPARE_OP_INT_EQ" in specialized and "COMPARE_OP_INT_NE" in specialized
    assert "IS_OPERAND_INT" not in specialized
    assert "IS_OP" in stencils(lowered, "generic") and "IS_NOT_OP" in stencils(lowered, "generic")


def optional(n: int) -> int:
    best = None
    if n > 0:
        best = n
    if best is None:
        return 0
    return 1


def test_identity_of_an_object_compares_addresses() -> None:
    lowered, _, _ = lower(optional, Type.INT)
    specialized = stencils(lowered, "specialized")
    assert any(name in specialized for name in ("JUMP_IF_IS_OPERAND", "JUMP_IF_IS_NOT_OPERAND"))


def recursive(n: int) -> int:
    if n < 2:
        return n
    return n


def test_comparisons_check_the_recursion_limit_only_where_the_interpreter_does() -> None:
    checked = lower(recursive, Type.INT, count_recursion=True)[0]
    names = [i.stencil for i in checked.instructions]
    assert "CHECK_RECURSION_COMPARE_INT_ONE" in names  # n < 2: only n may not be a compact int
    assert names.index("RECURSION_COMPARE_LIMIT") > names.index("RETURN_NULL")  # out of line, after the tiers
    unchecked = lower(recursive, Type.INT, count_recursion=False)[0]
    assert not {"CHECK_RECURSION_COMPARE_INT_ONE", "RECURSION_COMPARE_LIMIT"} & {
        i.stencil for i in unchecked.instructions}
    floats = lower(recursive, Type.FLOAT, count_recursion=True)[0]
    assert "CHECK_RECURSION_COMPARE" in {i.stencil for i in floats.instructions}  # float and int: mixed


def test_an_ops_error_edge_decides_where_its_exception_goes() -> None:
    # No handler yet (the frontend gives none): every raising op goes to the unwinding exit.  An op given a
    # handler's label instead (what `try` will do) has its error target there, in each tier.
    base = build_ir(on_objects)
    optimize(base, Facts(()), function_passes())
    function = base.copy()
    facts = Facts((Type.INT,))
    optimize(function, facts, signature_passes())
    raising = [op for op in function.ops if ops.lookup(op.opcode, op.arg).effects.raises]
    assert raising and all(function.error_edge(op) is ir.UNWIND for op in raising)
    add_op = next(op for op in function.ops if op.opcode is ir.Opcode.BINARY_OP and op.arg == "+")
    handler = function.new_label("handler")
    returns = next(index for index, op in enumerate(function.ops) if op.opcode is ir.Opcode.RETURN_VALUE)
    function.labels[handler] = returns
    add_op.handler = handler
    assert function.error_edge(add_op) is handler
    context = lowering.Context(frame_stack=0x7E0000001000, call_countdown=0x7E0000002000, holes_of=holes_of,
                               deopt_counter=0x7E0000003000)
    lowering_ = lowering.Lowering(function, facts, context)
    lowered = lowering_.lower()
    for tier in ("specialized", "generic"):
        add = next(i for i, (instruction, t) in enumerate(zip(lowered.instructions, lowered.tiers, strict=True))
                   if t == tier and instruction.stencil == "BINARY_OP_ADD")
        entry = lowered.instructions[lowered.instructions[add].error]  # the traceback entry, then the handler
        assert entry.stencil == "ADD_TRACEBACK", tier
        assert entry.jump_target == lowering_.asm.labels[tier, returns], tier  # the return op's code


def borrows(holder: object, other: object) -> object:
    return holder.value  # type: ignore[attr-defined]


def assigns(holder: object, other: object) -> object:
    holder = other
    return holder


def test_a_parameter_never_assigned_is_borrowed_for_the_call() -> None:
    # The caller holds its arguments for the call, as the interpreter's frame does: the specialized tier takes
    # no reference to a parameter it never assigns (no INCREF at entry, no CLEAR at exit), and a deoptimization
    # gives the generic tier one of its own (DEOPT_BORROWED); an assigned parameter is owned from entry on.
    lowered, _, _ = lower(borrows, Type.OBJECT, Type.OBJECT)
    specialized = [i.stencil for i, tier in zip(lowered.instructions, lowered.tiers, strict=True)
                   if tier == "specialized"]
    assert "INCREF" not in specialized
    assert not [i for i, tier in zip(lowered.instructions, lowered.tiers, strict=True)
                if tier == "specialized" and i.stencil == "CLEAR" and i.opargs[0] in (0, 1)]
    lowered, _, _ = lower(assigns, Type.OBJECT, Type.OBJECT)
    increfs = [i.opargs[0] for i, tier in zip(lowered.instructions, lowered.tiers, strict=True)
               if tier == "specialized" and i.stencil == "INCREF"]
    assert increfs == [0]  # holder is assigned; other is not


def test_deoptimization_takes_a_reference_to_a_borrowed_parameter() -> None:
    _, facts, keep = lower(deopts_with_an_object_parameter, Type.OBJECT, Type.INT)
    liveness = facts.liveness
    assert liveness is not None
    tables = [bytes(item) for item in keep if isinstance(item, bytes | bytearray) or hasattr(item, "_type_")]
    variable_tables = [t for t in tables if len(t) == DEOPT_HEADER.size + DEOPT_ENTRY.size * liveness.variable_slots]
    assert variable_tables
    for table in variable_tables:
        _, kind, _ = DEOPT_ENTRY.unpack_from(table, DEOPT_HEADER.size)  # slot 0: the parameter
        assert kind == DEOPT_BORROWED


def deopts_with_an_object_parameter(holder: object, n: int) -> object:
    total = n * n
    return (holder, total)


def reads_and_writes_at_a_counter(items: list[object], n: int) -> None:
    for i in range(n):
        items[i] = items[i - 1]


def test_an_unboxed_index_is_boxed_only_off_the_inline_path() -> None:
    # list[i] and list[i] = v of an int64 i: one stencil each, inline; the general path (which boxes i) is out
    # of line, after the function's hot code, so the loop makes no int object for an exact list.
    lowered, _, _ = lower(reads_and_writes_at_a_counter, Type.OBJECT, Type.INT)
    specialized = stencils(lowered, "specialized")
    body = specialized[specialized.index("BINARY_SUBSCR_INT"):]
    assert body.index("STORE_SUBSCR_INT") < body.index("BOX_INT")
    assert "BOX_INT" not in body[:body.index("STORE_SUBSCR_INT")]
    general = [i for i in lowered.instructions if i.stencil in ("BINARY_SUBSCR", "STORE_SUBSCR")]
    assert len(general) == 4  # the specialized tier's general paths, and the generic tier's own


def passes_on(items: list[object]) -> object:
    first, last = items.pop(), items.pop()
    items.append(first)
    return last


def test_temporaries_are_released_where_nobody_reads_them_again() -> None:
    # The popped values move from their temporaries into the locals (no count, no release); the unread result
    # of append is released right after the call, as the interpreter's POP_TOP does.
    lowered, _, _ = lower(passes_on, Type.OBJECT)
    for tier in ("specialized", "generic"):
        code = stencils(lowered, tier)
        assert "MOVE_OBJECT" in code and "COPY_OBJECT" not in code[:code.index("MOVE_OBJECT")]
        calls = [position for position, name in enumerate(code) if name.startswith("CALL_METHOD")]
        assert len(calls) == 3 and code[calls[2] + 1] == "CLEAR", code
