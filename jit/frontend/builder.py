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
from collections.abc import Callable, Iterable
from typing import cast

from jit import _isolation, arguments, ir, ops
from jit.errors import UnsupportedError
from jit.frontend.source import FunctionSource, first_node, parse_definition, read_source, walk

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
SUPER = _isolation.genuine("super")
GLOBALS = _isolation.genuine("globals")  # globals() in a compiled function: the function's own namespace
# The functions that read their caller's frame (its locals, or the frame itself), by id, with the most
# arguments with which they still do: vars(x), dir(x), exec(code, namespace) do not.
FRAME_READERS = {id(f): most for name, most in (("locals", 0), ("vars", 0), ("dir", 0), ("exec", 1), ("eval", 1),
                                                ("breakpoint", sys.maxsize))
                 if (f := _isolation.genuine(name)) is not None}
FRAME_READERS[id(sys._getframe)] = sys.maxsize  # noqa: SLF001


def reads_the_frame(callee: object, arguments: int) -> bool:
    """Whether a call of ``callee`` with that many arguments reads the frame of its caller (inspect's frame
    functions too, when inspect is imported)."""
    most = FRAME_READERS.get(id(callee))
    if most is not None:
        return arguments <= most
    inspect = sys.modules.get("inspect")
    return inspect is not None and (callee is getattr(inspect, "currentframe", None)
                                    or callee is getattr(inspect, "stack", None))
