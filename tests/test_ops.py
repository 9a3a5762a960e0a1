"""The registry of micro-ops (jit/ops.py): one declaration per op, everything else derived from it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from jit import ops
from jit.frontend import builder
from jit.ir import Opcode, Type


def test_the_frontends_operator_maps_are_the_registrys() -> None:
    assert builder.BINARY_OPERATORS is ops.BINARY_SYNTAX
    assert builder.COMPARISONS is ops.COMPARE_SYNTAX
    assert builder.UNARY_OPERATORS is ops.UNARY_SYNTAX
    for syntax, symbol in ops.BINARY_SYNTAX.items():
        assert ops.lookup(Opcode.BINARY_OP, symbol).syntax is syntax
    assert ops.BINARY_SYNTAX[ast.BitAnd] == "&" and ops.UNARY_SYNTAX[ast.Invert] == "~"


def test_augmented_and_branch_forms_share_their_declaration() -> None:
    assert ops.lookup(Opcode.BINARY_OP, "<<=") is ops.lookup(Opcode.BINARY_OP, "<<")
    assert ops.lookup(Opcode.COMPARE_AND_BRANCH, "<") is ops.lookup(Opcode.COMPARE_OP, "<")


@pytest.mark.parametrize("symbol", ["+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>"])
def test_type_rules_of_binary_operators(symbol: str) -> None:
    rule = ops.lookup(Opcode.BINARY_OP, symbol).result
    assert rule((Type.INT, Type.UNKNOWN)) is Type.UNKNOWN  # not reached yet
    assert rule((Type.OBJECT, Type.INT)) is Type.OBJECT  # computed on objects
    assert rule((Type.INT, Type.BOOL)) is Type.INT


def test_bitwise_type_rules_follow_python() -> None:
    rule = ops.lookup(Opcode.BINARY_OP, "&").result
    assert rule((Type.BOOL, Type.BOOL)) is Type.BOOL  # True & True is True
    assert rule((Type.FLOAT, Type.INT)) is Type.OBJECT  # a TypeError, raised on objects
    assert ops.lookup(Opcode.BINARY_OP, "<<").result((Type.BOOL, Type.BOOL)) is Type.INT  # True << True is 2
    invert = ops.lookup(Opcode.UNARY_OP, "~").result
    assert invert((Type.INT,)) is Type.INT and invert((Type.BOOL,)) is Type.OBJECT  # ~True warns (3.12+)


def test_folding_rules_are_pythons_own_and_refuse_what_must_run() -> None:
    assert ops.lookup(Opcode.BINARY_OP, "&").fold(6, 3) == 2  # type: ignore[misc]
    with pytest.raises(OverflowError):
        ops.lookup(Opcode.BINARY_OP, "<<").fold(1, 10**6)  # type: ignore[misc]
    with pytest.raises(TypeError):
        ops.lookup(Opcode.UNARY_OP, "~").fold(True)  # type: ignore[misc]


def test_effects_can_be_queried_per_op() -> None:
    assert ops.effects(Opcode.BINARY_OP, "+").raises
    assert ops.effects(Opcode.CALL_FUNCTION).escapes and ops.effects(Opcode.CALL_FUNCTION).runs_python
    assert not ops.effects(Opcode.COPY).raises
    assert not ops.effects(Opcode.COMPARE_OP, "is").raises


def test_every_stencil_name_of_the_registry_is_written_out_in_its_source() -> None:
    # Greppable: no name is assembled from parts (the build checks that each exists in all six targets).
    source = Path(ops.__file__).read_text()
    for name in ops.all_stencils():
        assert f'"{name}"' in source, name


def test_terminal_stencils_are_declared() -> None:
    assert {"JUMP", "RETURN_OBJECT", "RETURN_RAW", "DEOPT", "ENTRY"} <= ops.terminal_stencils()
    assert "BINARY_OP_ADD" not in ops.terminal_stencils()
