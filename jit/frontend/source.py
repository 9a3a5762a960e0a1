"""Finding a function's source, its AST node and its symbol table."""

from __future__ import annotations
import __future__

import _symtable
import ast
import linecache
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from jit.errors import UnsupportedError
from jit.records import field, record


@record(frozen=True)
class FunctionSource:
    func: types.FunctionType
    filename: str
    node: ast.FunctionDef
    line_offset: int  # add to a node's lineno to get the line in the file
    local_names: frozenset[str]  # names local to the function (parameters included)
    global_names: frozenset[str] = frozenset()  # names its `global` statements declare
    captured: frozenset[str] = frozenset()  # its locals that a nested def or lambda reads: kept in cells
    # The free variables (of enclosing functions, or a method's __class__ for super()) and their cells.
    cells: Mapping[str, object] = field(default_factory=dict)

    def line(self, node: ast.AST) -> int:
        return getattr(node, "lineno", self.node.lineno) + self.line_offset

    def unsupported(self, what: str, node: ast.AST | None = None) -> UnsupportedError:
        return UnsupportedError(what, self.filename, self.line(node or self.node), "frontend")


# A table of _symtable (its type is not exported): name, type, symbols, children.
SymbolTable = Any



def _dedent(text: str) -> str:
    """``textwrap.dedent``: the lines' common leading spaces and tabs removed, whitespace-only lines emptied.
    Written here because textwrap (and the re module it compiles its patterns with) costs 2-3 ms of the first
    compile, and its dedent reads the real builtins (jit/_isolation.py)."""
    lines = text.split("\n")
    indents = [line[:len(line) - len(line.lstrip(" \t"))] for line in lines]
    margin: str | None = None  # the longest prefix common to the indents of the lines with text
    for line, indent in zip(lines, indents, strict=True):
        if len(indent) < len(line):
            margin = indent if margin is None else margin
            while not indent.startswith(margin):
                margin = margin[:-1]
    margin = margin or ""
    return "\n".join("" if len(indent) == len(line) else line[len(margin):]
                     for line, indent in zip(lines, indents, strict=True))

ENCLOSING = "__jit_enclosing__"  # the function a closure's definition is put in for its symbol table
MAX_TRAILING_LINES = 200  # lines after the last one with code that a definition may still need


def parse_definition(func: types.FunctionType) -> tuple[str, ast.Module | None]:
    """The source text of ``func``'s definition and its AST (None when it does not parse alone).

    The lines run from the code object's first line to its last line with
    code, extended one by one while that does not parse (a statement's
    continuation lines, a nested definition): cheaper than tokenizing the
    block as inspect.getsource does.
    """
    code = func.__code__
    lines = linecache.getlines(code.co_filename, func.__globals__)
    if not lines:
        raise UnsupportedError(f"the source of {func.__qualname__} cannot be found", code.co_filename,
                               code.co_firstlineno, "frontend")
    start = code.co_firstlineno - 1
    end = max((line for _, _, line in code.co_lines() if line is not None), default=code.co_firstlineno)
    text = ""
    for stop in range(end, min(len(lines), end + MAX_TRAILING_LINES) + 1):
        original = "".join(lines[start:stop])
        moved = _comments_onto_margin(original)
        text = _dedent(moved)
        try:
            # compile() itself, as ast.parse does: ast.parse is Python code that calls the real builtins,
            # which user code may rebind (jit/_isolation.py).
            module = cast(ast.Module, compile(text, "<unknown>", "exec", ast.PyCF_ONLY_AST))
        except SyntaxError:
            continue
        if moved != original and not _strings_are_the_codes(module, code):
            return text, None  # a line moved was inside a string, not a comment
        return text, module
    return text, None


def _comments_onto_margin(text: str) -> str:
    """``text`` with comment lines left of its first line's margin (code commented out at column 0) moved onto
    the margin: dedent counts them, and would leave the whole definition indented."""
    lines = text.splitlines(keepends=True)
    first = lines[0] if lines else ""
    margin = first[:len(first) - len(first.lstrip(" \t"))]
    if not margin:
        return text
    moved = []
    for line in lines:
        if line.startswith(margin) or not line.strip():
            moved.append(line)
        elif line.lstrip().startswith("#"):
            moved.append(margin + line.lstrip())
        else:
            return text
    return "".join(moved)