MISSING = ir.MISSING  # a callee the compiler does not know before the code runs
# CPython's compiler builds a display of more items than this (its STACK_USE_GUIDELINE) item by item, each stored
# once evaluated (compile.c): where an item cannot be stored (a key or set item that cannot be hashed) shows it.
BIG_DISPLAY = 30
CONVERSIONS = {-1: None, ord("s"): "s", ord("r"): "r", ord("a"): "a"}  # an f-string's !s !r !a
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
        self.seen_globals: set[str] = set()  # the names global_now recorded
        self.scopes: list[dict[str, ir.Var]] = []  # the comprehensions being built, innermost last
        self.comprehension_cells: set[ir.Var] = set()  # their variables a nested lambda or genexpr reads
        # Before 3.12 a comprehension is a function of its own whose one argument is the iterator of its first
        # ``for``: what a zero-argument super() inside it takes as its object.  Innermost last.
        self.comprehension_arguments: list[ir.Var] = []
        # Per local (by number), where each read not yet taken by an op was made: the op taking it records the
        # place (Op.loaded), innermost first, as the operands of nested expressions are taken.
        self.pending_reads: dict[int, list[int]] = {}
        self.writes: dict[int, int] = {}  # per variable (by number), how many ops write it (assign_computed)
        self.frames: tuple[tuple[str, int], ...] = ()  # Op.frames of the ops being built
        self.own_cells: dict[str, ir.Var] = {}  # the cells of the locals nested functions read (see build)
        # (continue target, break target, len(self.exits) at the loop)
        self.loops: list[tuple[ir.Label, ir.Label, int]] = []
        self.handler: ir.Label | None = ir.UNWIND  # where the exceptions of the ops being built go
        # What leaving each enclosing try, handler or with needs (see leave()): ("finally", its body, the
        # handler outside it), ("handled", the exception handled before, the `as` name or None), ("with",
        # its __exit__, the handler outside it).
        self.exits: list[tuple[str, object, object]] = []
        self.line = source.line(node)
        self.line_offset = source.line_offset  # a node's line is node.lineno + this (FunctionSource.line)
        # The locals an assignment expression stores: the only ones a later operand of the same expression can
        # change (see kept()).
        self.walrus_targets = {n.target.id for n in walk(node) if isinstance(n, ast.NamedExpr)}

    # --- helpers -----------------------------------------------------------------

    def unsupported(self, what: str, node: ast.AST) -> Exception:
        return self.source.unsupported(what, node)

    def emit(self, opcode: ir.Opcode, **fields: object) -> ir.Op:
        if "handler" not in fields and self.handler is not None and ops.effects(opcode, fields.get("arg")).raises:  # type: ignore[arg-type]
            fields["handler"] = self.handler  # inside a try: its exception goes to the handler
        fields["enclosing"] = fields.get("handler", self.handler)
        args: tuple[ir.Operand, ...] = fields.get("args", ())  # type: ignore[assignment]
        if self.pending_reads and any(type(a) is ir.Var and a.slot in self.pending_reads for a in args):
            fields["loaded"] = tuple(self.read_place(a) for a in args)
        fields.setdefault("line", self.line)
        if self.frames:
            fields["frames"] = self.frames
        dst = fields.get("dst")
        if dst is not None:
            self.writes[dst.slot] = self.writes.get(dst.slot, 0) + 1  # type: ignore[attr-defined]
        return self.function.emit(ir.Op(opcode, **fields))  # type: ignore[arg-type]

    def read_place(self, operand: ir.Operand) -> int:
        if type(operand) is not ir.Var:
            return -1
        reads = self.pending_reads.get(operand.slot)
        if not reads:
            return -1
        place = reads.pop()
        if not reads:
            del self.pending_reads[operand.slot]
        return place

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
        # In the order of the code's variables: positional, keyword-only, then the tuple of `*args` and the
        # dict of `**kwargs` (ENTRY binds a call to them; jit/arguments.py's bind does the same in Python).
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                    *(extra for extra in (arguments.vararg, arguments.kwarg) if extra is not None)]:
            self.function.params.append(self.local(arg.arg))
        # The locals a nested def or lambda reads live in cells, made at entry (a parameter's holding it).
        for name in sorted(self.source.captured):
            cell = self.function.new_var(f"{name}@cell")
            initial = (self.locals[name],) if name in self.locals else ()
            self.emit(ir.Opcode.MAKE_CELL, dst=cell, args=initial)
            self.own_cells[name] = cell
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
        value = self.expression(node.value)
        if isinstance(node.value, ast.Name):
            self.materialize(value)  # a bare name is still read: UnboundLocalError or NameError

    def stmt_Return(self, node: ast.Return) -> None:
        value = self.expression(node.value) if node.value is not None else ir.Const(None)
        if self.exits:
            # The value first, then what leaving the try statements needs (a finally may change the locals).
            value = self.materialize(value)
            self.leave(0)
        self.emit(ir.Opcode.RETURN_VALUE, args=(value,))

    def stmt_Assign(self, node: ast.Assign) -> None:
        target = node.targets[0]
        if (len(node.targets) == 1 and isinstance(target, ast.Tuple | ast.List) and isinstance(node.value, ast.Tuple)
                and len(node.value.elts) == len(target.elts)
                and not any(isinstance(e, ast.Starred) for e in [*target.elts, *node.value.elts])):
            # `a, b = b, a + b` makes no tuple: all right-hand values first, as Python does, then the stores,
            # in the interpreter's order (stores_swapped).  A value that is a variable needs a copy only if an
            # earlier store of this statement overwrites that variable.
            stores = list(zip(target.elts, self.operands(node.value.elts), strict=True))
            if self.stores_swapped(target.elts):
                stores.reverse()
            names = [element.id if isinstance(element, ast.Name) else "" for element, _ in stores]
            stores = [
                (element, self.materialize(value) if isinstance(value, ir.Var) and value.name in names[:position]
                 else value) for position, (element, value) in enumerate(stores)
            ]
            for element, value in stores:
                self.assign(element, value)
            return
        value = self.expression(node.value)
        if len(node.targets) > 1:
            value = self.materialize(value)  # `a = b = v`: the stores, left to right, of the one value
        elif self.assign_computed(target, value):
            return
        for each in node.targets:
            self.assign(each, value)

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        # The annotation of a local is not evaluated (that of an attribute or a subscript target is, but
        # only for its side effects, which the frontend does not reproduce: refused).
        if not isinstance(node.target, ast.Name):
            raise self.unsupported("an annotated assignment to an attribute or a subscript is not supported", node)
        if node.value is not None:
            value = self.expression(node.value)
            if not self.assign_computed(node.target, value):
                self.assign(node.target, value)

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(target, ast.Name):
            current = self.kept(self.load_name(target.id, target), [node.value])
            value = self.binary(node.op, current, node.value, node, augmented=True)
            if not self.assign_computed(target, value):
                self.assign(target, value)
        elif isinstance(target, ast.Attribute):
            owner = self.kept(self.expression(target.value), [node.value])
            current = self.temp()
            line = self.attribute_line(target)
            self.emit(ir.Opcode.LOAD_ATTR, dst=current, args=(owner,), arg=target.attr, line=line)
            value = self.binary(node.op, current, node.value, node, augmented=True)
            self.emit(ir.Opcode.STORE_ATTR, args=(owner, value), arg=target.attr, line=line)
        elif isinstance(target, ast.Subscript):
            owner = self.kept(self.expression(target.value), [target.slice, node.value])
            key = self.kept(self.subscript(target.slice), [node.value])
            current = self.temp()
            self.emit(ir.Opcode.BINARY_SUBSCR, dst=current, args=(owner, key))
            value = self.binary(node.op, current, node.value, node, augmented=True)
            self.emit(ir.Opcode.STORE_SUBSCR, args=(owner, key, value))
        else:
            raise self.unsupported(f"augmented assignment to {describe(target)} is not supported", node)

    def stores_swapped(self, targets: list[ast.expr]) -> bool:
        """Whether the interpreter stores ``a, b = x, y`` (or ``a, b, c = x, y, z``) last target first, which
        decides the order in which the values the targets held are released (``__del__`` runs in it).  CPython's
        compiler makes the tuple a SWAP and then exchanges the stores instead (apply_static_swaps), where they
        are all stores of distinct fast locals on one line; attributes, subscripts, globals and cells keep
        their order."""
        if len(targets) not in (2, 3) or not all(isinstance(t, ast.Name) for t in targets):
            return False
        names = [t.id for t in targets]  # type: ignore[attr-defined]
        return (len(set(names)) == len(names) and len({t.lineno for t in targets}) == 1
                and all(n not in self.source.global_names and self.cell_of(n) is None for n in names))

    def assign_computed(self, target: ast.expr, value: ir.Operand) -> bool:
        """``x = <expression>`` into a plain local: the op that computed the value into a temporary, the one op
        that writes it, writes ``x`` instead, and no copy follows.  Besides a stencil less, the value is not
        kept alive by the temporary after ``x`` lets it go (a ``del x`` or a rebinding releases it then, as in
        the interpreter).  False where the ordinary store is needed."""
        ops_ = self.function.ops
        if (not isinstance(target, ast.Name) or type(value) is not ir.Var or not ops_ or ops_[-1].dst is not value
                or self.writes.get(value.slot) != 1 or not value.name.startswith("$")
                or target.id in self.source.global_names or self.cell_of(target.id) is not None):
            return False
        local = self.name(target)  # the local's own checks, as a store makes them
        ops_[-1].dst = local
        self.writes[local.slot] = self.writes.get(local.slot, 0) + 1
        return True

    def assign(self, target: ast.expr, value: ir.Operand) -> None:
        """Store ``value`` into an assignment target, evaluating the target's own parts now (after the
        value, as Python does)."""
        if isinstance(target, ast.Name):
            if target.id in self.source.global_names:
                self.emit(ir.Opcode.STORE_GLOBAL, args=(value,), arg=target.id, callee=self.namespaces())
                return
            cell = self.cell_of(target.id)
            if cell is not None:  # a captured local, or a `nonlocal`
                self.emit(ir.Opcode.STORE_DEREF, args=(cell, value), arg=target.id)
                return
            self.store(self.name(target), value)  # even `x = x`: it reads x (UnboundLocalError if unbound)
        elif isinstance(target, ast.Attribute):
            owner = self.expression(target.value)
            self.emit(ir.Opcode.STORE_ATTR, args=(owner, value), arg=target.attr, line=self.attribute_line(target))
        elif isinstance(target, ast.Subscript):
            owner = self.kept(self.expression(target.value), [target.slice])
            key = self.subscript(target.slice)
            self.emit(ir.Opcode.STORE_SUBSCR, args=(owner, key, value))
        elif isinstance(target, ast.Tuple | ast.List):
            self.unpack(target.elts, value, target)
        else:
            raise self.unsupported(f"assignment to {describe(target)} is not supported", target)

    def unpack(self, targets: list[ast.expr], value: ir.Operand, node: ast.AST) -> None:
        """``a, *b, c = value`` for any iterable: its items as a tuple of exactly the targets' number (the
        starred one a list), or the interpreter's ValueError or TypeError; then each stored in order."""
        starred = [index for index, element in enumerate(targets) if isinstance(element, ast.Starred)]
        if len(starred) > 1:
            raise self.unsupported("multiple starred expressions in assignment", node)
        before = starred[0] if starred else len(targets)
        after = len(targets) - before - 1 if starred else -1
        items = self.temp()
        self.emit(ir.Opcode.UNPACK_SEQUENCE, dst=items, args=(value,), callee=(before, after))
        for index, element in enumerate(targets):
            target = element.value if isinstance(element, ast.Starred) else element
            local = self.resolve(target.id) if isinstance(target, ast.Name) else None
            last = index == len(targets) - 1  # the tuple's last read: released there, as the interpreter's stack
            if local is not None and target.id not in self.source.global_names:  # type: ignore[attr-defined]
                # straight into it
                self.emit(ir.Opcode.TUPLE_ITEM, dst=local, args=(items,), arg=str(index), callee=last)
                continue
            item = self.temp()
            self.emit(ir.Opcode.TUPLE_ITEM, dst=item, args=(items,), arg=str(index), callee=last)
            self.assign(target, item)

    def kept(self, value: ir.Operand, later: Iterable[ast.AST]) -> ir.Operand:
        """``value``, read before the expressions ``later`` are evaluated: a copy if one of them stores the
        local it is (``x + (x := 5)`` adds the old x, as the interpreter does), else itself."""
        if not isinstance(value, ir.Var) or value.name not in self.walrus_targets:
            return value
        for node in later:
            if any(isinstance(n, ast.NamedExpr) and n.target.id == value.name for n in walk(node)):
                return self.materialize(value)
        return value

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
        if (isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Name) and not iterator.keywords
                and 1 <= len(iterator.args) <= 3 and not any(isinstance(a, ast.Starred) for a in iterator.args)
                and RANGE is not None and self.folded_global(iterator.func.id, iterator.func) is RANGE
                and isinstance(node.target, ast.Name) and self.resolve(node.target.id) is not None):
            self.for_range(node, iterator)
            return
        # Any iterable: iter() once, next() per iteration (an exhausted iterator leaves for the else).
        items = self.temp()
        self.emit(ir.Opcode.GET_ITER, dst=items, args=(self.expression(iterator),))
        head = self.function.new_label("for")
        orelse = self.function.new_label("for_else")
        end = self.function.new_label("for_end")
        self.function.place(head)
        simple = isinstance(node.target, ast.Name) and self.resolve(node.target.id) is not None
        item = self.name(node.target) if simple else self.temp()  # type: ignore[arg-type]
        self.emit(ir.Opcode.FOR_ITER, dst=item, args=(items,), target=orelse)
        if not simple:
            self.assign(node.target, item)
        self.loop_body(node.body, head, end)
        self.function.place(orelse)
        self.statements(node.orelse)
        self.function.place(end)

    def for_range(self, node: ast.For, iterator: ast.Call) -> None:
        """``for i in range(...)``: a counted loop on exact ints, no range object."""
        assert isinstance(node.target, ast.Name)
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
                self.emit(ir.Opcode.LOAD_CONST, dst=var, args=(ir.Const(int(value.value)),))
            else:
                self.emit(ir.Opcode.INDEX, dst=var, args=(value,))
        self.emit(ir.Opcode.GET_RANGE, args=(counter, limit, stride))
        head = self.function.new_label("for")
        orelse = self.function.new_label("for_else")
        end = self.function.new_label("for_end")
        self.function.place(head)
        self.emit(ir.Opcode.FOR_ITER_RANGE, dst=self.name(node.target), args=(counter, limit, stride),
                  target=orelse)
        self.loop_body(node.body, head, end)
        self.function.place(orelse)
        self.statements(node.orelse)
        self.function.place(end)

    def loop_body(self, body: list[ast.stmt], head: ir.Label, end: ir.Label) -> None:
        back_edge = self.function.new_label("continue")
        self.loops.append((back_edge, end, len(self.exits)))
        self.statements(body)
        self.loops.pop()
        self.function.place(back_edge)
        self.emit(ir.Opcode.CHECK_SIGNALS)
        self.emit(ir.Opcode.JUMP, target=head)

    def stmt_Break(self, node: ast.Break) -> None:
        _, end, depth = self.loops[-1]
        self.leave(depth)
        self.emit(ir.Opcode.JUMP, target=end)

    def stmt_Continue(self, node: ast.Continue) -> None:
        back_edge, _, depth = self.loops[-1]
        self.leave(depth)
        self.emit(ir.Opcode.JUMP, target=back_edge)

    def stmt_Raise(self, node: ast.Raise) -> None:
        if node.exc is None:
            self.emit(ir.Opcode.RAISE)  # re-raise what is being handled (RuntimeError if nothing is)
            return
        exception = self.expression(node.exc)
        if node.cause is None:
            self.emit(ir.Opcode.RAISE, args=(exception,))
        else:
            self.emit(ir.Opcode.RAISE, args=(self.materialize(exception), self.expression(node.cause)))

    def stmt_Assert(self, node: ast.Assert) -> None:
        if sys.flags.optimize:
            return  # the interpreter compiled the function without its asserts too (-O)
        holds = self.function.new_label("assert_holds")
        self.condition(node.test, holds, jump_if=True)
        # AssertionError itself, not whatever the name is bound to (as the interpreter's LOAD_ASSERTION_ERROR).
        error: ir.Operand = ir.Const(AssertionError)
        if node.msg is not None:
            made = self.temp()
            self.emit(ir.Opcode.CALL, dst=made, args=(error, self.expression(node.msg)))
            error = made
        # Raised on the line of the statement; from 3.13 on the line of its test, as the interpreter reports it.
        line = self.line if sys.version_info < (3, 13) else node.test.lineno + self.line_offset
        self.emit(ir.Opcode.RAISE, args=(error,), line=line)
        self.function.place(holds)

    def stmt_Global(self, node: ast.Global) -> None:
        pass  # the names are the symbol table's (FunctionSource.global_names): stored and read as globals

    def stmt_Nonlocal(self, node: ast.Nonlocal) -> None:
        pass  # the names are free variables (FunctionSource.cells): read and stored in their cells

    def stmt_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                owner = self.expression(target.value)
                self.emit(ir.Opcode.DELETE_ATTR, args=(owner,), arg=target.attr, line=self.attribute_line(target))
            elif isinstance(target, ast.Subscript):
                owner = self.materialize(self.expression(target.value))
                self.emit(ir.Opcode.DELETE_SUBSCR, args=(owner, self.subscript(target.slice)))
            elif isinstance(target, ast.Name) and target.id in self.source.global_names:
                self.emit(ir.Opcode.DELETE_GLOBAL, arg=target.id, callee=self.namespaces())
            elif isinstance(target, ast.Name) and self.resolve(target.id) is not None:
                self.unbind(self.name(target))
            else:
                raise self.unsupported(f"'del {describe(target)}' is not supported", target)

    # --- handlers: try, with -------------------------------------------------------------
    # An op that may raise inside a try gets the handler's label as its error edge (self.handler).  A return,
    # break or continue that leaves a try, a handler or a with runs what leaving it needs first (self.exits:
    # a finally body again, a handled exception restored, a with's __exit__), innermost first, as CPython's
    # compiler emits them.

    def stmt_Try(self, node: ast.Try) -> None:
        if node.finalbody:
            self.try_finally(node)
        else:
            self.try_except(node)

    def try_finally(self, node: ast.Try) -> None:
        error = self.function.new_label("finally_error")
        after = self.function.new_label("finally_end")
        outer = self.handler
        self.exits.append(("finally", node.finalbody, outer))
        self.handler = error
        if node.handlers:
            self.try_except(node)
        else:
            self.statements(node.body)
        self.handler = outer
        self.exits.pop()
        self.statements(node.finalbody)  # leaving normally
        self.emit(ir.Opcode.JUMP, target=after)
        # Leaving with an exception: the finally body runs with it as the handled exception, then it goes on.
        self.function.place(error)
        exception, previous, cleanup = self.enter_handler()
        self.exits.append(("handled", previous, None))
        self.statements(node.finalbody)
        self.exits.pop()
        self.handler = outer
        self.emit(ir.Opcode.POP_EXCEPT, args=(previous,))
        self.emit(ir.Opcode.RERAISE, args=(exception,), handler=outer)
        self.leave_handler(cleanup, previous, outer)
        self.function.place(after)

    def try_except(self, node: ast.Try) -> None:
        dispatch = self.function.new_label("except")
        after = self.function.new_label("try_end")
        outer = self.handler
        self.handler = dispatch
        self.statements(node.body)
        self.handler = outer
        self.statements(node.orelse)  # the else: outside the handlers' protection
        self.emit(ir.Opcode.JUMP, target=after)
        self.function.place(dispatch)
        exception, previous, cleanup = self.enter_handler()
        named_cleanups = []
        for handler in node.handlers:
            skip = self.function.new_label("except_next")
            if handler.type is not None:
                matches = self.built(ir.Opcode.CHECK_EXC_MATCH, (exception, self.expression(handler.type)))
                self.emit(ir.Opcode.POP_JUMP_IF_FALSE, args=(matches,), target=skip)
            name = None
            if handler.name is not None:
                name = self.resolve(handler.name)
                if name is None:
                    raise self.unsupported(f"'except ... as {handler.name}' of a global name is not supported",
                                           handler)
                self.store(name, exception)
                self.handler = self.function.new_label("except_named_cleanup")
                named_cleanups.append((self.handler, name))
            self.exits.append(("handled", previous, name))
            self.statements(handler.body)
            self.exits.pop()
            self.handler = cleanup
            self.emit(ir.Opcode.POP_EXCEPT, args=(previous,))
            if name is not None:
                self.unbind(name)  # `except E as e` deletes e at its end, as the interpreter does
            self.emit(ir.Opcode.JUMP, target=after)
            self.function.place(skip)
        self.emit(ir.Opcode.RERAISE, args=(exception,), handler=cleanup)  # no handler matched
        for label, name in named_cleanups:
            self.function.place(label)
            pending = self.built(ir.Opcode.GET_EXCEPTION, ())
            self.unbind(name)
            self.emit(ir.Opcode.RERAISE, args=(pending,), handler=cleanup)
        self.leave_handler(cleanup, previous, outer)
        self.function.place(after)

    def enter_handler(self) -> tuple[ir.Var, ir.Var, ir.Label]:
        """At a handler's label: the exception caught, the one handled before it (restored when the handler
        is left), and the label the handler's own exceptions go to (self.handler from here on)."""
        exception = self.built(ir.Opcode.GET_EXCEPTION, ())
        previous = self.built(ir.Opcode.PUSH_EXC_INFO, (exception,))
        self.handler = self.function.new_label("handler_cleanup")
        return exception, previous, self.handler

    def leave_handler(self, cleanup: ir.Label, previous: ir.Var, outer: ir.Label | None) -> None:
        """A handler's own exception: the handled exception restored, then on to the outer handler."""
        self.handler = outer
        self.function.place(cleanup)
        pending = self.built(ir.Opcode.GET_EXCEPTION, ())
        self.emit(ir.Opcode.POP_EXCEPT, args=(previous,))
        self.emit(ir.Opcode.RERAISE, args=(pending,), handler=outer)

    def unbind(self, name: ir.Var) -> None:
        self.emit(ir.Opcode.DELETE_FAST, args=(name,))

    def stmt_With(self, node: ast.With) -> None:
        self.with_items(node.items, node.body)

    def with_items(self, items: list[ast.withitem], body: list[ast.stmt]) -> None:
        """``with a as x, b: body`` is ``with a as x: with b: body``."""
        item, rest = items[0], items[1:]
        pair = self.built(ir.Opcode.BEFORE_WITH, (self.expression(item.context_expr),))
        exit_method = self.built(ir.Opcode.BINARY_SUBSCR, (pair, ir.Const(0)))
        entered = self.built(ir.Opcode.BINARY_SUBSCR, (pair, ir.Const(1)))
        error = self.function.new_label("with_error")
        after = self.function.new_label("with_end")
        outer = self.handler
        self.handler = error
        if item.optional_vars is not None:
            self.assign(item.optional_vars, entered)
        self.exits.append(("with", exit_method, outer))
        if rest:
            self.with_items(rest, body)
        else:
            self.statements(body)
        self.exits.pop()
        self.handler = outer
        self.exit_with(exit_method)
        self.emit(ir.Opcode.JUMP, target=after)
        # An exception: __exit__(type, value, traceback), with it handled; a true result swallows it.
        self.function.place(error)
        exception, previous, cleanup = self.enter_handler()
        result = self.built(ir.Opcode.WITH_EXCEPT_START, (exit_method, exception))
        swallowed = self.function.new_label("with_swallowed")
        self.emit(ir.Opcode.POP_JUMP_IF_TRUE, args=(result,), target=swallowed)
        self.handler = outer
        self.emit(ir.Opcode.POP_EXCEPT, args=(previous,))
        self.emit(ir.Opcode.RERAISE, args=(exception,), handler=outer)
        self.function.place(swallowed)
        self.emit(ir.Opcode.POP_EXCEPT, args=(previous,))
        self.emit(ir.Opcode.JUMP, target=after)
        self.leave_handler(cleanup, previous, outer)
        self.function.place(after)

    def exit_with(self, exit_method: ir.Var) -> None:
        self.built(ir.Opcode.CALL, (exit_method, ir.Const(None), ir.Const(None), ir.Const(None)))

    def leave(self, depth: int) -> None:
        """What leaving the try statements, handlers and withs entered since ``len(self.exits) == depth``
        needs, innermost first (for a return, break or continue)."""
        saved_exits, saved_handler = self.exits, self.handler
        for position in range(len(saved_exits) - 1, depth - 1, -1):
            kind, detail, outer = saved_exits[position]
            self.exits = saved_exits[:position]
            if kind == "finally":
                self.handler = outer  # type: ignore[assignment]
                self.statements(detail)  # type: ignore[arg-type]
            elif kind == "with":
                self.handler = outer  # type: ignore[assignment]
                self.exit_with(detail)  # type: ignore[arg-type]
            else:  # "handled": leaving an except body (or a finally body run for an exception)
                self.emit(ir.Opcode.POP_EXCEPT, args=(detail,))  # type: ignore[arg-type]
                if outer is not None:
                    self.unbind(outer)  # type: ignore[arg-type]
        self.exits, self.handler = saved_exits, saved_handler

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
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and not isinstance(node.ops[0], ast.In | ast.NotIn):
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
        """The operands and operator of a comparison (a constant compared by identity goes right)."""
        symbol = COMPARISONS[type(op)]
        if symbol in ops.IDENTITY and ((ops.is_singleton(left) and not ops.is_singleton(right))
                                       or (type(left) is ir.Const and type(right) is not ir.Const)):
            left, right = right, left
        return left, right, symbol

    def comparison(self, op: ast.cmpop, left: ir.Operand, right: ir.Operand, node: ast.AST,
                   dst: ir.Var | None = None) -> ir.Var:
        """The value of one comparison (into ``dst`` if given): rich, identity, or membership (CONTAINS_OP)."""
        dst = dst or self.temp()
        if isinstance(op, ast.In | ast.NotIn):
            self.emit(ir.Opcode.CONTAINS_OP, dst=dst, args=(left, right),
                      arg="in" if isinstance(op, ast.In) else "not in")
            return dst
        first, second, symbol = self.compared(op, left, right, node)
        self.emit(ir.Opcode.COMPARE_OP, dst=dst, args=(first, second), arg=symbol)
        return dst

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
        return ir.Const(node.value)

    def expr_Name(self, node: ast.Name) -> ir.Operand:
        return self.load_name(node.id, node)

    def load_name(self, name: str, node: ast.AST) -> ir.Operand:
        """A name's value: a local (or a comprehension's variable), else a global or a builtin: read when the
        code runs if the function assigns it or it keeps being rebound, else its value now (guarded)."""
        local = self.resolve(name)
        if local is not None:
            self.pending_reads.setdefault(local.slot, []).append(len(self.function.ops))
            return local
        cell = self.cell_of(name)
        if cell is not None:  # its cell's value when the code runs
            free = name not in self.own_cells and cell not in self.comprehension_cells
            return self.built(ir.Opcode.LOAD_DEREF, (cell,), arg=name, callee="free" if free else "local")
        if name in self.read_globals or name in self.source.global_names:
            # Read when the code runs (an object), without a guard to recompile on.  The specialized tier
            # bets on the type of its value now (and leaves if the bet fails).
            return self.run_time_global(name)
        value = self.global_now(name)
        if value is ir.MISSING or not is_definition(value):  # not defined yet (NameError if still not), or data
            return self.run_time_global(name)
        return ir.Const(self.global_value(name, node))

    def run_time_global(self, name: str) -> ir.Var:
        namespace, builtin_namespace = self.namespaces()
        current = self.global_now(name)
        current = None if current is MISSING else current
        dst = self.temp()
        self.emit(ir.Opcode.LOAD_GLOBAL, dst=dst, arg=name,
                  callee=(namespace, builtin_namespace, ir.constant_type(current)))
        return dst

    def resolve(self, name: str) -> ir.Var | None:
        """The variable a name is in this scope: a comprehension's own (innermost first), or a local (not one
        in a cell: see cell_of)."""
        for scope in reversed(self.scopes):
            if name in scope:
                return None if scope[name] in self.comprehension_cells else scope[name]
        if name in self.source.local_names and name not in self.own_cells:
            return self.local(name)
        return None

    def cell_of(self, name: str) -> ir.Operand | None:
        """The cell a name lives in, where it is not a comprehension's: the function's own for a local a
        nested function reads, the closure's for a free variable."""
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name] if scope[name] in self.comprehension_cells else None
        if name in self.own_cells:
            return self.own_cells[name]
        if name in self.source.cells:
            return ir.Const(self.source.cells[name])
        return None

    def name(self, node: ast.Name) -> ir.Var:
        var = self.resolve(node.id)
        if var is None:
            raise self.unsupported(f"assignment to global {node.id!r} without a 'global' statement", node)
        return var

    def namespaces(self) -> tuple[dict[str, object], dict[str, object]]:
        return self.source.func.__globals__, self.builtin_namespace()

    def global_now(self, name: str) -> object:
        """The value a global name has now, in the globals or else the builtins; MISSING if neither has it.
        Remembered (Function.seen_globals): the IR may be built before the first call, when the module has not
        yet defined everything."""
        namespace, builtin_namespace = self.namespaces()
        value = namespace.get(name, ir.MISSING)
        seen = name not in self.seen_globals  # each name once: its every read would find the same
        if seen:
            self.seen_globals.add(name)
            self.function.seen_globals.append(ir.GlobalGuard(namespace, name, value))
        if value is ir.MISSING:
            value = builtin_namespace.get(name, ir.MISSING)
            if seen:
                self.function.seen_globals.append(ir.GlobalGuard(builtin_namespace, name, value))
        return value

    def builtin_namespace(self) -> dict[str, object]:
        builtin_namespace = self.source.func.__builtins__  # type: ignore[attr-defined]
        return builtin_namespace if isinstance(builtin_namespace, dict) else vars(builtin_namespace)

    def global_value(self, name: str, node: ast.AST) -> object:
        """The value a global name has now; the compiled code is guarded against its rebinding."""
        namespace = self.source.func.__globals__
        if name in namespace:
            value = namespace[name]
            self.function.guards.append(ir.GlobalGuard(namespace, name, value))
            return value
        builtin_namespace = self.builtin_namespace()
        if name in builtin_namespace:
            value = builtin_namespace[name]
            self.function.guards.append(ir.GlobalGuard(namespace, name, ir.MISSING))
            self.function.guards.append(ir.GlobalGuard(builtin_namespace, name, value))
            return value
        raise self.unsupported(f"name {name!r} is not defined", node)

    def expr_BinOp(self, node: ast.BinOp) -> ir.Operand:
        return self.binary(node.op, self.kept(self.expression(node.left), [node.right]), node.right, node)

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
            left, right = self.operands((node.left, node.comparators[0]))
            return self.comparison(node.ops[0], left, right, node)
        # a < b < c: each middle operand evaluated once; the value of the first false comparison, else the last.
        dst = self.temp()
        end = self.function.new_label("chain_end")
        left = self.kept(self.expression(node.left), node.comparators)
        for index, (op, comparator) in enumerate(zip(node.ops, node.comparators, strict=True)):
            right = self.kept(self.expression(comparator), node.comparators[index + 1:])
            self.comparison(op, left, right, node, dst)
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
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return self.call_ex(node)
        callee = self.known_callee(node.func)
        if callee is SUPER and SUPER is not None and not node.args and not node.keywords:
            return self.zero_argument_super(node)
        if callee is not MISSING and reads_the_frame(callee, len(node.args) + len(node.keywords)):
            # They read the frame of whoever called them: a compiled function has none of its own.
            raise self.unsupported(f"{getattr(callee, '__name__', callee)}() reads the caller's frame, which "
                                   "compiled code does not have: such a function runs in the interpreter", node)
        if callee is GLOBALS and not node.args and not node.keywords:
            return ir.Const(self.source.func.__globals__)
        dst = self.temp()
        if callee is not MISSING and not node.keywords:
            args = self.operands(node.args)
            if callee in INTRINSICS:
                name, counts = INTRINSICS[callee]
                if len(args) in counts:
                    self.emit(ir.Opcode.CALL_INTRINSIC, dst=dst, args=args, arg=name)
                    return dst
            target = getattr(callee, "__jit_original__", callee)
            if isinstance(target, types.FunctionType) and arguments.binds_positionally(target):
                self.emit(ir.Opcode.CALL_FUNCTION, dst=dst, args=args, callee=target)
            else:
                # Anything else callable (or a call the intrinsic does not compile: min(a)) is called as it is:
                # the object itself decides, and raises the interpreter's TypeError for a wrong call.
                self.emit(ir.Opcode.CALL_OBJECT, dst=dst, args=args, callee=callee)
            return dst
        names = tuple(keyword.arg for keyword in node.keywords)
        values = [*node.args, *(keyword.value for keyword in node.keywords)]
        if callee is MISSING and isinstance(node.func, ast.Attribute) and all(map(self.inert, values)):
            # obj.m(x, 1): the method looked up and called in one op (no bound method).  Python looks it up
            # before it evaluates the arguments: only arguments whose evaluation runs no code may come after.
            owner = self.kept(self.expression(node.func.value), values)
            self.emit(ir.Opcode.CALL_METHOD, dst=dst, args=(owner, *self.operands(values)), arg=node.func.attr,
                      callee=names or None, line=self.attribute_line(node.func))
            return dst
        if callee is MISSING and isinstance(node.func, ast.Attribute):
            # obj.m(f(x)): the method looked up before the arguments run, as the interpreter's LOAD_METHOD
            # does, into two values: the callable, and the self it is called with (NULL where it is bound).
            owner = self.expression(node.func.value)
            receiver = self.temp()  # a copy the lookup may clear: the owner's own variable keeps its value
            self.emit(ir.Opcode.LOAD_CONST if isinstance(owner, ir.Const) else ir.Opcode.COPY, dst=receiver,
                      args=(owner,))
            method = self.temp()
            self.emit(ir.Opcode.LOAD_METHOD, dst=method, args=(receiver,), arg=node.func.attr,
                      line=self.attribute_line(node.func))
            self.emit(ir.Opcode.CALL_LOADED, dst=dst, args=(method, receiver, *self.operands(values)),
                      callee=names or None)
            return dst
        function = self.callable_operand(node.func, callee)
        args = self.operands(values)
        self.emit(ir.Opcode.CALL, dst=dst, args=(function, *args), callee=names or None)
        return dst

    def zero_argument_super(self, node: ast.Call) -> ir.Var:
        """``super()`` in a method: ``super(__class__, first argument)``, the class from the method's
        ``__class__`` cell and the first parameter's value now, as the interpreter takes them."""
        if "__class__" not in self.source.cells or not self.function.params:
            raise self.unsupported("super() outside a method that has a __class__ cell and an argument", node)
        cls = self.load_name("__class__", node)
        first = self.comprehension_arguments[-1] if self.comprehension_arguments else self.function.params[0]
        return self.built(ir.Opcode.CALL_OBJECT, (cls, first), callee=SUPER)

    def inert(self, node: ast.expr) -> bool:
        """Whether evaluating ``node`` can run no code and raise nothing: a constant, a local (always
        assigned where it is read: definite assignment), a global folded to its value."""
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):
            return self.resolve(node.id) is not None or self.folded_global(node.id, node) \
                is not MISSING
        return False

    def callable_operand(self, node: ast.expr, known: object) -> ir.Operand:
        """What a call calls, as an operand: the known object, else the callee expression's value (a method
        call `obj.m(x)` loads the bound method first, then evaluates the arguments, as Python does)."""
        if known is not MISSING:
            return ir.Const(known)
        return self.materialize(self.expression(node))

    def call_ex(self, node: ast.Call) -> ir.Var:
        """A call with ``*`` or ``**`` arguments: its positional arguments as one tuple (a list grown by each
        part), its keywords as one dict, as CALL_FUNCTION_EX takes them."""
        function = self.callable_operand(node.func, self.known_callee(node.func))
        positional: ir.Operand
        if len(node.args) == 1 and isinstance(node.args[0], ast.Starred):
            # f(*a): a itself, which the call turns into a tuple (with the callable in its TypeError).
            positional = self.kept(self.expression(node.args[0].value), node.keywords)
        else:
            grown = self.grown(node.args, ir.Opcode.BUILD_LIST, ir.Opcode.LIST_APPEND, ir.Opcode.LIST_EXTEND)
            positional = self.temp()
            self.emit(ir.Opcode.LIST_TO_TUPLE, dst=positional, args=(grown,))
        dst = self.temp()
        if not node.keywords:
            self.emit(ir.Opcode.CALL_FUNCTION_EX, dst=dst, args=(function, positional))
            return dst
        mappings = [keyword for keyword in node.keywords if keyword.arg is None]
        keywords: ir.Operand
        if not mappings:
            values = self.operands(keyword.value for keyword in node.keywords)
            pairs = [part for keyword, value in zip(node.keywords, values, strict=True)
                     for part in (ir.Const(keyword.arg), value)]
            keywords = self.built(ir.Opcode.BUILD_MAP, tuple(pairs))
        elif len(node.keywords) == 1:
            keywords = self.expression(mappings[0].value)  # f(**m): m itself, which the call turns into a dict
        else:
            raise self.unsupported("a call with '**' and other keyword arguments is not supported", node)
        self.emit(ir.Opcode.CALL_FUNCTION_EX, dst=dst, args=(function, positional, keywords))
        return dst

    def known_callee(self, node: ast.expr) -> object:
        """The object a call calls, when the compiler knows it now: a global or builtin, or a module's
        attribute (guarded against rebinding); else MISSING (it is evaluated when the code runs)."""
        if isinstance(node, ast.Name):
            return self.folded_global(node.id, node)
        if isinstance(node, ast.Attribute):
            module = self.module_of(node.value)
            if module is not None and hasattr(module, node.attr):
                value = getattr(module, node.attr)
                self.function.guards.append(ir.GlobalGuard(vars(module), node.attr, value))
                return value
        return MISSING

    def folded_global(self, name: str, node: ast.AST) -> object:
        """The value of a global the code may take as a constant (guarded), else MISSING: a local, a global
        the function assigns, one not defined yet, one that keeps being rebound (jit/compiler.py) and one bound
        to data (not a definition) are read when the code runs."""
        if self.resolve(name) is not None or self.cell_of(name) is not None or name in self.source.global_names or (
                name in self.read_globals):
            return MISSING
        value = self.global_now(name)
        if value is MISSING or not is_definition(value):
            return MISSING
        return self.global_value(name, node)

    def module_of(self, node: ast.expr) -> types.ModuleType | None:
        """The module a global name is bound to (guarded), else None."""
        if isinstance(node, ast.Name):
            value = self.folded_global(node.id, node)
            return value if isinstance(value, types.ModuleType) else None
        return None

    def operands(self, nodes: Iterable[ast.expr]) -> tuple[ir.Operand, ...]:
        """Expressions evaluated in order, each value kept from what later ones may store (a walrus)."""
        nodes = list(nodes)
        return tuple(self.kept(self.expression(node), nodes[index + 1:]) for index, node in enumerate(nodes))

    def expr_Attribute(self, node: ast.Attribute) -> ir.Operand:
        module = self.module_of(node.value)
        if module is not None and hasattr(module, node.attr):
            # A module's attribute (math.pi, os.path) is its value now, guarded against rebinding.
            value = getattr(module, node.attr)
            self.function.guards.append(ir.GlobalGuard(vars(module), node.attr, value))
            return ir.Const(value)
        owner = self.expression(node.value)
        dst = self.temp()
        self.emit(ir.Opcode.LOAD_ATTR, dst=dst, args=(owner,), arg=node.attr, line=self.attribute_line(node))
        return dst

    def attribute_line(self, node: ast.Attribute) -> int:
        """The line of the ops of an attribute (its load, store, delete, a method's call): that of its name, which
        may not be its object's, as CPython's compiler gives them (update_start_location_to_match_attr)."""
        return cast(int, node.end_lineno) + self.line_offset

    def expr_Subscript(self, node: ast.Subscript) -> ir.Operand:
        owner = self.kept(self.expression(node.value), [node.slice])
        dst = self.temp()
        self.emit(ir.Opcode.BINARY_SUBSCR, dst=dst, args=(owner, self.subscript(node.slice)))
        return dst

    def subscript(self, node: ast.expr) -> ir.Operand:
        """The key of a subscript: a slice object for ``a:b:c``, a tuple for ``a, b``."""
        return self.expression(node)

    def expr_Slice(self, node: ast.Slice) -> ir.Operand:
        given = iter(self.operands(part for part in (node.lower, node.upper, node.step) if part is not None))
        parts = tuple(ir.Const(None) if part is None else next(given) for part in (node.lower, node.upper, node.step))
        return self.built(ir.Opcode.BUILD_SLICE, parts)

    # --- displays ------------------------------------------------------------------

    def expr_Tuple(self, node: ast.Tuple) -> ir.Operand:
        if all(isinstance(element, ast.Constant) for element in node.elts):
            # A tuple of literals is one constant, as the interpreter's compiler makes it.
            return ir.Const(tuple(cast(ast.Constant, element).value for element in node.elts))
        if not any(isinstance(element, ast.Starred) for element in node.elts):
            return self.built(ir.Opcode.BUILD_TUPLE, self.operands(node.elts))
        grown = self.grown(node.elts, ir.Opcode.BUILD_LIST, ir.Opcode.LIST_APPEND, ir.Opcode.LIST_EXTEND)
        return self.built(ir.Opcode.LIST_TO_TUPLE, (grown,))

    def expr_List(self, node: ast.List) -> ir.Operand:
        return self.grown(node.elts, ir.Opcode.BUILD_LIST, ir.Opcode.LIST_APPEND, ir.Opcode.LIST_EXTEND)

    def expr_Set(self, node: ast.Set) -> ir.Operand:
        return self.grown(node.elts, ir.Opcode.BUILD_SET, ir.Opcode.SET_ADD, ir.Opcode.SET_UPDATE)

    def expr_Dict(self, node: ast.Dict) -> ir.Operand:
        """As CPython's compiler builds it (compiler_dict): each run of ``key: value`` pairs is one dict, its keys
        and values all evaluated before any is stored, merged into the first; each ``**mapping`` merged in
        order.  A run ends at a ``**`` or at BIG_DISPLAY // 2 + 1 pairs, which shows where a key that cannot be
        hashed stops the evaluation."""
        dst: ir.Var | None = None
        run: list[tuple[ast.expr, ast.expr]] = []

        def merge_run() -> None:
            nonlocal dst
            built = self.dict_of(run)
            run.clear()
            if dst is None:
                dst = built
            else:
                self.emit(ir.Opcode.DICT_UPDATE, args=(dst, built))

        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                if run or dst is None:
                    merge_run()
                self.emit(ir.Opcode.DICT_UPDATE, args=(dst, self.expression(value)))
                continue
            run.append((key, value))
            if 2 * (len(run) - 1) > BIG_DISPLAY:
                merge_run()
        if run or dst is None:
            merge_run()
        assert dst is not None
        return dst

    def dict_of(self, pairs: list[tuple[ast.expr, ast.expr]]) -> ir.Var:
        """One run of a dict display: built at once, or a big one pair by pair, each stored once evaluated."""
        if 2 * len(pairs) <= BIG_DISPLAY:
            return self.built(ir.Opcode.BUILD_MAP, self.operands(node for pair in pairs for node in pair))
        dst = self.built(ir.Opcode.BUILD_MAP, ())
        for key, value in pairs:
            self.emit(ir.Opcode.STORE_SUBSCR, args=(dst, *self.operands((key, value))))
        return dst

    def built(self, opcode: ir.Opcode, items: tuple[ir.Operand, ...], **fields: object) -> ir.Var:
        dst = self.temp()
        self.emit(opcode, dst=dst, args=items, **fields)
        return dst

    def grown(self, elements: list[ast.expr], build: ir.Opcode, add: ir.Opcode, extend: ir.Opcode) -> ir.Var:
        """A list or set display: the items before the first ``*`` at once, then each item added and each
        ``*iterable`` taken in, in order; a big one (compiler_starunpack_helper) each item added once evaluated."""
        first = next((i for i, e in enumerate(elements) if isinstance(e, ast.Starred)), len(elements))
        if len(elements) > BIG_DISPLAY:
            first = 0
        dst = self.built(build, self.operands(elements[:first]))
        for element in elements[first:]:
            if isinstance(element, ast.Starred):
                self.emit(extend, args=(dst, self.expression(element.value)))
            else:
                self.emit(add, args=(dst, self.expression(element)))
        return dst

    def expr_JoinedStr(self, node: ast.JoinedStr) -> ir.Operand:
        parts = self.operands(node.values)
        if not parts:
            return ir.Const("")
        if len(parts) == 1 and isinstance(node.values[0], ast.FormattedValue):
            return parts[0]
        return self.built(ir.Opcode.BUILD_STRING, parts)

    def expr_FormattedValue(self, node: ast.FormattedValue) -> ir.Operand:
        value = self.expression(node.value)
        args = (value,) if node.format_spec is None else (self.kept(value, [node.format_spec]),
                                                          self.expression(node.format_spec))
        dst = self.temp()
        self.emit(ir.Opcode.FORMAT_VALUE, dst=dst, args=args, arg=CONVERSIONS[node.conversion])
        return dst

    def expr_NamedExpr(self, node: ast.NamedExpr) -> ir.Operand:
        value = self.expression(node.value)
        self.assign(node.target, value)
        return self.load_name(node.target.id, node.target)

    # --- nested functions -----------------------------------------------------------------

    def expr_Lambda(self, node: ast.Lambda) -> ir.Operand:
        return self.make_function(node, "<lambda>")

    def stmt_FunctionDef(self, node: ast.FunctionDef) -> None:
        # The decorators first, top to bottom; then the function; then each decorator applied, the last first.
        decorators = self.operands(node.decorator_list)
        function: ir.Operand = self.make_function(node, node.name)
        for decorator in reversed(decorators):
            function = self.built(ir.Opcode.CALL, (decorator, function))
        self.assign(ast.Name(node.name, ast.Store(), lineno=node.lineno, col_offset=node.col_offset), function)

    def make_function(self, node: ast.Lambda | ast.FunctionDef, name: str) -> ir.Var:
        """A function object of the nested definition's code (which the enclosing code object holds), with
        its closure (the cells of the names it reads from here) and its defaults, evaluated now, in order."""
        arguments = node.args
        annotated = [a for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                 arguments.vararg, arguments.kwarg] if a is not None and a.annotation is not None]
        if annotated or (isinstance(node, ast.FunctionDef) and node.returns is not None):
            raise self.unsupported("a nested function with annotations is not supported", node)
        if isinstance(node, ast.FunctionDef) and getattr(node, "type_params", None):
            raise self.unsupported("a generic nested function is not supported", node)
        code = self.nested_code(name, node)
        closure = self.closure_of(code, node)
        defaults: ir.Operand = ir.Const(None)
        if arguments.defaults:
            defaults = self.built(ir.Opcode.BUILD_TUPLE, self.operands(arguments.defaults))
        keyword_defaults: ir.Operand = ir.Const(None)
        given = [(argument.arg, default) for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults,
                                                                      strict=True) if default is not None]
        values = self.operands(default for _, default in given)
        pairs = [part for (name, _), value in zip(given, values, strict=True) for part in (ir.Const(name), value)]
        if pairs:
            keyword_defaults = self.built(ir.Opcode.BUILD_MAP, tuple(pairs))
        return self.built(ir.Opcode.MAKE_FUNCTION, (ir.Const(code), closure, defaults, keyword_defaults),
                          callee=self.source.func.__globals__)

    def free_in_nested_code(self, node: ast.AST) -> set[str]:
        """The free variables of the lambdas and generator expressions inside ``node``."""
        names: set[str] = set()
        for nested in walk(node):
            if nested is not node and isinstance(nested, ast.Lambda | ast.GeneratorExp):
                kind = "<lambda>" if isinstance(nested, ast.Lambda) else "<genexpr>"
                names.update(self.nested_code(kind, nested).co_freevars)
        return names

    def closure_of(self, code: types.CodeType, node: ast.AST) -> ir.Operand:
        """The tuple of the cells a nested code object's free variables are, or None if it has none."""
        if not code.co_freevars:
            return ir.Const(None)
        cells = []
        for free in code.co_freevars:
            cell = self.cell_of(free)
            if cell is None:
                raise self.unsupported(f"the nested {describe(node)} reads {free!r} from a comprehension", node)
            cells.append(cell)
        return self.built(ir.Opcode.BUILD_TUPLE, tuple(cells))

    def expr_GeneratorExp(self, node: ast.GeneratorExp) -> ir.Operand:
        """A generator expression is a generator of its own code (which the function's code object holds),
        which the interpreter runs as it is consumed.  As the interpreter's code does, the function is made
        first, then the first iterable evaluated here and its iterator given to it (the others are its own)."""
        if any(generator.is_async for generator in node.generators):
            raise self.unsupported("asynchronous generator expressions are not supported", node)
        code = self.nested_code("<genexpr>", node)
        function = self.built(ir.Opcode.MAKE_FUNCTION, (ir.Const(code), self.closure_of(code, node), ir.Const(None),
                                                        ir.Const(None)), callee=self.source.func.__globals__)
        iterator = self.built(ir.Opcode.GET_ITER, (self.expression(node.generators[0].iter),))
        return self.built(ir.Opcode.CALL, (function, iterator))

    def nested_code(self, name: str, node: ast.AST) -> types.CodeType:
        """The code object of a nested definition: among the constants of the function's code (and of the
        code objects nested in them, in source order), those of its name that start on its line; the k-th
        for the k-th such definition on the line (two lambdas)."""
        decorators = getattr(node, "decorator_list", None)
        line = self.source.line(decorators[0] if decorators else node)  # a decorated def starts at its decorator

        def starts(candidate: ast.AST) -> int:
            listed = getattr(candidate, "decorator_list", None)
            return self.source.line(listed[0] if listed else candidate)

        kind = type(node)
        siblings = sorted((n for n in walk(self.source.node) if type(n) is kind and n is not self.source.node
                           and starts(n) == line), key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
        found: list[types.CodeType] = []

        def search(code: types.CodeType) -> None:
            for constant in code.co_consts:
                if isinstance(constant, types.CodeType):
                    if constant.co_name == name and constant.co_firstlineno == line:
                        found.append(constant)
                    search(constant)

        search(self.source.func.__code__)
        same_name = [n for n in siblings if getattr(n, "name", name) == name]  # a lambda's or genexpr's: its kind's
        if len(found) != len(same_name) or node not in same_name:
            raise self.unsupported(f"the code object of the nested definition {name!r} is not found", node)
        return found[same_name.index(node)]

    # --- comprehensions ---------------------------------------------------------------

    def expr_ListComp(self, node: ast.ListComp) -> ir.Operand:
        return self.comprehension(node, ir.Opcode.BUILD_LIST, lambda result: self.emit(
            ir.Opcode.LIST_APPEND, args=(result, self.expression(node.elt))))

    def expr_SetComp(self, node: ast.SetComp) -> ir.Operand:
        return self.comprehension(node, ir.Opcode.BUILD_SET, lambda result: self.emit(
            ir.Opcode.SET_ADD, args=(result, self.expression(node.elt))))

    def expr_DictComp(self, node: ast.DictComp) -> ir.Operand:
        return self.comprehension(node, ir.Opcode.BUILD_MAP, lambda result: self.emit(
            ir.Opcode.STORE_SUBSCR, args=(result, *self.operands((node.key, node.value)))))

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.DictComp, build: ir.Opcode,
                      add: Callable[[ir.Var], object]) -> ir.Var:
        """A comprehension inline, as CPython 3.12 compiles it (PEP 709): its own scope for the names its
        ``for`` clauses bind, the first iterable evaluated outside it, the others inside."""
        if any(isinstance(n, ast.NamedExpr) for n in walk(node)):
            raise self.unsupported("an assignment expression inside a comprehension is not supported", node)
        if any(generator.is_async for generator in node.generators):
            raise self.unsupported("asynchronous comprehensions are not supported", node)
        first = self.expression(node.generators[0].iter)
        result = self.built(build, ())
        captured = self.free_in_nested_code(node)
        scope = {}
        for name in (name for generator in node.generators for name in bound_names(generator.target)):
            var = self.function.new_var(f"{name}@comprehension{len(self.function.variables)}")
            if name in captured:  # a cell of this run of the comprehension, as the interpreter makes it
                self.emit(ir.Opcode.MAKE_CELL, dst=var)
                self.comprehension_cells.add(var)
            scope[name] = var
        self.scopes.append(scope)
        outer_frames = self.frames
        if sys.version_info < (3, 12):  # a function of its own, called on the comprehension's line
            self.frames = (*self.frames, (COMPREHENSION_NAMES[type(node)], self.line))
        loops = []
        for position, generator in enumerate(node.generators):
            iterable = first if position == 0 else self.expression(generator.iter)
            items = self.built(ir.Opcode.GET_ITER, (iterable,))
            if position == 0 and sys.version_info < (3, 12):
                self.comprehension_arguments.append(items)
            head = self.function.new_label("comprehension")
            done = self.function.new_label("comprehension_end")
            self.function.place(head)
            item = self.temp()
            self.emit(ir.Opcode.FOR_ITER, dst=item, args=(items,), target=done)
            self.assign(generator.target, item)
            for condition in generator.ifs:
                self.condition(condition, head, jump_if=False)
            loops.append((head, done))
        add(result)
        for head, done in reversed(loops):
            self.emit(ir.Opcode.CHECK_SIGNALS)
            self.emit(ir.Opcode.JUMP, target=head)
            self.function.place(done)
        self.scopes.pop()
        if sys.version_info < (3, 12):
            self.comprehension_arguments.pop()
        self.frames = outer_frames
        return result


