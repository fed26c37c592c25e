"""Code the tests and benchmarks share that the product does not ship: synthetic MLflow runs, the real CLI
driven interactively (pexpect + pyte), transcript JSONL helpers and a test-only History palette provider.

Importable as `tests.support` from the project root (pytest puts it on the path; `python -m benchmarks`
runs from there).
"""
