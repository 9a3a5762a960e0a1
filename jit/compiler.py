"""The driver: jit.compile's objects, their specializations, and the pipeline that makes them.

function -> frontend (IR) -> optimizer passes (per signature) -> lowering ->
emitter (executable memory) -> the dispatcher's machine code -> callable.

Compilation is lazy: a call whose argument types have no specialization yet
lands in the slow path (Python), which compiles one and rebuilds the
dispatcher, a small piece of machine code that checks the assumed globals and
the argument types and calls the matching specialization.  Whatever cannot be
compiled runs in the interpreter, and the reason is kept for jit.explain.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import sys
import time
import types
import weakref
from typing import Any, NamedTuple, cast

from jit import _isolation, arguments, ir, layouts, ops, reentrancy
from jit.backend import callable as jit_callable
from jit.backend import frames, layout, lowering, namespaces
from jit.backend.emitter import CompiledCode, Emitter, Instruction
from jit.backend.errors import ExecutableMemoryError, UnsupportedHostError
from jit.errors import UnsupportedError
from jit.frontend import build_ir
from jit.optimizer import Facts, bets, function_passes, optimize, slot_passes, typing_passes
from jit.records import field, record

ARGUMENT_TYPES: dict[type, ir.Type] = {int: ir.Type.INT, float: ir.Type.FLOAT, bool: ir.Type.BOOL}
PYTHON_TYPES = {ir.Type.INT: int, ir.Type.FLOAT: float, ir.Type.BOOL: bool}
RETURN_KIND = {ir.Type.INT: "INT", ir.Type.FLOAT: "FLOAT", ir.Type.BOOL: "BOOL"}
MAX_SPECIALIZATIONS = 8  # per function: beyond, new signatures run in the interpreter
REBINDS_BEFORE_READ = 2  # a global found rebound this often is read at run time, no longer folded
MAX_INVALIDATIONS = 8  # recompiles after a change of what the code assumed, before it runs in the interpreter
NEVER_SIMPLE = (1 << 32) - 1  # ENTRY's count of arguments copied as they come, for a function that binds them
MAX_INTERPRETED_SIGNATURES = 4  # argument types the dispatcher's machine code sends to the interpreter itself
TYPE_ROUNDS = 8  # rounds of type inference for recursive functions
MAX_REBETS = 8  # compiles of a function again after a lost bet on a type, before it bets no more
# Deoptimizations of code that bets on types before it is compiled again betting on nothing: a value bet to be an
# int64 whose arithmetic keeps overflowing would otherwise leave for the generic tier at every call.
DEOPTS_WHILE_BETTING = 64


@record
class Statistics:
    compiles: int = 0
    compile_seconds: float = 0.0
    code_bytes: int = 0
    fallbacks: int = 0
    retired_deoptimizations: int = 0  # of specializations already freed


# Every specialization's counter counts in jit.stats() for the whole process: while it lives, read here;
# when it is freed, added to the retired count (so the total never goes down when code is collected).
_specializations: weakref.WeakSet[Specialization] = weakref.WeakSet()


def _retire(counter: ctypes.c_int64) -> None:
    STATISTICS.retired_deoptimizations += counter.value


def deoptimization_count() -> int:
    """Deoptimizations in this process so far, by every specialization ever compiled."""
    return STATISTICS.retired_deoptimizations + sum(spec.deopt_counter.value for spec in list(_specializations))


STATISTICS = Statistics()
RETRY = type("Retry", (), {"__repr__": lambda self: "<retry in machine code>"})()  # slow_path: call again
# The compiler's state (dispatchers, specializations, the emitter, the arena) is changed under this lock.  A
# signal handler or finalizer that runs on this thread in the middle of that work finds it busy() and must not
# touch the state: its calls run the interpreter, its jit.compile defers (jit/reentrancy.py).
_lock = reentrancy.Guard()


class CollectorPaused:
    """No cyclic garbage collection while compiling (``with CollectorPaused():``).

    A compile allocates objects in proportion to the function (ops, instructions, tables) and frees them
    by reference counting; with the collector on, each generation-2 collection it triggers walks every
    object of the process again, which made compile time grow faster than the function.  The collector
    resumes afterwards (unless it was off already: then it stays off, as the program wants).  A class, not
    contextlib.contextmanager, whose Python code would call the real builtins (jit/_isolation.py).
    """

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            gc.enable()


@functools.cache
def emitter() -> Emitter:
    """The emitter of the host target, made at the first compile (it loads and prepares the tables)."""
    made = Emitter()
    frames.use_inline_recursion_counter()
    return made


@functools.cache
def host_problem() -> str | None:
    """Why machine code cannot run here (an unsupported OS, processor or interpreter), or None."""
    try:
        emitter()
    except (UnsupportedHostError, ExecutableMemoryError) as error:
        return str(error)
    return _isolation.problem()  # after emitter(): the tables it loads are jit modules too


@functools.cache
def holes_of(stencil: str) -> frozenset[str]:
    """The symbols a stencil of the host's tables refers to: which targets an instruction needs."""
    tables = emitter().target.stencils
    if stencil not in tables:
        raise KeyError(f"no stencil {stencil!r} in the {emitter().target.name} tables")
    found = tables[stencil]
    return frozenset(hole.symbol for hole in found.code_holes + found.data_holes)


