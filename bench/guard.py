"""Spillage guard benchmark: `python bench/guard.py` or `python -m bench.guard`."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import the bench package from the checkout
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.guardbench.main import main

if __name__ == "__main__":
    sys.exit(main())
