"""AST -> IR: one visitor method per supported construct; everything else is refused.

Every refusal is an :class:`~jit.errors.UnsupportedError` naming the file, the
line and the construct, so that ``jit.compile(f, strict=True)`` can tell the
user exactly what to change, and the non-strict path can record why a function
runs in the interpreter.
"""

from __future__ import annotations

import ast
import math
import sys
import types
from collections.abc import Callable
from typing import cast

from jit import _isolation, arguments, ir, ops
from jit.errors import UnsupportedError
from jit.frontend.source import FunctionSource, first_node, parse_definition, read_source

# The frontend's spelling of each operator comes from its declaration (jit/ops.py).
BINARY_OPERATORS: dict[type[ast.AST], str] = ops.BINARY_SYNTAX
UNARY_OPERATORS: dict[type[ast.AST], str] = ops.UNARY_SYNTAX
COMPARISONS: dict[type[ast.AST], str] = ops.COMPARE_SYNTAX
# Builtins compiled as intrinsics, with the numbers of arguments the lowering compiles inline.  Keyed by the
# genuine objects: a call of whatever a name is bound to when the function is compiled is inlined only if it is
# the builtin itself (one rebound before `import jit` is an ordinary call, jit/_isolation.py).  A call with
# another number of arguments is an ordinary call of the builtin (Builder.expr_Call).
BUILTIN_INTRINSICS: dict[object, tuple[str, tuple[int, ...]]] = {
    value: (name, ops.lookup(ir.Opcode.CALL_INTRINSIC, name).arities)
    for name in ops.BUILTIN_INTRINSICS if (value := _isolation.genuine(name)) is not None
}
RANGE = _isolation.genuine("range")  # None (never matched) if rebound before import
CONSTANT_TYPES = (bool, int, float, type(None))
# The numbers of arguments a math intrinsic is compiled for: the lowering calls it with one or two.
MATH_INTRINSIC_COUNTS = (1, 2)


def accepted_counts(function: object) -> range | None:
    """The numbers of positional arguments a C function accepts, read from its ``__text_signature__``; None
    where it has none (3.11's math.log and math.hypot: ``log(x, [base=math.e])`` is no Python signature).

    The text is a parameter list in Python syntax, but for a first parameter ``$module`` (or ``$self``...)
    that is bound already: without its ``$`` it parses, as one more positional-only parameter, not counted.
    An unbounded range means ``*args``; an empty one, a required keyword-only parameter (no positional call
    is complete).
    """
    text = getattr(function, "__text_signature__", None)
    if not isinstance(text, str):
        return None
    bound = int(text.startswith("($"))
    text = text.replace("$", "", bound)
    try:
        module = cast(ast.Module, compile(f"def f{text}: pass", "<signature>", "exec", ast.PyCF_ONLY_AST))
    except SyntaxError:
        return None
    definition = module.body[0]
    assert isinstance(definition, ast.FunctionDef)
    parameters = definition.args
    if any(default is None for default in parameters.kw_defaults):
        return range(0)
    positional = len(parameters.posonlyargs) + len(parameters.args) - bound
    most = sys.maxsize if parameters.vararg is not None else positional
    return range(positional - len(parameters.defaults), most + 1)


def math_intrinsics() -> dict[object, tuple[str, tuple[int, ...]]]:
    """Every function of the math module, called through the C API (sqrt also unboxed), for the numbers of
    arguments it accepts.  Where its signature is unknown, the intrinsic's call of the function itself checks
    them at run time (only sqrt is compiled without calling it, and its signature is known everywhere)."""
    table: dict[object, tuple[str, tuple[int, ...]]] = {}
    for name in dir(math):
        value = getattr(math, name)
        if isinstance(value, types.BuiltinFunctionType):
            accepted = accepted_counts(value)
            counts = tuple(n for n in MATH_INTRINSIC_COUNTS if accepted is None or n in accepted)
            table[value] = (ops.math_function(name).arg, counts)  # type: ignore[assignment]
    return table


