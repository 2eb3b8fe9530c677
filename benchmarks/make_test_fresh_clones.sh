#!/bin/bash
# `make test` in a fresh clone of each commit given, one after the other, as CI runs it (no data/,
# CI=true, no stdin): wall, CPU and pytest totals in /tmp/fc-<ref>.log, per test in /tmp/fc-suite-<ref>.xml
# (then `python -m benchmarks.report_time --results /tmp/none --tests /tmp/fc-suite-<ref>.xml`).
# Usage: bash benchmarks/make_test_fresh_clones.sh REF [REF ...]   (clones this checkout: /work/main here)
REPO=$(git rev-parse --show-toplevel)
for ref in "$@"; do
  rm -rf /tmp/fc && git clone -q "$REPO" /tmp/fc && cd /tmp/fc && git checkout -q $ref
  export CI=true
  s=$(date +%s.%N)
  /usr/bin/time -f "%e s wall, %U s user, %S s sys" make test PYTEST_ADDOPTS="--durations=30 --junitxml=/tmp/fc-suite-$ref.xml" < /dev/null > /tmp/fc-$ref.log 2>&1
  rc=$?
  e=$(date +%s.%N)
  echo "$ref rc=$rc wall $(python3 -c "print(round($e-$s,1))") s; $(tail -1 /tmp/fc-$ref.log); $(grep -E 'passed|failed' /tmp/fc-$ref.log | tail -1)"
  cd /tmp
done
