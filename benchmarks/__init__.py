"""Speed benchmarks of inpaint_lib against a practical limit and the conventional way.

Run ``python -m benchmarks.bench [--quick] [--out results/bench]``; see `benchmarks.bench`.
"""
