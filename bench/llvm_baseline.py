"""The LLVM baseline: a kernel's micro-op IR compiled by LLVM (llvmlite's MCJIT) at -O0 and -O2.

The copy-and-patch paper compares its compile times with LLVM's on the same
input.  Here the input is what cpjit itself compiles: the IR of one
specialization of a function (``dispatcher.ir``) with the types the optimizer
inferred (``spec.facts.types``), translated into LLVM IR text for the
specialized tier only (int and bool as i64, float as double).  Every variable
is a stack slot (``alloca``), as a C compiler's front end emits it; at -O2,
LLVM's own pipeline promotes them to registers.

What this baseline leaves out, on purpose (it is a speed baseline, not a
second compiler): int overflow wraps instead of continuing in big ints, a zero
divisor is not checked, ``range()`` with a zero step is not checked, loops do
not poll for Ctrl-C, and ints compare with floats after conversion to double.
The generic tier, deoptimization and boxing do not exist here.  On the
kernels' inputs none of this changes a result, which the suite checks.
"""

from __future__ import annotations

import ctypes
import functools
import struct
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.measure import dispatcher_of
from jit import ir
from jit.ir import Opcode, Type, binary_operator

LLVM_TYPE = {Type.INT: "i64", Type.BOOL: "i64", Type.FLOAT: "double"}
CTYPE: dict[Type, type[Any]] = {Type.INT: ctypes.c_int64, Type.BOOL: ctypes.c_int64, Type.FLOAT: ctypes.c_double}
PYTHON_TYPE = {int: Type.INT, bool: Type.BOOL, float: Type.FLOAT}
INT_BINARY = {"+": "add", "-": "sub", "*": "mul"}
FLOAT_BINARY = {"+": "fadd", "-": "fsub", "*": "fmul", "/": "fdiv"}
INT_COMPARE = {"<": "slt", "<=": "sle", ">": "sgt", ">=": "sge", "==": "eq", "!=": "ne"}
# Ordered comparisons are false for NaN, as in Python; != is the unordered one (true for NaN).
FLOAT_COMPARE = {"<": "olt", "<=": "ole", ">": "ogt", ">=": "oge", "==": "oeq", "!=": "une"}
# math functions whose C library namesake takes the same arguments, by arity.
LIBM = {
    1: frozenset({"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "asin", "acos",
                  "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc", "cbrt", "fabs"}),
    2: frozenset({"atan2", "hypot", "fmod", "copysign", "pow"}),
}
LLVM_INTRINSIC = {"math.sqrt": "llvm.sqrt.f64", "math.fabs": "llvm.fabs.f64"}
ROUNDING = {"math.floor": "llvm.floor.f64", "math.ceil": "llvm.ceil.f64", "math.trunc": "llvm.trunc.f64"}
OPT_LEVELS = (0, 2)


class BaselineUnsupported(Exception):
    """The function (or one it calls) has something this baseline does not translate."""


def float_literal(value: float) -> str:
    """A double as LLVM writes it exactly: the hexadecimal of its bits."""
    return f"0x{struct.unpack('<Q', struct.pack('<d', value))[0]:016X}"


def signature_of(args: Sequence[object]) -> tuple[Type, ...]:
    try:
        return tuple(PYTHON_TYPE[type(value)] for value in args)
    except KeyError as missing:
        raise BaselineUnsupported(f"argument of type {missing.args[0].__name__}") from None


def specialization(func: Callable[..., object], signature: tuple[Type, ...]) -> Any:
    """The specialization cpjit makes of ``func`` for ``signature`` (compiled now if a call has not yet: a call
    runs the interpreter while another thread has compiled frames live)."""
    dispatcher = dispatcher_of(func)
    spec = dispatcher.specializations.get(signature)
    if spec is None and dispatcher.refusal is None:
        spec = dispatcher.specialize(signature)
    if spec is None:
        key = tuple(type_to_python(t) for t in signature)
        reason = dispatcher.fallbacks.get(key) or dispatcher.fallbacks.get(None) or "not compiled yet"
        raise BaselineUnsupported(f"{func.__qualname__}: no specialization: {reason}")
    if not spec.facts.specializable:
        raise BaselineUnsupported(f"{func.__qualname__}: generic tier only: {spec.facts.generic_reason}")
    if not spec.facts.return_type.unboxed:
        raise BaselineUnsupported(f"{func.__qualname__}: returns {spec.facts.return_type.value}")
    return spec


