"""What the script tests share: a check that records failures, fpsolve run as a subprocess, and the exit.

    from checks import check, fpsolve_runner, finish
    run = fpsolve_runner(sys.argv[1])
    check(run("inspect", "out.h5").returncode == 0, "inspect exits 0")
    finish()
"""
import subprocess
import sys

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def fpsolve_runner(fpsolve):
    def run(*args):
        return subprocess.run([fpsolve, *args], capture_output=True, text=True)

    return run


def finish():
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)