def _strings_are_the_codes(module: ast.Module, code: types.CodeType) -> bool:
    """Whether every string of several lines in ``module`` (docstrings aside) is one the code holds: then moving
    comment lines changed no string."""
    held: set[str] = set()
    pending = [code]
    while pending:
        for constant in pending.pop().co_consts:
            if isinstance(constant, str):
                held.add(constant)
            elif isinstance(constant, types.CodeType):
                pending.append(constant)
    docstrings = {id(body[0].value) for node in walk(module)
                  if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                  and (body := node.body) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)}
    return all(node.value in held for node in walk(module)
               if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value
               and id(node) not in docstrings)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk``'s nodes in its order (breadth first), without its code: ast's functions resolve
    ``isinstance``, ``list`` and ``__import__`` in the builtins user code may rebind (jit/_isolation.py)."""
    pending = [node]
    position = 0
    while position < len(pending):
        current = pending[position]
        position += 1
        for name in current._fields:
            value = getattr(current, name, None)
            if isinstance(value, ast.AST):
                pending.append(value)
            elif isinstance(value, list):
                pending.extend(item for item in value if isinstance(item, ast.AST))
        yield current


def first_node(root: ast.FunctionDef | ast.AsyncFunctionDef,
               wanted: Callable[[ast.AST], bool]) -> ast.stmt | ast.expr | ast.FunctionDef | ast.AsyncFunctionDef:
    """The first node in source order that ``wanted`` accepts, else ``root`` (for an error's line)."""
    found = [n for n in walk(root) if wanted(n) and isinstance(n, (ast.stmt, ast.expr))]
    return min(found, key=lambda n: (n.lineno, n.col_offset)) if found else root


def read_source(func: types.FunctionType) -> FunctionSource:
    code = func.__code__
    filename = code.co_filename
    first_line = code.co_firstlineno
    text, module = parse_definition(func)
    if module is None:
        # A lambda or a def inside an expression: only whole lines can be parsed.
        raise UnsupportedError(f"the source of {func.__qualname__} is not a plain 'def'", filename,
                               first_line, "frontend")
    definition = module.body[0] if module.body else None
    if func.__name__ != "<lambda>" and not (isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef)
                                            and definition.name == code.co_name):
        # The file's line where the code object starts does not hold its definition: the file changed.
        raise UnsupportedError(STALE_SOURCE, filename, first_line, "frontend")
    if not module.body or not isinstance(module.body[0], ast.FunctionDef):
        kind = "an 'async def'" if module.body and isinstance(module.body[0], ast.AsyncFunctionDef) else "a lambda"
        raise UnsupportedError(f"{func.__qualname__} is {kind}, not a plain 'def'", filename,
                               code.co_firstlineno, "frontend")
    node = module.body[0]
    line_offset = first_line - 1
    # The symbol table straight from the C module symtable.py wraps: its Python methods call the real
    # builtins' bool, which user code may rebind (jit/_isolation.py).
    free = [name for name in code.co_freevars if name != "__class__"]
    if free:
        # A closure's definition alone does not bind its free variables (`nonlocal k` would not compile):
        # the table is that of the definition inside a function that binds them.
        enclosed = "".join(f"    {line}" if line.strip() else line for line in text.splitlines(keepends=True))
        text = f"def {ENCLOSING}():\n    {' = '.join(free)} = None\n{enclosed}"
    table = _symtable.symtable(text, filename, "exec")
    if free:
        table = function_symbols(table, ENCLOSING)
    function_table = function_symbols(table, node.name)
    local_names, global_names = set(), set()
    for name, flags in function_table.symbols.items():
        scope = (flags >> _symtable.SCOPE_OFF) & _symtable.SCOPE_MASK
        if scope == _symtable.GLOBAL_EXPLICIT:
            global_names.add(name)
        if scope in (_symtable.LOCAL, _symtable.CELL):
            local_names.add(name)
    if not runs_this_code(func, linecache.getlines(filename, func.__globals__)):
        raise UnsupportedError(STALE_SOURCE, filename, first_line, "frontend")
    cells = dict(zip(code.co_freevars, func.__closure__ or (), strict=True))
    captured = frozenset(free_in_nested_functions(function_table) & local_names)
    return FunctionSource(func, filename, node, line_offset, frozenset(local_names), frozenset(global_names),
                          captured=captured, cells=cells)