def type_to_python(kind: Type) -> type:
    return {Type.INT: int, Type.BOOL: bool, Type.FLOAT: float}[kind]


@dataclass
class FunctionTranslator:
    """One specialization as one LLVM function; calls it meets are queued in ``module``."""

    module: ModuleTranslator
    name: str
    function: ir.Function
    types: dict[ir.Var, Type]
    signature: tuple[Type, ...]
    return_type: Type
    lines: list[str] = field(default_factory=list)
    counter: int = 0

    def fresh(self) -> str:
        self.counter += 1
        return f"%t{self.counter}"

    def emit(self, text: str) -> str:
        """Emit ``%tN = text`` and return %tN."""
        value = self.fresh()
        self.lines.append(f"  {value} = {text}")
        return value

    def type_of(self, operand: ir.Operand) -> Type:
        if isinstance(operand, ir.Const):
            return Type.FLOAT if type(operand.value) is float else Type.INT
        kind = self.types.get(operand, Type.UNKNOWN)
        if not kind.unboxed:
            raise BaselineUnsupported(f"{self.function.name}: variable {operand.name} is {kind.value}")
        return kind

    def value(self, operand: ir.Operand, as_type: Type | None = None) -> str:
        """The operand's value, converted to double when ``as_type`` is FLOAT and it is an int."""
        kind = self.type_of(operand)
        if isinstance(operand, ir.Const):
            number = operand.value
            if as_type is Type.FLOAT or kind is Type.FLOAT:
                return float_literal(float(number))
            return str(int(number))
        loaded = self.emit(f"load {LLVM_TYPE[kind]}, ptr %v{operand.slot}")
        if as_type is Type.FLOAT and kind is not Type.FLOAT:
            return self.emit(f"sitofp i64 {loaded} to double")
        return loaded

    def store(self, dst: ir.Var, value: str) -> None:
        self.lines.append(f"  store {LLVM_TYPE[self.types[dst]]} {value}, ptr %v{dst.slot}")

    def block(self, index: int) -> str:
        return f"%op{index}"

    def translate(self) -> list[str]:
        params = ", ".join(f"{LLVM_TYPE[t]} %a{i}" for i, t in enumerate(self.signature))
        head = [f'define {LLVM_TYPE[self.return_type]} @"{self.name}"({params}) {{', "entry:"]
        for var in self.function.variables:
            if self.types.get(var, Type.UNKNOWN).unboxed:
                head.append(f"  %v{var.slot} = alloca {LLVM_TYPE[self.types[var]]}")
        for position, param in enumerate(self.function.params):
            head.append(f"  store {LLVM_TYPE[self.signature[position]]} %a{position}, ptr %v{param.slot}")
        head.append("  br label %op0")
        for index, op in enumerate(self.function.ops):
            self.lines.append(f"op{index}:")
            if self.op(index, op):
                self.lines.append(f"  br label {self.block(index + 1)}")
        # A label may mark the end of the ops (after an if/else that returns on both paths).
        self.lines.append(f"op{len(self.function.ops)}:")
        self.lines.append("  unreachable")
        return [*head, *self.lines, "}"]

    def op(self, index: int, op: ir.Op) -> bool:
        """Translate one op; True when control falls through to the next op."""
        code = op.opcode
        if code is Opcode.RETURN_VALUE:
            value = self.value(op.args[0], self.return_type)
            self.lines.append(f"  ret {LLVM_TYPE[self.return_type]} {value}")
            return False
        if code is Opcode.JUMP:
            self.lines.append(f"  br label {self.block(self.function.target_index(op))}")
            return False
        if code in (Opcode.COMPARE_AND_BRANCH, Opcode.POP_JUMP_IF_TRUE, Opcode.POP_JUMP_IF_FALSE):
            if code is Opcode.COMPARE_AND_BRANCH:
                assert op.arg is not None
                condition, wanted = self.compare(op.arg, op.args), op.jump_if
            else:
                condition, wanted = self.truth(op.args[0]), code is Opcode.POP_JUMP_IF_TRUE
            taken, other = self.block(self.function.target_index(op)), self.block(index + 1)
            first, second = (taken, other) if wanted else (other, taken)
            self.lines.append(f"  br i1 {condition}, label {first}, label {second}")
            return False
        if code is Opcode.FOR_ITER_RANGE:
            self.for_iter_range(index, op)
            return False
        if code in (Opcode.GET_RANGE, Opcode.CHECK_SIGNALS):
            return True  # the checks this baseline leaves out (see the module's docstring)
        assert op.dst is not None
        if self.types.get(op.dst, Type.UNKNOWN) is Type.UNKNOWN:
            return True  # never reached by the type inference: dead code
        self.store(op.dst, self.result(op))
        return True

    def result(self, op: ir.Op) -> str:
        """The value an op with a destination computes."""
        assert op.dst is not None
        code, dst_type = op.opcode, self.types[op.dst]
        if code in (Opcode.LOAD_CONST, Opcode.COPY, Opcode.INDEX):  # INDEX: range()'s bound, int64 or bool
            return self.value(op.args[0], dst_type)
        if code is Opcode.BINARY_OP:
            assert op.arg is not None
            return self.binary(binary_operator(op.arg), op.args, dst_type)
        if code is Opcode.UNARY_OP:
            kind = self.type_of(op.args[0])
            operand = self.value(op.args[0])
            if op.arg == "not":
                truth = self.truth(op.args[0], operand)
                return self.emit(f"zext i1 {self.emit(f'xor i1 {truth}, true')} to i64")
            return self.emit(f"fneg double {operand}" if kind is Type.FLOAT else f"sub i64 0, {operand}")
        if code is Opcode.COMPARE_OP:
            assert op.arg is not None
            return self.emit(f"zext i1 {self.compare(op.arg, op.args)} to i64")
        if code is Opcode.CALL_INTRINSIC:
            assert op.arg is not None
            return self.intrinsic(op.arg, op.args, dst_type)
        if code is Opcode.CALL_FUNCTION:
            return self.call(op)
        raise BaselineUnsupported(f"{self.function.name}: {code.value} is not translated")

    def binary(self, operator: str, args: tuple[ir.Operand, ...], dst_type: Type) -> str:
        if dst_type is Type.FLOAT:
            left, right = (self.value(a, Type.FLOAT) for a in args)
            if operator == "**":
                return self.emit(f"call double @llvm.pow.f64(double {left}, double {right})")
            if operator not in FLOAT_BINARY:
                raise BaselineUnsupported(f"{self.function.name}: float {operator} is not translated")
            return self.emit(f"{FLOAT_BINARY[operator]} double {left}, {right}")
        left, right = (self.value(a) for a in args)
        if operator in INT_BINARY:
            return self.emit(f"{INT_BINARY[operator]} i64 {left}, {right}")
        if operator in ("//", "%"):
            # Python rounds the quotient toward minus infinity: the remainder takes the divisor's sign.
            quotient = self.emit(f"sdiv i64 {left}, {right}")
            remainder = self.emit(f"srem i64 {left}, {right}")
            inexact = self.emit(f"icmp ne i64 {remainder}, 0")
            signs = self.emit(f"xor i64 {remainder}, {right}")
            differ = self.emit(f"icmp slt i64 {signs}, 0")
            adjust = self.emit(f"and i1 {inexact}, {differ}")
            if operator == "//":
                return self.emit(f"sub i64 {quotient}, {self.emit(f'zext i1 {adjust} to i64')}")
            return self.emit(f"add i64 {remainder}, {self.emit(f'select i1 {adjust}, i64 {right}, i64 0')}")
        raise BaselineUnsupported(f"{self.function.name}: int {operator} is not translated")

    def compare(self, operator: str, args: tuple[ir.Operand, ...]) -> str:
        if any(self.type_of(a) is Type.FLOAT for a in args):
            left, right = (self.value(a, Type.FLOAT) for a in args)
            return self.emit(f"fcmp {FLOAT_COMPARE[operator]} double {left}, {right}")
        left, right = (self.value(a) for a in args)
        return self.emit(f"icmp {INT_COMPARE[operator]} i64 {left}, {right}")

    def truth(self, operand: ir.Operand, loaded: str | None = None) -> str:
        value = loaded if loaded is not None else self.value(operand)
        if self.type_of(operand) is Type.FLOAT:
            return self.emit(f"fcmp une double {value}, 0.0")  # NaN is true
        return self.emit(f"icmp ne i64 {value}, 0")

    def for_iter_range(self, index: int, op: ir.Op) -> None:
        assert op.dst is not None
        counter, stop, step = op.args
        if not isinstance(counter, ir.Var):
            raise BaselineUnsupported(f"{self.function.name}: FOR_ITER_RANGE counts in the constant {counter}")
        current = self.value(counter)
        limit, stride = self.value(stop), self.value(step)
        if isinstance(step, ir.Const):
            done = self.emit(f"icmp {'sge' if step.value > 0 else 'sle'} i64 {current}, {limit}")
        else:
            upward = self.emit(f"icmp sgt i64 {stride}, 0")
            above = self.emit(f"icmp sge i64 {current}, {limit}")
            below = self.emit(f"icmp sle i64 {current}, {limit}")
            done = self.emit(f"select i1 {upward}, i1 {above}, i1 {below}")
        body = f"for_body{index}"
        self.lines.append(f"  br i1 {done}, label {self.block(self.function.target_index(op))}, label %{body}")
        self.lines.append(f"{body}:")
        self.store(op.dst, current)
        # An increment past int64 ends the loop, as the stencil does (the next test sees the stop).
        added = self.emit(f"call {{i64, i1}} @llvm.sadd.with.overflow.i64(i64 {current}, i64 {stride})")
        total = self.emit(f"extractvalue {{i64, i1}} {added}, 0")
        overflow = self.emit(f"extractvalue {{i64, i1}} {added}, 1")
        self.store(counter, self.emit(f"select i1 {overflow}, i64 {limit}, i64 {total}"))
        self.lines.append(f"  br label {self.block(index + 1)}")

    def intrinsic(self, name: str, args: tuple[ir.Operand, ...], dst_type: Type) -> str:
        kinds = [self.type_of(a) for a in args]
        if name in ("abs", "min", "max") and kinds[0] is not Type.FLOAT:
            values = [self.value(a) for a in args]
            if name == "abs":
                negative = self.emit(f"icmp slt i64 {values[0]}, 0")
                negated = self.emit(f"sub i64 0, {values[0]}")
                return self.emit(f"select i1 {negative}, i64 {negated}, i64 {values[0]}")
            # min(a, b) is b only if b < a (and max: b > a), the first argument on ties, as builtins do.
            better = self.emit(f"icmp {'slt' if name == 'min' else 'sgt'} i64 {values[1]}, {values[0]}")
            return self.emit(f"select i1 {better}, i64 {values[1]}, i64 {values[0]}")
        if name in ("min", "max"):
            first, second = (self.value(a) for a in args)
            better = self.emit(f"fcmp {'olt' if name == 'min' else 'ogt'} double {second}, {first}")
            return self.emit(f"select i1 {better}, double {second}, double {first}")
        if name == "int":
            value = self.value(args[0])
            return self.emit(f"fptosi double {value} to i64") if kinds[0] is Type.FLOAT else value
        if name == "float":
            return self.value(args[0], Type.FLOAT)
        doubles = [self.value(a, Type.FLOAT) for a in args]
        listed = ", ".join(f"double {d}" for d in doubles)
        if name == "abs":
            return self.emit(f"call double @llvm.fabs.f64({listed})")
        if name in ROUNDING:
            rounded = self.emit(f"call double @{ROUNDING[name]}({listed})")
            return self.emit(f"fptosi double {rounded} to i64")
        if name in LLVM_INTRINSIC:
            return self.emit(f"call double @{LLVM_INTRINSIC[name]}({listed})")
        short = name.removeprefix("math.")
        if short in LIBM.get(len(args), ()) and dst_type is Type.FLOAT:
            self.module.declare(f"declare double @{short}({', '.join(['double'] * len(args))})")
            return self.emit(f"call double @{short}({listed})")
        raise BaselineUnsupported(f"{self.function.name}: {name}() with {len(args)} arguments is not translated")

    def call(self, op: ir.Op) -> str:
        signature = tuple(self.type_of(a) for a in op.args)
        callee, returns = self.module.function_for(op.callee, signature)
        values = ", ".join(f"{LLVM_TYPE[t]} {self.value(a, t)}" for a, t in zip(op.args, signature, strict=True))
        return self.emit(f'call {LLVM_TYPE[returns]} @"{callee}"({values})')


