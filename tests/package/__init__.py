"""Tests of the package stage; ``SAMPLE`` is a small project (two sub-charts + an umbrella)."""

from pathlib import Path

SAMPLE = Path(__file__).resolve().parent / "sample"