@record(eq=False)  # one specialization is one piece of machine code: compared by identity
class Specialization:
    """The machine code of one function for one signature of argument types."""

    signature: tuple[ir.Type, ...]
    function: ir.Function
    facts: Facts
    code: CompiledCode | None = None
    lowered: lowering.Lowered | None = None
    entry_cell: Any = None  # ctypes cell: the internal entry, read by direct calls
    deopt_counter: Any = None
    keep_alive: list[object] = field(default_factory=list)
    callees: list[Specialization] = field(default_factory=list)  # called directly, by their machine code
    compile_seconds: float = 0.0
    frame_bound: int = 0  # an upper bound of the frame size, while the code is being made (0: not computed)
    # The bets on objects' types the code makes (jit/optimizer/bets.py), by site; their words: first the one any
    # lost bet sets, then per site (in the order of `bets`) what the values that lost were.
    bets: dict[int, ir.Type] = field(default_factory=dict)
    bet_words: Any = None
    deopt_limit: int = 0  # where the dispatcher stops taking the code's deoptimizations (GUARD_BELOW), while it bets

    def observed(self) -> dict[int, int]:
        """By site, what the values of this code's bets were where they were noted (OBSERVED_* bits, see
        bets.learn); empty while no bet was lost."""
        words = self.bet_words
        if words is None or not words[0]:
            return {}
        return {site: words[1 + n] for n, site in enumerate(self.bets) if words[1 + n]}

    def bets_lost(self) -> bool:
        """Whether a bet of this code, or of a callee it calls directly, was lost."""
        return any(spec.bet_words is not None and spec.bet_words[0] for spec in self.called())

    def deoptimizes_too_often(self) -> bool:
        """Whether this code, which bets on types, reached its limit of deoptimizations (see GUARD_BELOW)."""
        return bool(self.bets) and self.deopt_counter.value >= self.deopt_limit > 0

    def guards(self) -> list[ir.Guard]:
        """What this code assumes: its own globals and metadata, and those of the callees it calls directly."""
        return [guard for spec in self.called() for guard in spec.function.guards]

    def called(self) -> list[Specialization]:
        """This code and every callee it calls directly, directly or not."""
        found, seen = [self], {self}
        for spec in found:
            for callee in spec.callees:
                if callee not in seen:
                    seen.add(callee)
                    found.append(callee)
        return found

    @property
    def external_entry(self) -> int:
        assert self.code is not None
        return self.code.entry

    @property
    def direct_callable(self) -> bool:
        """Whether compiled callers may call it directly with unboxed values."""
        return self.facts.specializable and self.facts.return_type.unboxed


# The index of the JitEntry's `chain` (stencils/jit_entry.h): the words before it are its fixed fields.
ENTRY_CHAIN = 14


class FunctionIR(NamedTuple):
    """A function's IR after the passes that do not depend on argument types (Dispatcher.ir), the positions of
    its object parameters (Dispatcher.object_parameters), and what building it took."""

    function: ir.Function
    object_parameters: frozenset[int]
    seconds: float


def function_ir(func: types.FunctionType, read_globals: frozenset[str]) -> FunctionIR:
    started = time.perf_counter()
    function = build_ir(func, read_globals)
    optimize(function, Facts(()), function_passes())
    return FunctionIR(function, object_parameters(function), time.perf_counter() - started)


def function_ir_or_reason(func: types.FunctionType, read_globals: frozenset[str], strict: bool) -> FunctionIR | str:
    """function_ir, or why the function cannot be compiled at all (strict: the UnsupportedError raised)."""
    try:
        with CollectorPaused():
            return function_ir(func, read_globals)
    except Exception as error:
        if strict:
            raise
        return failure_reason(error)


