"""Run edgesim's CLI as a user would, in a child process under a memory limit and a time limit.

Hostile input must end in a clear error, not in a memory blow-up or a hang;
an in-process test could not tell (a 256 GB allocation would take the test
runner down with it). One child runs a whole batch of command lines, so the
start-up (torch's import) is paid once.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MEMORY_LIMIT = 3 * 1024**3
"""Address space of the child (torch alone maps about 1 GiB of it)."""

_DRIVER = """
import contextlib, io, json, os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]),) * 2)
from edgesim.cli import main
outcomes = []
for cwd, argv in json.load(sys.stdin):
    os.chdir(cwd)
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse refusing an argument
            code = exc.code
    outcomes.append({"code": code, "err": err.getvalue(), "out": out.getvalue()})
json.dump(outcomes, sys.stdout)
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    err: str
    out: str


def run_cli_bounded(
    commands: list[tuple[Path, list[str]]], timeout_s: float = 600
) -> list[Outcome]:
    """Exit code and output of each command line, run in its folder (its relative paths).

    Fails the test if the child process dies (out of memory) or hangs.
    """
    child = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(MEMORY_LIMIT)],
        input=json.dumps([(str(cwd), argv) for cwd, argv in commands]),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    return [Outcome(**o) for o in json.loads(child.stdout)]


def fingerprint(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``: the user's files must come out byte-identical."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