INTRINSICS = {**BUILTIN_INTRINSICS, **math_intrinsics()}


def build_ir(func: Callable[..., object], read_globals: frozenset[str] = frozenset()) -> ir.Function:
    """The IR of ``func``; raises UnsupportedError for what it cannot compile.  The globals named in
    ``read_globals`` (ones that keep being rebound) are read when the code runs, not folded."""
    if not isinstance(func, types.FunctionType):
        raise TypeError(f"build_ir() takes a Python function, not {type(func).__name__!r}")
    kind = "generator" if arguments.is_generator(func) else "coroutine" if arguments.is_coroutine(func) else ""
    if kind:
        code = func.__code__
        raise UnsupportedError(f"{func.__qualname__} is a {kind} function: generators, coroutines and async "
                               "generators run in the interpreter", code.co_filename, suspension_line(func),
                               "frontend")
    return Builder(read_source(func), read_globals).build()


def suspension_line(func: types.FunctionType) -> int:
    """The line of the first yield or await of a generator or coroutine (its def's line if none is found)."""
    code = func.__code__
    _, module = parse_definition(func)
    if module is None or not module.body or not isinstance(module.body[0], ast.FunctionDef | ast.AsyncFunctionDef):
        return code.co_firstlineno
    node = first_node(module.body[0], lambda n: isinstance(n, ast.Yield | ast.YieldFrom | ast.Await))
    return node.lineno + code.co_firstlineno - 1 if node is not module.body[0] else code.co_firstlineno