class Dispatcher:
    """Everything cpjit keeps for one compiled Python function."""

    def __init__(self, func: types.FunctionType, strict: bool) -> None:
        self.func = func
        self.strict = strict
        self.parameter_count = arguments.parameter_count(func)
        self.binds_positionally = arguments.binds_positionally(func)  # of the code: kept with it (invalidate)
        self.metadata = function_metadata(func)
        self.refusal: str | None = None  # why the function itself cannot be compiled, once known
        self.invalidations = 0
        self.rebinds: dict[str, int] = {}  # how often each global the code folded was found rebound
        self.read_globals: set[str] = set()  # globals rebound too often: read at run time (count_rebinds)
        self.specializations: dict[tuple[ir.Type, ...], Specialization] = {}
        self.in_progress: dict[tuple[ir.Type, ...], Specialization] = {}
        self.fallbacks: dict[tuple[type, ...] | None, str] = {}  # signature -> why it runs in the interpreter
        self.failures: dict[tuple[ir.Type, ...], str] = {}  # signatures that did not compile, and why
        self.ir: ir.Function | None = None
        self.ir_object_parameters: frozenset[int] = frozenset()  # of self.ir (see object_parameters)
        self.ir_seconds = 0.0  # what building self.ir took, until a specialization's compile time counts it
        self.ir_bets: dict[int, ir.Type] | None = None  # the first bets on self.ir's objects (bets.guesses)
        # By signature: the bets made again after a loss, by site, and the sites that lost (bets.learn).
        self.learned: dict[tuple[ir.Type, ...], tuple[dict[int, ir.Type], set[int]]] = {}
        self.rebets = 0
        self.codes: list[CompiledCode] = []  # dispatchers stay alive: one may be running while replaced
        # Bound methods made once: their addresses go into the dispatcher's code.
        self.entry_path_object = self.entry_path
        self.slow_path_object = self.slow_path
        self.frame_size = self.parameter_count  # the largest frame of the specializations
        problem = host_problem()
        if problem is None:
            self.callable = jit_callable.new_callable()
        else:
            # No machine code on this host: a plain wrapper runs the interpreter, and explain() says why.
            self.fallbacks[None] = f"no machine code on this host: {problem}"

            def interpreted(*args: object, **kwargs: object) -> object:  # a new object: func stays untouched
                return func(*args, **kwargs)

            self.callable = interpreted
        arguments.copy_metadata(self.callable, func)
        self.callable.__jit_original__ = func
        self.callable.__jit_dispatcher__ = self
        if problem is None:
            self.rebuild()

    # --- calls that the machine code does not take --------------------------------------

    def entry_path(self, *args: object, **kwargs: object) -> object:
        """ENTRY's way out for calls it does not bind itself: keywords, defaults, another count of arguments."""
        if self.refusal is not None or not self.knows_the_code():  # (an older dispatcher's code, still running)
            return self.func(*args, **kwargs)
        positional = arguments.bind(self.func, args, kwargs)
        if positional is None or not self.binds_positionally:
            # The interpreter's own message; or a call ENTRY could not bind to `*args`, `**kwargs` or
            # keyword-only parameters (a keyword of another spelling): their slots are no positional call.
            return self.func(*args, **kwargs)
        key = tuple(type(value) for value in positional)
        if self.machine_code_takes(key, revalidate=False):
            return self.callable(*positional)
        return self.func(*args, **kwargs)

    def slow_path(self, *args: object, **kwargs: object) -> object:
        """CALL_SLOWPATH's: the dispatcher's guards failed, or no specialization has these argument types.
        RETRY tells the stencil to call the compiled function again itself (its machine code takes the call).
        The call is as the caller made it, rebuilt from the bound parameters where they are not all
        positional (CALL_SLOWPATH's JitEntry)."""
        if not self.knows_the_code():
            return self.func(*args, **kwargs)
        positional = arguments.bind(self.func, args, kwargs) if kwargs or not self.binds_positionally else args
        if (self.refusal is None and positional is not None
                and self.machine_code_takes(tuple(type(value) for value in positional))):
            return RETRY
        return self.func(*args, **kwargs)

    def knows_the_code(self) -> bool:
        """Whether what the dispatcher knows of the function's parameters is of its code and defaults now
        (forgetting the specializations first if not, when it may): a call is bound by what it knows."""
        if all(guard.holds() for guard in self.metadata):
            return True
        if _lock.busy():
            return False
        with _lock:
            self.revalidate()
        return True

    def machine_code_takes(self, key: tuple[type, ...], revalidate: bool = True) -> bool:
        """Whether a call with arguments of these types should go to the machine code now (compiling it first
        if needed), rather than to the interpreter."""
        # The interpreter runs what has no machine code, and calls the machine code cannot take now: another
        # thread has frames on the frame stack (it let the GIL go in compiled code), or a handler or finalizer
        # interrupted the compiler, which must not compile now.
        if key in self.fallbacks or not frames.can_enter() or _lock.busy():
            return False
        if not revalidate and self.ir is not None and self.signature_of(key) in self.specializations:
            return True  # its machine code checks the guards, and comes back to slow_path if one fails
        with _lock:
            self.revalidate()
            if key not in self.fallbacks and self.prepared():
                signature = self.signature_of(key)
                if self.specialize(signature) is None and self.refusal is None:
                    self.fallbacks.setdefault(key, self.failures.get(signature,
                                                                     self.fallbacks.get(None, "not compiled")))
                if key in self.fallbacks and self.refusal is None and \
                        sum(k is not None for k in self.fallbacks) <= MAX_INTERPRETED_SIGNATURES:
                    self.rebuild()  # the next calls with these types go to the interpreter from machine code
        return key not in self.fallbacks and self.refusal is None

    def signature_of(self, key: tuple[type, ...]) -> tuple[ir.Type, ...]:
        """The IR types of argument types: numbers are unboxed, an argument of any other type is an object
        (one signature for every such type: the code computes on it as the interpreter does).  A parameter
        that only objects' ops read (a display's item, a call's argument, an attribute's value) is an object
        whatever its type: unboxing a number there would only box it again, making a new object.  Those are
        known once the IR is (``prepared``)."""
        as_objects = self.ir_object_parameters
        return tuple(ir.Type.OBJECT if position in as_objects else ARGUMENT_TYPES.get(t, ir.Type.OBJECT)
                     for position, t in enumerate(key))

    def object_parameters(self) -> frozenset[int]:
        """The positions of the parameters that are never assigned and that only object-tier ops read (see
        signature_of), from the function's IR (built first if need be)."""
        self.function_ir()
        return self.ir_object_parameters

    def revalidate(self) -> None:
        """Forget the specializations if a global or function metadata they (or the callees they call
        directly) assumed changed, or if the function's own code or defaults changed; compile again those that
        lost a bet on a type."""
        if not all(guard.holds() for guard in self.metadata) or \
                not all(guard.holds() for spec in self.specializations.values() for guard in spec.guards()):
            self.count_rebinds()
            self.invalidate()
            return
        lost = [spec for spec in self.specializations.values() if spec.bets_lost() or spec.deoptimizes_too_often()]
        if not lost or self.in_progress:
            return
        for spec in lost:
            learned, lost_before = self.learned.setdefault(spec.signature, ({}, set()))
            bets.learn(spec.bets, learned, lost_before, spec.observed())
            if spec.deoptimizes_too_often():  # not for a lost bet: for what the values bet on then computed
                learned.update(dict.fromkeys(spec.bets, ir.Type.OBJECT))
            del self.specializations[spec.signature]
        self.rebets += 1
        compiled = [self.specialize(spec.signature) for spec in lost]  # betting on what was seen
        if None in compiled:
            self.rebuild()  # a compile that failed rebuilt nothing: no dispatcher may keep the code it replaced

    def count_rebinds(self) -> None:
        """A global of this function's that was rebound REBINDS_BEFORE_READ times is read when the code runs
        from then on (LOAD_GLOBAL, an object), instead of being folded and guarded: no recompile per rebind."""
        rebound = {guard.name for spec in self.specializations.values() for guard in spec.function.guards
                   if isinstance(guard, ir.GlobalGuard) and not guard.holds()}
        for name in rebound:
            self.rebinds[name] = self.rebinds.get(name, 0) + 1
            if self.rebinds[name] >= REBINDS_BEFORE_READ:
                self.read_globals.add(name)

    def invalidate(self) -> None:
        """Something the code assumed changed: forget every specialization, and what was read of the function.

        Bounded: a function whose globals or metadata keep changing would otherwise be compiled again at every
        call and keep every dispatcher it ever had; after MAX_INVALIDATIONS it runs in the interpreter."""
        self.specializations.clear()
        self.fallbacks.clear()
        self.failures.clear()
        self.refusal = None
        self.ir = None
        self.ir_bets = None
        self.learned.clear()
        self.metadata = function_metadata(self.func)
        self.parameter_count = arguments.parameter_count(self.func)
        self.binds_positionally = arguments.binds_positionally(self.func)
        self.invalidations += 1
        if self.invalidations > MAX_INVALIDATIONS:
            self.refuse(f"what it was compiled for changed {self.invalidations} times (a global rebound again and "
                        "again, or its code or defaults): it runs in the interpreter")
            return
        self.rebuild()

    # --- compiling ----------------------------------------------------------------------

    def function_ir(self) -> ir.Function:
        """The IR after the passes that do not depend on argument types (made once)."""
        if self.ir is None:
            self.adopt(function_ir(self.func, frozenset(self.read_globals)))
        assert self.ir is not None
        return self.ir

    def adopt(self, built: FunctionIR) -> None:
        self.ir, self.ir_object_parameters, self.ir_seconds = built
        self.ir_bets = None

    def bets_for(self, signature: tuple[ir.Type, ...]) -> dict[int, ir.Type]:
        """What a specialization for ``signature`` bets on: the first guesses, then what lost bets taught (none
        after MAX_REBETS compiles of the function for lost bets)."""
        if self.rebets >= MAX_REBETS:
            return {}
        if self.ir_bets is None:
            self.ir_bets = bets.guesses(self.function_ir())
        made = {site: bets.bet_on(guess) for site, guess in self.ir_bets.items()}
        made.update(self.learned.get(signature, ({}, set()))[0])
        return {site: kind for site, kind in made.items() if kind is not ir.Type.OBJECT}

    def specialize(self, signature: tuple[ir.Type, ...]) -> Specialization | None:
        """Compile (or find) the specialization for ``signature``; None when it cannot be compiled."""
        self.revalidate()  # a caller must not be given a callee's stale code
        if signature in self.specializations:
            return self.specializations[signature]
        if len(self.specializations) >= MAX_SPECIALIZATIONS:
            self.failed(signature, f"more than {MAX_SPECIALIZATIONS} signatures")
            STATISTICS.fallbacks += 1
            return None
        if not self.prepared():
            return None
        started = time.perf_counter()
        try:
            with CollectorPaused():
                spec = self.compile_specialization(signature)
        except Exception as error:
            # Never a crash: what cannot be compiled runs in the interpreter, and explain() says why.
            if self.strict:
                raise
            self.failed(signature, failure_reason(error))
            STATISTICS.fallbacks += 1
            return None
        # The IR's time goes to the first specialization compiled from it, wherever it was built.
        spec.compile_seconds = time.perf_counter() - started + self.ir_seconds
        self.ir_seconds = 0.0
        self.specializations[signature] = spec
        STATISTICS.compiles += 1
        STATISTICS.compile_seconds += spec.compile_seconds
        STATISTICS.code_bytes += len(spec.code.code_bytes()) if spec.code else 0
        self.rebuild()
        return spec

    def failed(self, signature: tuple[ir.Type, ...], reason: str) -> None:
        """``signature`` runs in the interpreter.  Recorded by signature; the argument types of the calls that
        meet it become fallbacks as they come (one signature of objects stands for many types)."""
        self.failures[signature] = reason
        if all(t in PYTHON_TYPES for t in signature):
            self.fallbacks[tuple(PYTHON_TYPES[t] for t in signature)] = reason

    def prepared(self) -> bool:
        """Build the IR the specializations start from, if it is not built yet; False when the function cannot
        be compiled at all, whatever its arguments (then it is refused: its calls go straight to it)."""
        reason = self.ir_failure()
        if reason is not None:
            self.refuse(reason)
        return reason is None

    def ir_failure(self) -> str | None:
        """Build the IR if it is not built yet (again if it was built by jit.compile and a global it looked up
        changed before the first call: a function defined below, the class of a method); why it cannot be
        built, else None.  Strict: raise instead."""
        if self.ir is not None and not self.specializations and self.ir.globals_changed():
            self.ir = None
        if self.ir is None:
            built = function_ir_or_reason(self.func, frozenset(self.read_globals), self.strict)
            if isinstance(built, str):
                return built
            self.adopt(built)
        return None

    def refuse(self, reason: str) -> None:
        """The function runs in the interpreter for good: the dispatcher becomes one FORWARD stencil, which
        hands every call, keywords and all, to the original function."""
        self.refusal = reason
        self.fallbacks[None] = reason
        STATISTICS.fallbacks += 1
        self.rebuild()

    def compile_specialization(self, signature: tuple[ir.Type, ...]) -> Specialization:
        emitter()  # the host's tables and the run-time probes (the recursion counter), before any lowering
        base = self.function_ir()
        spec = Specialization(signature, base, Facts(signature))
        spec.entry_cell = ctypes.c_void_p(0)
        spec.deopt_counter = ctypes.c_int64(0)
        _specializations.add(spec)
        weakref.finalize(spec, _retire, spec.deopt_counter)
        self.in_progress[signature] = spec
        try:
            spec.function, spec.facts = self.typed(base, signature, spec, self.bets_for(signature))
            sites: list[int] = [op.callee for op in spec.function.ops  # type: ignore[misc]  # UNBOX: the site
                                if op.opcode is ir.Opcode.UNBOX]
            # Code of the generic tier only bets on nothing: it never unboxes (UNBOX is a copy there).
            spec.bets = {site: spec.facts.bets[site] for site in sites} if spec.facts.specializable else {}
            spec.bet_words = (ctypes.c_int64 * (1 + len(spec.bets)))() if spec.bets else None
            callees, callables = self.direct_callees(spec)
            context = lowering.Context(
                frame_stack=frames.frame_stack_address(),
                call_countdown=frames.call_countdown_address(),
                holes_of=holes_of,
                callees=callees,
                callables=callables,
                comparisons_count_recursion=frames.comparisons_count_recursion(),
                keep_alive=spec.keep_alive,
                deopt_counter=ctypes.addressof(spec.deopt_counter),
                bet_words={site: ctypes.addressof(spec.bet_words) + 8 * (1 + n) for n, site in enumerate(spec.bets)},
                bets_lost=ctypes.addressof(spec.bet_words) if spec.bet_words is not None else 0,
            )
            spec.lowered = lowering.lower(spec.function, spec.facts, context)
            spec.code = emitter().emit(spec.lowered.instructions)
        finally:
            del self.in_progress[signature]
        if spec.lowered.internal_entry >= 0:
            spec.entry_cell.value = spec.code.address_of(spec.lowered.internal_entry)
        return spec

    def typed(self, base: ir.Function, signature: tuple[ir.Type, ...], spec: Specialization,
              bets_made: dict[int, ir.Type]) -> tuple[ir.Function, Facts]:
        """The signature's own copy of the IR through the signature's passes.  The passes type a direct call
        by its callee's return type; compiling the callees that needs is this step's, between rounds.  A
        call of the function itself assumes the previous round's return type until it settles."""
        own = (self.func, signature)
        known: dict[tuple[object, tuple[ir.Type, ...]], ir.Type] = {}
        # Only a signature of unboxed values is called directly (callee_specialization): a call of itself with
        # another is a call through Python, of an object result, like any such call.
        recursive = all(t.unboxed for t in signature) and \
            any(op.opcode is ir.Opcode.CALL_FUNCTION and op.callee is self.func for op in base.ops)
        if recursive:
            known[own] = ir.Type.UNKNOWN
        for _ in range(TYPE_ROUNDS):
            function = base.copy()
            facts = Facts(signature, callee_returns=dict(known), bets=bets_made)
            optimize(function, facts, typing_passes())
            spec.function, spec.facts = function, facts  # what a recursive call of it sees meanwhile
            learned = False
            for callee, types_in in sorted(facts.callees_wanted, key=lambda key: id(key[0])):
                known[callee, types_in] = self.callee_return_type(callee, types_in)
                learned = True
            if recursive and known[own] is not facts.return_type:
                known[own] = facts.return_type
                learned = True
            if not learned:
                optimize(function, facts, slot_passes())
                return function, facts
        raise UnsupportedError("recursive return type does not settle", base.filename, base.first_line,
                               "optimizer:types")

    def direct_callees(self, spec: Specialization) -> tuple[dict[tuple[object, tuple[ir.Type, ...]],
                                                                  lowering.Callee], dict[object, object]]:
        """The targets of the specialization's calls: direct (unboxed) where the callee is typed so, and what
        a call on objects calls."""
        callees: dict[tuple[object, tuple[ir.Type, ...]], lowering.Callee] = {}
        callables: dict[object, object] = {}
        kinds = spec.facts.kinds
        for op in spec.function.ops:
            if op.opcode is not ir.Opcode.CALL_FUNCTION:
                continue
            callables[op.callee] = dispatcher_of(op.callee).callable
            assert op.dst is not None
            types_in = tuple(kinds[a.slot] if type(a) is ir.Var
                             else ir.constant_type(a.value)  # type: ignore[union-attr]
                             for a in op.args)
            if kinds[op.dst.slot].unboxed and (op.callee, types_in) not in callees:
                callees[op.callee, types_in] = self.callee_for(op.callee, types_in)
        return callees, callables

    def callee_return_type(self, callee: object, signature: tuple[ir.Type, ...]) -> ir.Type:
        spec = self.callee_specialization(callee, signature)
        if spec is None:
            return ir.Type.OBJECT
        if spec in self.in_progress.values():
            return spec.facts.return_type  # recursion: the previous round's result (UNKNOWN at first)
        return spec.facts.return_type if spec.direct_callable else ir.Type.OBJECT

    def callee_specialization(self, callee: object, signature: tuple[ir.Type, ...]) -> Specialization | None:
        if not all(t.unboxed for t in signature):
            return None
        dispatcher = dispatcher_of(callee)
        if dispatcher is self and signature in self.in_progress:
            return self.in_progress[signature]  # recursion: the current assumption
        if dispatcher.in_progress:
            return None  # mutual recursion: called through Python, correct if slower
        return dispatcher.specialize(signature)

    def callee_for(self, callee: object, signature: tuple[ir.Type, ...]) -> lowering.Callee:
        dispatcher = dispatcher_of(callee)
        spec = self.callee_specialization(callee, signature)
        assert spec is not None, "a call typed with an unboxed result has a compiled callee"
        if spec not in self.in_progress.values():
            self.keep_alive_callee(spec)
        frame_size = spec.lowered.frame_size if spec.lowered else self.frame_size_estimate(spec)
        return lowering.Callee(ctypes.addressof(spec.entry_cell), frame_size, dispatcher.callable)

    def keep_alive_callee(self, spec: Specialization) -> None:
        for own in self.in_progress.values():
            own.keep_alive.append(spec)
            own.callees.append(spec)

    @staticmethod
    def frame_size_estimate(spec: Specialization) -> int:
        # A function calling itself is lowered before its own frame size is known: use an upper bound,
        # computed once per specialization (each recursive call site asks).
        if not spec.frame_bound:
            function = spec.function
            assert spec.facts.liveness is not None
            constants = sum(len(op.args) for op in function.ops)
            widest = max((len(op.args) for op in function.ops), default=0)
            # Variables, constants (each also as a double), the signal counter, the scratch slots, and the
            # slots that direct calls pass their arguments in.
            spec.frame_bound = spec.facts.liveness.variable_slots + 2 * constants + 1 + 4 + 2 * widest
        return spec.frame_bound

    # --- the dispatcher's machine code ----------------------------------------------------

    def entry_table(self, simple_count: int) -> ctypes.Array[ctypes.c_void_p]:
        """The JitEntry of stencils/jit_entry.h: what ENTRY needs to bind keywords and defaults itself, its frame,
        and (ENTRY_CHAIN, filled once the dispatcher is emitted) where the dispatcher's code goes on."""
        code = self.func.__code__
        count, keyword_only = code.co_argcount, code.co_kwonlyargcount
        names = [0 if index < code.co_posonlyargcount else id(name)  # no keyword names a positional-only one
                 for index, name in enumerate(code.co_varnames[:count + keyword_only])]
        return (ctypes.c_void_p * (ENTRY_CHAIN + 1 + len(names)))(
            id(self.entry_path_object), id(self.func), layout.function_field_offset("__code__"), id(code),
            layout.function_field_offset("__defaults__"), count, layout.tuple_items_offset(), keyword_only,
            layout.function_field_offset("__kwdefaults__"), *map(int, arguments.collectors(self.func)),
            frames.frame_stack_address(), self.frame_size, simple_count, 0, *names)

    def rebuild(self) -> None:
        """Emit the dispatcher for the current specializations and point the callable at it."""
        if self.refusal is not None:
            forward = emitter().emit([Instruction("FORWARD", (), (id(self.func),))])
            self.codes.append(forward)
            jit_callable.set_entry(self.callable, forward.entry)
            return
        count = self.parameter_count
        specs = list(self.specializations.values())
        self.frame_size = max([count, *(s.lowered.frame_size for s in specs if s.lowered)])
        # A call of as many arguments is copied straight into the slots only where they are all positional.
        simple_count = count if self.binds_positionally else NEVER_SIMPLE
        entry = self.entry_table(simple_count)
        code: list[Instruction] = [Instruction("ENTRY", (), (ctypes.addressof(entry),))]
        guards = {guard_key(g): g for s in specs for g in s.guards()}
        keep: list[object] = [entry, self.func.__code__]
        # Argument types already known to run in the interpreter go to the original function from machine
        # code (CALL_ORIGINAL), checked after the specializations; a failed guard lands there too.
        interpreted = [key for key in self.fallbacks if key is not None and len(key) == count
                       and all(isinstance(t, type) for t in key)][:MAX_INTERPRETED_SIGNATURES]
        if not self.binds_positionally:
            interpreted = []  # CALL_ORIGINAL passes the slots positionally: the slow path rebuilds the call
        metadata = [g for g in guards.values() if isinstance(g, ir.MetadataGuard)]
        named = [g for g in guards.values() if isinstance(g, ir.GlobalGuard)]
        # The globals' guards are checked only when their namespace changed since they last held.
        stamps = namespace_stamps()
        spaces = {id(g.namespace): g.namespace for g in named} if named and stamps.available else {}
        stamped = [(stamps.cell(namespace), namespace) for namespace in spaces.values()]
        keep.append(stamped)
        betting = list({id(c.bet_words): c.bet_words for s in specs for c in s.called() if c.bet_words is not None
                        }.values()) if self.rebets < MAX_REBETS else []
        counted = [spec for spec in specs if spec.bets] if betting else []
        prefix = (1 + len(metadata) + len(betting) + len(counted) + (len(stamped) + 1 if stamped else 0) + len(named)
                  + len(stamped))
        # Each specialization's checks: a guard per argument (none where any type will do), then its entry.
        as_objects = self.ir_object_parameters
        checked = [[(position, kind) for position, kind in enumerate(spec.signature)
                    if not (kind is ir.Type.OBJECT and position in as_objects)] for spec in specs]
        slow = prefix + sum(len(guards) + 1 for guards in checked)
        for field_guard in metadata:
            expected = 0 if field_guard.value is None else id(field_guard.value)
            keep.append(field_guard)
            code.append(Instruction("GUARD_FIELD", (), (layout.field_address(field_guard.function, field_guard.name),
                                                         expected), side_exit=slow))
        # A lost bet on a type (its word set, by NOTE_TYPE) sends the next call to the slow path, which compiles
        # the code again betting on what was seen (revalidate).
        code.extend(Instruction("GUARD_FIELD", (), (ctypes.addressof(words), 0), side_exit=slow) for words in betting)
        for spec in counted:
            spec.deopt_limit = spec.deopt_counter.value + DEOPTS_WHILE_BETTING
            code.append(Instruction("GUARD_BELOW", (), (ctypes.addressof(spec.deopt_counter), spec.deopt_limit),
                                    side_exit=slow))
        if stamped:
            checks = len(code) + len(stamped) + 1
            code.extend(Instruction("GUARD_NAMESPACE", (), (ctypes.addressof(cell),), side_exit=checks)
                        for cell, _ in stamped)
            code.append(Instruction("JUMP", jump_target=prefix))
        for guard in named:
            expected = 0 if guard.value is ir.MISSING else id(guard.value)
            cell = layouts.GlobalGuard(id(guard.namespace), id(guard.name), expected)
            keep.append((cell, guard.name, guard.namespace, guard.value))
            code.append(Instruction("GUARD_GLOBAL", (), (ctypes.addressof(cell),), side_exit=slow))
        code.extend(Instruction("REFRESH_NAMESPACE", (), (ctypes.addressof(cell),)) for cell, _ in stamped)
        assert len(code) == prefix
        for spec, guarded in zip(specs, checked, strict=True):
            next_spec = len(code) + len(guarded) + 1
            for position, kind in guarded:
                if kind is ir.Type.OBJECT:  # any type but the numbers, which have their own specializations
                    code.append(Instruction("GUARD_NOT_NUMBER", (position,), side_exit=next_spec))
                else:
                    code.append(Instruction("GUARD_TYPE", (position,), (id(PYTHON_TYPES[kind]),),
                                            side_exit=next_spec))
            returns = RETURN_KIND.get(spec.facts.return_type, "OBJECT") if spec.facts.specializable else "OBJECT"
            code.append(Instruction(f"RETURN_SPECIALIZED_{returns}", (), (spec.external_entry,)))
        for key in interpreted:
            next_key = len(code) + count + 1
            for position, python_type in enumerate(key):
                code.append(Instruction("GUARD_TYPE", (position,), (id(python_type),), side_exit=next_key))
            code.append(Instruction("CALL_ORIGINAL", (count,), (id(self.func), frames.frame_stack_address())))
        keep.append(interpreted)
        slow_cell = (ctypes.c_void_p * 4)(id(self.slow_path_object), id(self.callable), id(RETRY),
                                          0 if self.binds_positionally else ctypes.addressof(entry))
        keep.append(slow_cell)
        code.append(Instruction("CALL_SLOWPATH", (count,), (ctypes.addressof(slow_cell), frames.frame_stack_address())))
        compiled = emitter().emit(code)
        entry[ENTRY_CHAIN] = compiled.address_of(1)  # before any call can come: the callable points here below
        compiled.keep_alive = (keep, specs)  # type: ignore[attr-defined]
        self.codes.append(compiled)
        jit_callable.set_entry(self.callable, compiled.entry)


