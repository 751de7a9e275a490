"""How fast is the course? Training throughput and whole-course execution time.

Run with ``make bench`` (``python -m benchmarks``); see ``python -m benchmarks --help``.
"""
