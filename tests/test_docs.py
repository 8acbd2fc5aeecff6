"""The runnable examples of the documentation: every ```python block of docs/python.md, in order, in one
interpreter, from a folder where data/ is the source tree's (as from the top of the checkout). Each block's own
asserts check its numbers; an exception fails the test. (docs/cpp.md's program: tests/test_install.sh.)

Usage: test_docs.py FPSOLVE SOURCE_DIR      (the package is the build's: FPSOLVE/../../python)
"""
import os
import re
import sys
import tempfile
import traceback

fpsolve_binary, source = sys.argv[1], sys.argv[2]
package = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(fpsolve_binary))), "python")
if not os.path.exists(os.path.join(package, "fpsolve")) or not any(
        n.startswith("_core") for n in os.listdir(os.path.join(package, "fpsolve"))):
    print("the Python module was not built (no pybind11): nothing to run")
    sys.exit(0)
sys.path.insert(0, package)

text = open(os.path.join(source, "docs", "python.md")).read()
blocks = re.findall(r"```python\n(.*?)```", text, re.S)
failures = 0
with tempfile.TemporaryDirectory() as work:
    os.symlink(os.path.join(source, "data"), os.path.join(work, "data"))
    os.chdir(work)
    scope = {"__name__": "__docs__"}
    for k, block in enumerate(blocks):
        try:
            exec(compile(block, f"docs/python.md block {k + 1}", "exec"), scope)
            print(f"ok   block {k + 1}")
        except Exception:
            failures += 1
            print(f"FAIL block {k + 1}:\n{block}")
            traceback.print_exc()
            break  # later blocks use this one's names
print(f"{len(blocks)} blocks, {failures} failure(s)")
sys.exit(1 if failures or not blocks else 0)