def object_parameters(function: ir.Function) -> frozenset[int]:
    """The positions of ``function``'s parameters that are never assigned and whose every read is by an op of
    the object tier (``ops.OBJECT_TIER``: computed on objects in either tier), so that a number there would only
    be boxed again."""
    positions = {param.slot: position for position, param in enumerate(function.params)}
    candidates = set(positions)
    for op in function.ops:
        for written in op.written():
            candidates.discard(written.slot)
        if op.opcode not in ops.OBJECT_TIER:
            candidates.difference_update(operand.slot for operand in op.args if isinstance(operand, ir.Var))
    return frozenset(positions[slot] for slot in candidates)


@functools.cache
def namespace_stamps() -> namespaces.Stamps:
    """The process's namespace stamps (jit/backend/namespaces.py), made with the first dispatcher."""
    return namespaces.Stamps(emitter().emit)


def function_metadata(func: types.FunctionType) -> list[ir.MetadataGuard]:
    """What a call of ``func`` depends on besides its globals (kept alive, so compared by identity)."""
    return ir.metadata_guards(func)


def guard_key(guard: ir.Guard) -> tuple[int, str]:
    """Guards with the same key check the same thing: the dispatcher checks each once."""
    if isinstance(guard, ir.MetadataGuard):
        return (id(guard.function), guard.name)
    return (id(guard.namespace), guard.name)


