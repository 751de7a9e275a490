"""The course's command-line tools (``python tools/course.py``); a package so that
``from tools import course`` works from the repository root (the benchmarks)."""