class Builder:
    def __init__(self, source: FunctionSource, read_globals: frozenset[str] = frozenset()) -> None:
        self.source = source
        self.read_globals = read_globals
        node = source.node
        self.function = ir.Function(node.name, source.filename, source.line(node), [])
        # The code is the code object's, its defaults are the function's now: guarded like globals.
        self.function.guards.extend(ir.metadata_guards(source.func))
        self.locals: dict[str, ir.Var] = {}
        self.loops: list[tuple[ir.Label, ir.Label]] = []  # (continue target, break target)
        self.line = source.line(node)
        self.line_offset = source.line_offset  # a node's line is node.lineno + this (FunctionSource.line)

    # --- helpers -----------------------------------------------------------------

    def unsupported(self, what: str, node: ast.AST) -> Exception:
        return self.source.unsupported(what, node)

    def emit(self, opcode: ir.Opcode, **fields: object) -> ir.Op:
        return self.function.emit(ir.Op(opcode, line=self.line, **fields))  # type: ignore[arg-type]

    def temp(self) -> ir.Var:
        return self.function.new_var(f"$t{len(self.function.variables)}")

    def local(self, name: str) -> ir.Var:
        if name not in self.locals:
            self.locals[name] = self.function.new_var(name)
        return self.locals[name]

    # --- the function ------------------------------------------------------------

    def build(self) -> ir.Function:
        node = self.source.node
        arguments = node.args
        if arguments.vararg or arguments.kwarg:
            raise self.unsupported("'*args' and '**kwargs' parameters are not supported", node)
        if arguments.kwonlyargs:
            raise self.unsupported("keyword-only parameters are not supported", node)
        for arg in [*arguments.posonlyargs, *arguments.args]:
            self.function.params.append(self.local(arg.arg))
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        self.statements(body)
        ops = self.function.ops
        falls_off_the_end = not ops or ops[-1].opcode is not ir.Opcode.RETURN_VALUE
        if falls_off_the_end or len(ops) in self.function.labels.values():
            self.emit(ir.Opcode.RETURN_VALUE, args=(ir.Const(None),))  # type: ignore[arg-type]
        return self.function

    # --- statements --------------------------------------------------------------

    def statements(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        """Build one statement; the ops it emits carry its line."""
        method = STATEMENTS.get(type(node))
        if method is None:
            raise self.unsupported(f"'{describe(node)}' is not supported", node)
        saved, self.line = self.line, node.lineno + self.line_offset
        method(self, node)
        self.line = saved  # not restored when it raises: the error has its own line, the build stops

    def stmt_Pass(self, node: ast.Pass) -> None:
        pass

    def stmt_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant):
            return  # a bare string or number does nothing
        self.expression(node.value)

    def stmt_Return(self, node: ast.Return) -> None:
        value = self.expression(node.value) if node.value is not None else ir.Const(None)  # type: ignore[arg-type]
        self.emit(ir.Opcode.RETURN_VALUE, args=(value,))

    def stmt_Assign(self, node: ast.Assign) -> None:
        if len(node.targets) != 1:
            raise self.unsupported("chained assignment 'a = b = ...' is not supported", node)
        target = node.targets[0]
        if isinstance(target, ast.Tuple):
            if not isinstance(node.value, ast.Tuple) or len(node.value.elts) != len(target.elts):
                raise self.unsupported("tuple assignment needs a tuple of the same length on the right", node)
            # All right-hand values first, as Python does, then the stores, in order.  A value that is a
            # variable needs a copy only if an earlier store of this statement overwrites that variable.
            values = [self.expression(value_node) for value_node in node.value.elts]
            names = [element.id if isinstance(element, ast.Name) else "" for element in target.elts]
            values = [
                self.materialize(value) if isinstance(value, ir.Var) and value.name in names[:position] else value
                for position, value in enumerate(values)
            ]
            for element, value in zip(target.elts, values, strict=True):
                self.assign(element, value)
            return
        self.assign(target, self.expression(node.value))

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        # The annotation is not evaluated for a local and changes nothing at run time.
        if node.value is not None:
            self.assign(node.target, self.expression(node.value))

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        if not isinstance(node.target, ast.Name):
            raise self.unsupported("augmented assignment to anything but a local name is not supported", node)
        current = self.name(node.target)
        value = self.binary(node.op, current, node.value, node, augmented=True)
        self.assign(node.target, value)

    def assign(self, target: ast.expr, value: ir.Operand) -> None:
        if isinstance(target, ast.Starred) or not isinstance(target, ast.Name):
            raise self.unsupported(f"assignment to {describe(target)} is not supported", target)
        dst = self.local(target.id)
        if isinstance(value, ir.Const):
            self.emit(ir.Opcode.LOAD_CONST, dst=dst, args=(value,))
        else:
            # Even `x = x`: it reads x, which raises UnboundLocalError if x has no value yet.
            self.emit(ir.Opcode.COPY, dst=dst, args=(value,))

    def materialize(self, value: ir.Operand) -> ir.Operand:
        """A copy of ``value`` that later stores cannot change (for tuple assignment)."""
        if isinstance(value, ir.Var) and not value.name.startswith("$"):
            copy = self.temp()
            self.emit(ir.Opcode.COPY, dst=copy, args=(value,))
            return copy
        return value

    def stmt_If(self, node: ast.If) -> None:
        orelse = self.function.new_label("else")
        end = self.function.new_label("endif")
        self.condition(node.test, orelse, jump_if=False)
        self.statements(node.body)
        if node.orelse:
            self.emit(ir.Opcode.JUMP, target=end)
        self.function.place(orelse)
        self.statements(node.orelse)
        self.function.place(end)

    def stmt_While(self, node: ast.While) -> None:
        head = self.function.new_label("while")
        orelse = self.function.new_label("while_else")
        end = self.function.new_label("while_end")
        self.function.place(head)
        self.condition(node.test, orelse, jump_if=False)
        self.loop_body(node.body, head, end)
        self.function.place(orelse)
        self.statements(node.orelse)
        self.function.place(end)

    def stmt_For(self, node: ast.For) -> None:
        iterator = node.iter
        if not (isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Name)
                and iterator.func.id not in self.source.local_names
                and RANGE is not None and self.global_value(iterator.func) is RANGE):
            raise self.unsupported("'for' over anything but range() is not supported", node)
        if iterator.keywords or not 1 <= len(iterator.args) <= 3:
            raise self.unsupported("range() takes 1 to 3 positional arguments here", node)
        if not isinstance(node.target, ast.Name):
            raise self.unsupported(f"'for' target {describe(node.target)} is not supported", node)
        # The arguments are evaluated once, in order; then, as range() does, each bound becomes an exact int
        # (__index__; its TypeError), in order, and a zero step raises.  The loop runs on those ints only:
        # its variable is an exact int whatever the bounds were (a bool, an int subclass, a NumPy integer).
        values = [self.materialize(self.expression(argument)) for argument in iterator.args]
        start, stop, step = (
            (ir.Const(0), values[0], ir.Const(1)) if len(values) == 1
            else (values[0], values[1], values[2] if len(values) == 3 else ir.Const(1))
        )
        counter, limit, stride = self.temp(), self.temp(), self.temp()
        for var, value in ((counter, start), (limit, stop), (stride, step)):
            if isinstance(value, ir.Const) and type(value.value) in (int, bool):
                self.emit(ir.Opcode.LOAD_CONST, dst=var, args=(ir.Const(int(value.value)),))  # type: ignore[arg-type]
            else:
                self.emit(ir.Opcode.INDEX, dst=var, args=(value,))
        self.emit(ir.Opcode.GET_RANGE, args=(counter, limit, stride))
        head = self.function.new_label("for")
        orelse = self.function.new_label("for_else")
        end = self.function.new_label("for_end")
        self.function.place(head)
        self.emit(ir.Opcode.FOR_ITER_RANGE, dst=self.local(node.target.id), args=(counter, limit, stride),
                  target=orelse)
        self.loop_body(node.body, head, end)
        self.function.place(orelse)
        self.statements(node.orelse)
        self.function.place(end)

    def loop_body(self, body: list[ast.stmt], head: ir.Label, end: ir.Label) -> None:
        back_edge = self.function.new_label("continue")
        self.loops.append((back_edge, end))
        self.statements(body)
        self.loops.pop()
        self.function.place(back_edge)
        self.emit(ir.Opcode.CHECK_SIGNALS)
        self.emit(ir.Opcode.JUMP, target=head)

    def stmt_Break(self, node: ast.Break) -> None:
        self.emit(ir.Opcode.JUMP, target=self.loops[-1][1])

    def stmt_Continue(self, node: ast.Continue) -> None:
        self.emit(ir.Opcode.JUMP, target=self.loops[-1][0])

    # --- conditions --------------------------------------------------------------

    def condition(self, node: ast.expr, target: ir.Label, jump_if: bool) -> None:
        """Jump to ``target`` when the truth of ``node`` is ``jump_if``; else fall through."""
        saved, self.line = self.line, node.lineno + self.line_offset
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self.condition(node.operand, target, not jump_if)
        elif isinstance(node, ast.BoolOp):
            # 'a and b' jumps on false as soon as one is false, and on true only when the last is.
            short_circuit_value = isinstance(node.op, ast.Or)
            if jump_if == short_circuit_value:
                for value in node.values:
                    self.condition(value, target, jump_if)
            else:
                skip = self.function.new_label("bool")
                for value in node.values[:-1]:
                    self.condition(value, skip, short_circuit_value)
                self.condition(node.values[-1], target, jump_if)
                self.function.place(skip)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right, symbol = self.compared(node.ops[0], self.expression(node.left),
                                                self.expression(node.comparators[0]), node)
            self.emit(ir.Opcode.COMPARE_AND_BRANCH, args=(left, right), arg=symbol, target=target, jump_if=jump_if)
        else:
            truth = self.expression(node)
            opcode = ir.Opcode.POP_JUMP_IF_TRUE if jump_if else ir.Opcode.POP_JUMP_IF_FALSE
            self.emit(opcode, args=(truth,), target=target)
        self.line = saved

    def compared(self, op: ast.cmpop, left: ir.Operand, right: ir.Operand,
                 node: ast.AST) -> tuple[ir.Operand, ir.Operand, str]:
        """The operands and operator of a comparison.  ``is`` and ``is not`` only against None, True or False
        (either side; the singleton goes right), where the answer does not depend on which object a number
        happens to be."""
        if type(op) not in COMPARISONS:
            raise self.unsupported(f"comparison '{describe(op)}' is not supported", node)
        symbol = COMPARISONS[type(op)]
        if symbol in ops.IDENTITY:
            if is_singleton(left) and not is_singleton(right):
                left, right = right, left
            if not is_singleton(right):
                raise self.unsupported(f"'{symbol}' is supported only against None, True or False", node)
        return left, right, symbol

    # --- expressions -------------------------------------------------------------

    def expression(self, node: ast.expr) -> ir.Operand:
        """Build an expression; the ops it emits carry its line."""
        method = EXPRESSIONS.get(type(node))
        if method is None:
            raise self.unsupported(f"'{describe(node)}' is not supported", node)
        saved, self.line = self.line, node.lineno + self.line_offset
        value = method(self, node)
        self.line = saved
        return value

    def expr_Constant(self, node: ast.Constant) -> ir.Operand:
        value = node.value
        if not isinstance(value, CONSTANT_TYPES):
            raise self.unsupported(f"constant {value!r} of type {type(value).__name__} is not supported", node)
        return ir.Const(value)

    def expr_Name(self, node: ast.Name) -> ir.Operand:
        if node.id in self.source.local_names:
            return self.name(node)
        if node.id in self.read_globals:
            # Rebound again and again: read when the code runs (an object), without a guard to recompile on.
            # The specialized tier bets on the type of its value now (and leaves if the bet fails).
            namespace, builtin_namespace = self.source.func.__globals__, self.builtin_namespace()
            current = namespace.get(node.id, builtin_namespace.get(node.id))
            dst = self.temp()
            self.emit(ir.Opcode.LOAD_GLOBAL, dst=dst, arg=node.id,
                      callee=(namespace, builtin_namespace, ir.constant_type(current)))
            return dst
        value = self.global_value(node)
        if type(value) in CONSTANT_TYPES:
            return ir.Const(value)  # type: ignore[arg-type]
        raise self.unsupported(f"global {node.id!r} of type {type(value).__name__} is not supported as a value",
                               node)

    def name(self, node: ast.Name) -> ir.Var:
        if node.id not in self.source.local_names:
            raise self.unsupported(f"assignment to global {node.id!r} is not supported", node)
        return self.local(node.id)

    def builtin_namespace(self) -> dict[str, object]:
        builtin_namespace = self.source.func.__builtins__  # type: ignore[attr-defined]
        return builtin_namespace if isinstance(builtin_namespace, dict) else vars(builtin_namespace)

    def global_value(self, node: ast.Name) -> object:
        """The value a global name has now; the compiled code is guarded against its rebinding."""
        namespace = self.source.func.__globals__
        if node.id in namespace:
            value = namespace[node.id]
            self.function.guards.append(ir.GlobalGuard(namespace, node.id, value))
            return value
        builtin_namespace = self.builtin_namespace()
        if node.id in builtin_namespace:
            value = builtin_namespace[node.id]
            self.function.guards.append(ir.GlobalGuard(namespace, node.id, ir.MISSING))
            self.function.guards.append(ir.GlobalGuard(builtin_namespace, node.id, value))
            return value
        raise self.unsupported(f"name {node.id!r} is not defined", node)

    def expr_BinOp(self, node: ast.BinOp) -> ir.Operand:
        return self.binary(node.op, self.expression(node.left), node.right, node)

    def binary(self, op: ast.operator, left: ir.Operand, right_node: ast.expr, node: ast.AST,
               augmented: bool = False) -> ir.Var:
        """``left op right``; augmented (``x op= y``) is its own operator, "+=", as in CPython's BINARY_OP."""
        if type(op) not in BINARY_OPERATORS:
            raise self.unsupported(f"operator '{describe(op)}' is not supported", node)
        right = self.expression(right_node)
        dst = self.temp()
        operator = BINARY_OPERATORS[type(op)] + ("=" if augmented else "")
        self.emit(ir.Opcode.BINARY_OP, dst=dst, args=(left, right), arg=operator)
        return dst

    def expr_UnaryOp(self, node: ast.UnaryOp) -> ir.Operand:
        if type(node.op) not in UNARY_OPERATORS:
            raise self.unsupported(f"unary operator '{describe(node.op)}' is not supported", node)
        operand = self.expression(node.operand)
        dst = self.temp()
        self.emit(ir.Opcode.UNARY_OP, dst=dst, args=(operand,), arg=UNARY_OPERATORS[type(node.op)])
        return dst

    def expr_Compare(self, node: ast.Compare) -> ir.Operand:
        if len(node.ops) == 1:
            left, right, symbol = self.compared(node.ops[0], self.expression(node.left),
                                                self.expression(node.comparators[0]), node)
            dst = self.temp()
            self.emit(ir.Opcode.COMPARE_OP, dst=dst, args=(left, right), arg=symbol)
            return dst
        # a < b < c: each middle operand evaluated once; the value of the first false comparison, else the last.
        dst = self.temp()
        end = self.function.new_label("chain_end")
        left = self.expression(node.left)
        for index, (op, comparator) in enumerate(zip(node.ops, node.comparators, strict=True)):
            right = self.materialize(self.expression(comparator))
            first, second, symbol = self.compared(op, left, right, node)
            self.emit(ir.Opcode.COMPARE_OP, dst=dst, args=(first, second), arg=symbol)
            if index < len(node.ops) - 1:
                self.emit(ir.Opcode.POP_JUMP_IF_FALSE, args=(dst,), target=end)
            left = right
        self.function.place(end)
        return dst

    def expr_BoolOp(self, node: ast.BoolOp) -> ir.Operand:
        # 'a or b' is a if a is true else b; 'a and b' is a if a is false else b.
        dst = self.temp()
        end = self.function.new_label("boolop_end")
        opcode = ir.Opcode.POP_JUMP_IF_TRUE if isinstance(node.op, ast.Or) else ir.Opcode.POP_JUMP_IF_FALSE
        for index, value_node in enumerate(node.values):
            self.store(dst, self.expression(value_node))
            if index < len(node.values) - 1:
                self.emit(opcode, args=(dst,), target=end)
        self.function.place(end)
        return dst

    def expr_IfExp(self, node: ast.IfExp) -> ir.Operand:
        dst = self.temp()
        orelse = self.function.new_label("ifexp_else")
        end = self.function.new_label("ifexp_end")
        self.condition(node.test, orelse, jump_if=False)
        self.store(dst, self.expression(node.body))
        self.emit(ir.Opcode.JUMP, target=end)
        self.function.place(orelse)
        self.store(dst, self.expression(node.orelse))
        self.function.place(end)
        return dst

    def store(self, dst: ir.Var, value: ir.Operand) -> None:
        opcode = ir.Opcode.LOAD_CONST if isinstance(value, ir.Const) else ir.Opcode.COPY
        self.emit(opcode, dst=dst, args=(value,))

    def expr_Call(self, node: ast.Call) -> ir.Operand:
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.unsupported("calls with keyword or starred arguments are not supported", node)
        callee = self.callee(node.func)
        args = tuple(self.materialize(self.expression(argument)) for argument in node.args)
        dst = self.temp()
        if callee in INTRINSICS:
            name, counts = INTRINSICS[callee]
            if len(args) in counts:
                self.emit(ir.Opcode.CALL_INTRINSIC, dst=dst, args=args, arg=name)
            else:
                # Not a call the intrinsic compiles (math.sqrt(a, b), min(a)): the function itself decides,
                # and raises the interpreter's TypeError if it does not take that many arguments.
                self.emit(ir.Opcode.CALL_OBJECT, dst=dst, args=args, callee=callee)
            return dst
        target = getattr(callee, "__jit_original__", callee)
        if isinstance(target, types.FunctionType):
            self.emit(ir.Opcode.CALL_FUNCTION, dst=dst, args=args, callee=target)
            return dst
        raise self.unsupported(f"calling {describe_value(callee)} is not supported", node)

    def callee(self, node: ast.expr) -> object:
        if isinstance(node, ast.Name) and node.id not in self.source.local_names:
            return self.global_value(node)
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id not in self.source.local_names):
            module = self.global_value(node.value)
            if isinstance(module, types.ModuleType) and hasattr(module, node.attr):
                value = getattr(module, node.attr)
                self.function.guards.append(ir.GlobalGuard(vars(module), node.attr, value))
                return value
        raise self.unsupported(f"calling {describe(node)} is not supported", node)

    def expr_Attribute(self, node: ast.Attribute) -> ir.Operand:
        # Module constants such as math.pi.
        if isinstance(node.value, ast.Name) and node.value.id not in self.source.local_names:
            module = self.global_value(node.value)
            if isinstance(module, types.ModuleType):
                value = getattr(module, node.attr, None)
                if type(value) in CONSTANT_TYPES:
                    self.function.guards.append(ir.GlobalGuard(vars(module), node.attr, value))
                    return ir.Const(value)  # type: ignore[arg-type]
        raise self.unsupported(f"attribute access {describe(node)} is not supported", node)