def failure_reason(error: Exception) -> str:
    """What explain() says of a compile that failed."""
    if isinstance(error, UnsupportedError):
        return str(error)
    return f"internal compiler error, please report: {type(error).__name__}: {error}"


def dispatcher_of(func: object) -> Dispatcher:
    """The dispatcher of a function, made (not strict) the first time a compiled function calls it."""
    original = getattr(func, "__jit_original__", func)
    assert isinstance(original, types.FunctionType)
    existing = registered(original)
    if existing is None:
        existing = Dispatcher(original, strict=False)
        _dispatchers[id(original)] = existing
    return existing


# Every live dispatcher, by the id of its function.  Weak: a dispatcher lives as long as its callable (which
# refers to it), so that dropping a compiled function frees its machine code.  While a dispatcher lives, so
# does its function, whose id therefore stays its own.
_dispatchers: weakref.WeakValueDictionary[int, Dispatcher] = weakref.WeakValueDictionary()


def registered(func: types.FunctionType) -> Dispatcher | None:
    dispatcher = _dispatchers.get(id(func))
    return dispatcher if dispatcher is not None and dispatcher.func is func else None


def live_dispatchers() -> list[Dispatcher]:
    return list(_dispatchers.values())


# Not types.BuiltinFunctionType: the types module computes it as type(len), wrong if the program rebound len
# before the types module was first imported (3.13 imports it after site).  sys's own functions are genuine.
BUILTIN_FUNCTION = cast(type[types.BuiltinFunctionType], type(sys.intern))


