"""The two stages as plain functions: one input message in, one record out or a StageError.

The faust runtime, the ``newsflow clean``/``enrich`` commands, the tests and the benchmarks
all call these same functions.
"""