INTRINSIC_DECLARATIONS = [
    "declare double @llvm.sqrt.f64(double)",
    "declare double @llvm.fabs.f64(double)",
    "declare double @llvm.floor.f64(double)",
    "declare double @llvm.ceil.f64(double)",
    "declare double @llvm.trunc.f64(double)",
    "declare double @llvm.pow.f64(double, double)",
    "declare {i64, i1} @llvm.sadd.with.overflow.i64(i64, i64)",
]


@dataclass
class ModuleTranslator:
    """The functions reachable from one entry specialization, each translated once."""

    names: dict[tuple[object, tuple[Type, ...]], tuple[str, Type]] = field(default_factory=dict)
    queue: list[tuple[object, tuple[Type, ...]]] = field(default_factory=list)
    declarations: list[str] = field(default_factory=list)

    def declare(self, line: str) -> None:
        if line not in self.declarations:
            self.declarations.append(line)

    def function_for(self, func: object, signature: tuple[Type, ...]) -> tuple[str, Type]:
        """The LLVM name and return type of ``func`` for ``signature``, queueing it for translation."""
        key = (func, signature)
        if key not in self.names:
            assert isinstance(func, types.FunctionType)
            spec = specialization(func, signature)
            shown = ",".join(t.value for t in signature)
            self.names[key] = (f"{func.__qualname__}({shown})#{len(self.names)}", spec.facts.return_type)
            self.queue.append(key)
        return self.names[key]

    def translate(self, func: Callable[..., object], signature: tuple[Type, ...]) -> LLVMModule:
        entry, return_type = self.function_for(func, signature)
        bodies: list[str] = []
        while self.queue:
            callee, callee_signature = self.queue.pop(0)
            assert isinstance(callee, types.FunctionType)
            spec = specialization(callee, callee_signature)
            name, returns = self.names[(callee, callee_signature)]
            translator = FunctionTranslator(self, name, spec.function, spec.facts.types, callee_signature, returns)
            bodies.extend(translator.translate())
        text = "\n".join([*INTRINSIC_DECLARATIONS, *self.declarations, *bodies]) + "\n"
        return LLVMModule(text, entry, signature, return_type)