def check_compilable(func: object) -> types.FunctionType:
    """The function itself, or a TypeError that says what was given instead."""
    if isinstance(func, type):
        raise TypeError(f"jit.compile() takes a function, not the class {func.__qualname__!r}")
    if isinstance(func, types.MethodType):
        raise TypeError(f"jit.compile() takes a plain function, not the bound method {func.__qualname__!r}: "
                        "compile the function in the class body instead")
    if isinstance(func, BUILTIN_FUNCTION):
        raise TypeError(f"jit.compile() takes a Python function, not the builtin {func.__name__!r}")
    if not isinstance(func, types.FunctionType):
        raise TypeError(f"jit.compile() takes a Python function, not {type(func).__name__!r}")
    return func  # generators and coroutines too: they run in the interpreter (the frontend says why)


class Deferred(jit_callable.JitFunctionBase):
    """What jit.compile returns when it is called in the middle of the compiler's own work (by a signal handler
    or a finalizer on the same thread): compiling there would deadlock or corrupt the interrupted work.  The
    function is compiled at its first call made outside that work; calls made inside run the interpreter."""

    def __init__(self, func: types.FunctionType, strict: bool) -> None:
        arguments.copy_metadata(self, func)
        self.__jit_original__ = func
        self.strict = strict
        self.compiled: Any = None

    def __call__(self, *args: object, **kwargs: object) -> object:
        if _lock.busy():
            return self.__jit_original__(*args, **kwargs)
        return self.resolve()(*args, **kwargs)

    def resolve(self) -> Any:
        """The compiled function (made on first use, outside the compiler's work)."""
        if self.compiled is None:
            if _lock.busy():
                raise RuntimeError(f"{self.__jit_original__.__qualname__} cannot be compiled in a signal handler or "
                                   "finalizer that interrupted the compiler; it is compiled at its next call")
            self.compiled = compile_function(self.__jit_original__, self.strict)
        return self.compiled

    @property
    def __jit_dispatcher__(self) -> Dispatcher:
        return dispatcher_of(self.resolve())


