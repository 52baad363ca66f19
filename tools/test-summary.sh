#!/usr/bin/env bash
# Sums cargo test's "test result:" lines from a log into one closing line.
set -euo pipefail
awk '/^test result:/ {
  for (i = 1; i <= NF; i++) {
    if ($(i+1) ~ /^passed/) p += $i
    if ($(i+1) ~ /^failed/) f += $i
    if ($(i+1) ~ /^ignored/) s += $i
  }
}
END { printf "summary: %d passed, %d failed, %d skipped\n", p, f, s; exit (f > 0) }' "$1"