@dataclass(frozen=True)
class LLVMModule:
    text: str
    entry: str
    signature: tuple[Type, ...]
    return_type: Type


def translate(func: Callable[..., object], args: Sequence[object]) -> LLVMModule:
    """LLVM IR for the specialization cpjit made of ``func`` for the types of ``args``."""
    return ModuleTranslator().translate(func, signature_of(args))


@dataclass
class CompiledBaseline:
    """LLVM's machine code for a module, callable with Python numbers."""

    function: Callable[..., object]
    opt_level: int
    compile_seconds: float
    engine: Any  # keeps the code mapped

    def __call__(self, *args: object) -> object:
        return self.function(*args)


@functools.cache
def _initialize() -> Any:
    import llvmlite.binding as llvm  # noqa: PLC0415 - optional: only the baseline needs LLVM

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    return llvm


def compile_module(module: LLVMModule, opt_level: int) -> CompiledBaseline:
    """Compile with MCJIT for the host CPU; the time counts parsing, optimization and code generation."""
    llvm = _initialize()
    started = time.perf_counter()
    parsed = llvm.parse_assembly(module.text)
    parsed.verify()
    machine = llvm.Target.from_default_triple().create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=opt_level,
        codemodel="jitdefault")
    parsed.triple = machine.triple
    parsed.data_layout = str(machine.target_data)
    if opt_level > 0:
        builder = llvm.create_pass_builder(machine, llvm.create_pipeline_tuning_options(speed_level=opt_level))
        builder.getModulePassManager().run(parsed, builder)
    engine = llvm.create_mcjit_compiler(parsed, machine)
    engine.finalize_object()
    address = engine.get_function_address(module.entry)
    seconds = time.perf_counter() - started
    prototype = ctypes.CFUNCTYPE(CTYPE[module.return_type], *(CTYPE[t] for t in module.signature))
    raw = prototype(address)
    function: Callable[..., object] = (lambda *args: bool(raw(*args))) if module.return_type is Type.BOOL else raw
    return CompiledBaseline(function, opt_level, seconds, (engine, raw))


def available() -> str | None:
    """None when llvmlite can be used, else why not."""
    try:
        _initialize()
    except ImportError:
        return "llvmlite is not installed (pip install cpjit[build])"
    return None