def compile_function(func: object, strict: bool = False) -> Any:
    """What jit.compile returns: the function's compiled callable; the function itself when it cannot be
    compiled at all (strict: UnsupportedError), so that its calls cost what they cost without cpjit."""
    function = check_compilable(getattr(func, "__jit_original__", func))
    if _lock.busy():
        if strict:
            function_ir(function, frozenset())  # refuse now what can never compile
        return Deferred(function, strict)
    known = refusal_of(function)
    if not strict and known is not None:
        return refused(function, known)
    # The IR is built now, not at the first call: what can never compile is known (strict raises here), and is
    # handed back as it is, before any dispatcher (and its machine code) is made for it.
    with _lock:
        dispatcher = registered(function)
        if dispatcher is None or dispatcher.strict != strict:
            built = function_ir_or_reason(function, frozenset(), strict) if host_problem() is None else None
            if isinstance(built, str):
                return refused(function, built)
            dispatcher = Dispatcher(function, strict)
            if built is not None:
                dispatcher.adopt(built)
            _dispatchers[id(function)] = dispatcher
        elif host_problem() is None:
            reason = dispatcher.refusal or dispatcher.ir_failure()
            if reason is not None:
                return refused(function, reason)
    return dispatcher.callable


def refused(function: types.FunctionType, reason: str) -> types.FunctionType:
    """What jit.compile returns for a function that cannot be compiled at all: the function, its reason kept."""
    _refusals[function] = (function.__code__, reason)
    STATISTICS.fallbacks += 1
    return function


# The functions jit.compile handed back as they are, with the code it found it cannot compile and why (weak:
# a refused function lives as long as the program keeps it).
_refusals: weakref.WeakKeyDictionary[types.FunctionType, tuple[types.CodeType, str]] = weakref.WeakKeyDictionary()


def refusal_of(function: types.FunctionType) -> str | None:
    """Why jit.compile handed ``function`` back as it is, if it did and its code is still the code refused."""
    refused = _refusals.get(function)
    return refused[1] if refused is not None and refused[0] is function.__code__ else None
