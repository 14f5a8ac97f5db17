#!/usr/bin/env bats
# .github/workflows/bench.yml: valid YAML, run on push and pull requests, every `make`
# target and `concbench` subcommand it names exists, the results are uploaded, and both
# series go to github-action-benchmark with the right tool.

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
WORKFLOW=$REPO/.github/workflows/bench.yml

setup() {
  python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml not installed (scripts/deps.sh)"
}

# yq_py EXPR: evaluate a Python expression on the parsed workflow `w` and print the result
# (`steps` is the bench job's list of steps; `runs` every run: script joined).
yq_py() {
  python3 - "$WORKFLOW" "$1" <<'PY'
import sys, yaml
w = yaml.safe_load(open(sys.argv[1]))
on = w.get("on", w.get(True))          # YAML 1.1 reads a bare `on` as true
steps = w["jobs"]["bench"]["steps"]
runs = "\n".join(s.get("run", "") for s in steps)
r = eval(sys.argv[2])
print("\n".join(map(str, r)) if isinstance(r, (list, set, tuple)) else r)
PY
}

@test "the workflow is valid YAML with a job of steps" {
  run python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$WORKFLOW"
  assert_success
  run yq_py 'len(steps) > 3 and all("run" in s or "uses" in s for s in steps)'
  assert_output True
}

@test "the workflow runs make bench-ci on push and on pull requests" {
  run yq_py 'sorted(on)'
  assert_success
  assert_line pull_request
  assert_line push
  run yq_py '[s["name"] for s in steps if "run" in s and any(l.strip().startswith("make bench-ci") for l in s["run"].splitlines())]'
  assert_output "Performance gate"
  # and no step skips it: the gate has no condition of its own
  run yq_py '[s.get("if") for s in steps if s.get("id") == "gate"]'
  assert_output None
}

@test "every make target the workflow names exists in the Makefile" {
  # make's own database of explicit targets: -p prints it, -q runs nothing
  targets=$(make -C "$REPO" -pRrq -f Makefile : 2>/dev/null |
            awk -F: '/^[a-zA-Z0-9][^$#\/\t=]*:([^=]|$)/ { split($1, t, " "); for (i in t) print t[i] }' |
            sort -u)
  named=$(yq_py 'runs' | grep -oE '(^|[^a-z/-])make( +-[^ ]+)*( +[a-zA-Z][a-zA-Z0-9_-]*)+' |
          sed -E 's/^[^m]*make//' | tr ' ' '\n' | grep -vE '^(-|$)|=' | sort -u)
  [ -n "$named" ] || fail "no make target found in the workflow"
  for t in $named; do
    grep -qx "$t" <<<"$targets" || fail "the workflow runs 'make $t', which the Makefile lacks"
  done
  # and the check itself would catch a missing one
  ! grep -qx no-such-target <<<"$targets"
}

@test "every concbench subcommand the workflow runs exists" {
  help=$("$BIN/concbench" --help)
  used=$(yq_py 'runs' | grep -oE 'bin/concbench +[a-z]+' | awk '{ print $2 }' | sort -u)
  [ -n "$used" ]
  for c in $used; do
    grep -q "concbench $c " <<<"$help" || fail "bin/concbench $c is not a subcommand"
  done
}

@test "the results directory is uploaded on every run, passed or failed" {
  run yq_py '[(s["with"]["path"], s.get("if")) for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]'
  assert_output "('build/bench-ci/', 'always()')"
  # the directory make bench-ci writes to
  grep -q 'OUT=$(BUILD)/bench-ci' "$REPO/Makefile"
}

@test "on main, times go to github-action-benchmark as customSmallerIsBetter and speedups as customBiggerIsBetter, with no external service" {
  run yq_py '[(s["with"]["tool"], s["with"]["output-file-path"]) for s in steps if s.get("uses", "").startswith("benchmark-action/github-action-benchmark@")]'
  assert_line "('customSmallerIsBetter', '\${{ steps.series.outputs.times }}')"
  assert_line "('customBiggerIsBetter', '\${{ steps.series.outputs.speedup }}')"
  # only on main, and kept in a JSON file carried by the Actions cache (no gh-pages, no token)
  run yq_py 'all(s.get("if", "").startswith("github.event_name == '"'push'"' && github.ref == '"'refs/heads/main'"'") and "external-data-json-path" in s["with"] and "github-token" not in s["with"] for s in steps if "github-action-benchmark" in s.get("uses", ""))'
  assert_output True
}

@test "an inconclusive gate is a warning that keeps the run out of the history, matched on bench-ci's own words" {
  run yq_py '[s["run"] for s in steps if s.get("id") == "gate"]'
  assert_output --partial "grep -q '^bench-ci: inconclusive'"
  # the words the workflow looks for are the ones scripts/bench-ci.sh prints
  grep -q 'echo "bench-ci: inconclusive' "$REPO/scripts/bench-ci.sh"
  run yq_py 'all("steps.gate.outputs.inconclusive != '"'true'"'" in s["if"] for s in steps if "refs/heads/main" in s.get("if", ""))'
  assert_output True
}