def is_singleton(operand: ir.Operand) -> bool:
    return type(operand) is ir.Const and any(operand.value is value for value in ops.SINGLETONS)


def describe(node: ast.AST) -> str:
    """How a construct reads in an error message: its source when short, else its kind."""
    names = {
        ast.Yield: "yield", ast.YieldFrom: "yield from", ast.Await: "await", ast.Lambda: "lambda",
        ast.ListComp: "list comprehension", ast.With: "with", ast.Try: "try", ast.Raise: "raise",
        ast.FunctionDef: "def", ast.ClassDef: "class", ast.Import: "import", ast.ImportFrom: "from ... import",
        ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Delete: "del", ast.Assert: "assert",
        ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
        ast.MatMult: "@", ast.Invert: "~", ast.UAdd: "+", ast.Is: "is", ast.IsNot: "is not",
        ast.In: "in", ast.NotIn: "not in",
    }
    if type(node) in names:
        return names[type(node)]
    if isinstance(node, ast.expr):
        text = ast.unparse(node)
        return text if len(text) <= 40 else type(node).__name__
    return type(node).__name__


def describe_value(value: object) -> str:
    name = getattr(value, "__qualname__", None) or type(value).__name__
    return f"{name!r} ({type(value).__name__})"


# Dispatch by node type, one dict lookup per node: the builder's methods for the constructs it compiles
# (``stmt_Assign`` builds ``ast.Assign``).  Anything else is refused.
STATEMENTS: dict[type, Callable[[Builder, ast.stmt], None]] = {
    getattr(ast, name.removeprefix("stmt_")): method for name, method in vars(Builder).items()
    if name.startswith("stmt_")
}
EXPRESSIONS: dict[type, Callable[[Builder, ast.expr], ir.Operand]] = {
    getattr(ast, name.removeprefix("expr_")): method for name, method in vars(Builder).items()
    if name.startswith("expr_")
}
