"""The IR: types, printing, control flow."""

from __future__ import annotations

from jit import ir
from jit.ir import Type


def test_type_join_is_a_lattice() -> None:
    assert Type.UNKNOWN.join(Type.INT) is Type.INT
    assert Type.INT.join(Type.INT) is Type.INT
    assert Type.INT.join(Type.FLOAT) is Type.OBJECT
    assert Type.BOOL.join(Type.INT) is Type.OBJECT  # a bool stored as 0/1 would lose its repr
    assert Type.OBJECT.join(Type.UNKNOWN) is Type.OBJECT
    assert Type.FLOAT.unboxed and not Type.OBJECT.unboxed


def test_format_shows_labels_lines_and_operands() -> None:
    function = ir.Function("f", "f.py", 1, [])
    x = function.new_var("x")
    function.params.append(x)
    end = function.new_label("end")
    function.emit(ir.Op(ir.Opcode.COMPARE_AND_BRANCH, args=(x, ir.Const(0)), arg="<", target=end, line=2))
    function.emit(ir.Op(ir.Opcode.UNARY_OP, dst=x, args=(x,), arg="-", line=3))
    function.place(end)
    function.emit(ir.Op(ir.Opcode.RETURN_VALUE, args=(x,), line=4))
    text = function.format()
    assert "function f(x):" in text
    assert "COMPARE_AND_BRANCH < x, 0 -> end1" in text
    assert "x = UNARY_OP - x" in text
    assert "end1:" in text
    assert list(function.successors(0)) == [2, 1]
    assert list(function.successors(2)) == []