COMPREHENSION_NAMES = {ast.ListComp: "<listcomp>", ast.SetComp: "<setcomp>", ast.DictComp: "<dictcomp>"}


def is_definition(value: object) -> bool:
    """Whether a global bound to ``value`` is compiled as a constant: a module, a class or anything callable
    (guarded: a rebinding is seen at the next call from Python).  Any other value is data, read when the code
    runs, so that a loop sees a rebinding by a callee, a signal handler or another thread at its next read."""
    return isinstance(value, types.ModuleType) or callable(value)


def bound_names(target: ast.expr) -> list[str]:
    """The names an assignment target binds."""
    return [n.id for n in walk(target) if isinstance(n, ast.Name)]


def describe(node: ast.AST) -> str:
    """How a construct reads in an error message: its source when short, else its kind."""
    names = {
        ast.Yield: "yield", ast.YieldFrom: "yield from", ast.Await: "await", ast.Lambda: "lambda",
        ast.ListComp: "list comprehension", ast.With: "with", ast.Try: "try", ast.Raise: "raise",
        ast.FunctionDef: "def", ast.ClassDef: "class", ast.Import: "import", ast.ImportFrom: "from ... import",
        ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Delete: "del", ast.Assert: "assert",
        ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
        ast.MatMult: "@", ast.Invert: "~", ast.UAdd: "+", ast.Is: "is", ast.IsNot: "is not",
        ast.In: "in", ast.NotIn: "not in", ast.GeneratorExp: "generator expression", ast.Match: "match",
        ast.AsyncFunctionDef: "async def", ast.AsyncFor: "async for", ast.AsyncWith: "async with",
        ast.TryStar: "try/except*",
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
