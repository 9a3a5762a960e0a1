"""cpjit's benchmarks: the JIT against the interpreter and against LLVM (``python -m bench``)."""
