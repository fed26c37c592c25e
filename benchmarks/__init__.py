"""Benchmarks: one ``bench_<area>.py`` script per area, each with a ``main()``.

``python -m benchmarks`` runs them all.
"""