# The comprehensions the frontend compiles inline, by their tables' names (3.12+: <...>).  A generator expression
# is a function of its own, whose free variables are cells.
COMPREHENSIONS = frozenset({"listcomp", "setcomp", "dictcomp"})


def free_in_nested_functions(table: SymbolTable) -> set[str]:
    """The names free in the functions and lambdas defined in ``table``'s scope, through its comprehensions
    (which the frontend compiles inline: a name a comprehension alone reads needs no cell)."""
    names: set[str] = set()
    for child in table.children:
        if child.type != _symtable.TYPE_FUNCTION:
            continue
        if child.name.strip("<>") in COMPREHENSIONS:
            names |= free_in_nested_functions(child)
        else:
            names |= {name for name, flags in child.symbols.items()
                      if (flags >> _symtable.SCOPE_OFF) & _symtable.SCOPE_MASK == _symtable.FREE}
    return names


def function_symbols(table: SymbolTable, name: str) -> SymbolTable:
    """The symbol table of the function ``name`` defined at the top of ``table`` (a module's).

    A generic function (``def f[T](x): ...``, 3.12+) has its table inside a scope of its type parameters that
    bears its name too; 3.14's scopes of deferred annotations (``__annotate__``) are siblings, not matched.
    """
    for child in table.children:
        if child.name == name:
            return child if child.type == _symtable.TYPE_FUNCTION else function_symbols(child, name)
    raise LookupError(f"no symbol table for {name!r}")  # the text was parsed with this definition: cannot happen


# A source file edited after its module was imported (or after a decorator ran) must not be compiled in place
# of the code the interpreter runs: the file's text as it is now is compiled whole (once per text) and the
# function's code object must be among what it makes.  Whole, because the code of a function depends on its
# surroundings: a name imported at module level is read with LOAD_ATTR rather than LOAD_METHOD, private names
# are mangled in a class body.
STALE_SOURCE = "the source does not match the running code (was the file edited after it was imported?)"
MAX_COMPILED_FILES = 32
FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag


class CompiledFiles:
    """The code objects each source file's current text compiles to, most recent files kept."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, int, types.CodeType | None]] = {}

    def code_of(self, filename: str, text: str, flags: int) -> types.CodeType | None:
        cached = self.files.get(filename)
        if cached is not None and cached[0] == text and cached[1] == flags:
            return cached[2]
        try:
            compiled: types.CodeType | None = compile(text, filename, "exec", flags=flags, dont_inherit=True)
        except (SyntaxError, ValueError):
            compiled = None
        if len(self.files) >= MAX_COMPILED_FILES:
            self.files.clear()
        self.files[filename] = (text, flags, compiled)
        return compiled


_compiled_files = CompiledFiles()


def runs_this_code(func: types.FunctionType, lines: list[str]) -> bool:
    """Whether the text of the file, as ``lines`` gives it now, defines ``func``'s own code object."""
    code = func.__code__
    # The future features the code was compiled with: a file's own `from __future__` imports, or those that
    # the caller of compile() or exec() passed on to code it made from a string.
    module = _compiled_files.code_of(code.co_filename, "".join(lines), code.co_flags & FUTURE_FLAGS)
    return module is not None and contains(module, code)


def contains(outer: types.CodeType, wanted: types.CodeType) -> bool:
    for constant in outer.co_consts:
        if isinstance(constant, types.CodeType):
            if constant.co_firstlineno == wanted.co_firstlineno and constant.co_name == wanted.co_name \
                    and constant == wanted:
                return True
            if constant.co_firstlineno <= wanted.co_firstlineno and contains(constant, wanted):
                return True
    return False
