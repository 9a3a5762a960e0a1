"""jit/backend/perf_map.py: with CPJIT_PERF_MAP=1, emitted code is named for perf, a line per instruction."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jit
from jit.backend import perf_map


def test_lines_name_each_instruction_with_code() -> None:
    lines = perf_map.lines(0x1000, [0, 0x10, 0x10, 0x24], ["ENTRY", "COPY", "JUMP", "RETURN"], 0x30)
    # an instruction without code (a dropped jump) has no line; each size runs to the next one's start
    assert lines == ["1000 10 cpjit:ENTRY\n", "1010 14 cpjit:JUMP\n", "1024 c cpjit:RETURN\n"]


def test_compiling_writes_the_map_only_when_asked(tmp_path: Path) -> None:
    program = textwrap.dedent("""
        import os, jit
        from jit.backend import perf_map
        def add(a, b):
            return a + b
        fast = jit.compile(add, strict=True)
        assert fast(2, 3) == 5
        path = perf_map.path()
        if os.path.exists(path):
            with open(path) as map_file:
                print(map_file.read(), end="")
            os.remove(path)
    """)
    script = tmp_path / "program.py"  # jit.compile reads the function's source
    script.write_text(program)
    for enabled in ("1", "0"):
        environment = {**os.environ, perf_map.ENVIRONMENT_VARIABLE: enabled,
                       "PYTHONPATH": str(Path(jit.__file__).parent.parent)}  # this checkout's jit
        written = subprocess.run([sys.executable, str(script)], env=environment, capture_output=True, text=True,
                                 check=True).stdout
        if enabled == "0":
            assert written == ""
            continue
        names = [line.split()[2] for line in written.splitlines()]
        assert "cpjit:ENTRY" in names and all(name.startswith("cpjit:") for name in names)
        for line in written.splitlines():
            start, size = (int(field, 16) for field in line.split()[:2])
            assert start > 0 and size > 0
