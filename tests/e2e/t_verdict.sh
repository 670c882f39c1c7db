# shellcheck shell=bash
# End-to-end tests of per-object verdicts (combined score, level, --min-score, --levels) and of
# matched strings (--strings). Sourced by e2e.sh.

verdict_fixture() {
  mkdir -p "$T/v"
  printf 'aaa GOODMARKER bbb GOODMARKER\001\002\n' >"$T/v/two"   # all three rules
  printf 'only aaa here\n' >"$T/v/one"                          # the weak rule only
  cat >"$T/v.yar" <<'Y'
rule strong : t { meta: score = 70 strings: $a = "GOODMARKER" $b = "bbb" condition: $a and $b }
rule weak { meta: score = 50 strings: $x = "aaa" condition: $x }
rule many { meta: score = 10 strings: $m = "GOODMARKER" $n = /GOOD[A-Z]/ condition: #m > 0 and #n > 0 }
Y
}

test_verdict_levels() {
  verdict_fixture
  run 1 abj --no-default-pack --rules "$T/v.yar" "$T/v"
  # Every finding carries its object's combined score (THOR's formula) and level.
  $PY - "$T/out" "$T/v/" <<'EOF'
import json, sys
got = {}
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "finding":
        got.setdefault(ev["path"][len(sys.argv[2]):], set()).add((ev["object_score"], ev["level"]))
    if ev["event"] == "summary":
        assert ev["suppressed"] == 0, ev
# two: 70, 50, 10 -> 1-(.3)(.75)(.975) = 78.06 -> 78 warning; one: 50 -> notice
assert got == {"two": {(78, "warning")}, "one": {(50, "notice")}}, got
EOF
  run 1 ab scan --no-progress --no-default-pack --rules "$T/v.yar" "$T/v"
  assert_contains "$T/out" "strong [t] (yara default; score 70; object 78 warning)"
  # --min-score reports whole objects at or above it; the rest are counted, not lost silently.
  run 1 abj --no-default-pack --rules "$T/v.yar" --min-score 60 "$T/v"
  assert_eq "$(count finding)" 3 "only the object at 78"
  assert_eq "$(summary_field suppressed)" 1 "the weak object's finding counted"
  run 1 ab scan --no-progress --no-default-pack --rules "$T/v.yar" --min-score 60 "$T/v"
  assert_contains "$T/out" "(1 under --min-score not shown)"
  run 0 abj --no-default-pack --rules "$T/v.yar" --min-score 90 "$T/v"
  # --levels moves the thresholds.
  run 1 abj --no-default-pack --rules "$T/v.yar" --levels 78,70,10 "$T/v"
  assert_contains "$T/out" '"object_score":78,"level":"alert"'
  run 2 ab scan --levels 50,60,10 "$T/v"
  assert_contains "$T/err" "--levels: expected"
  run 2 ab scan --min-score 101 "$T/v"
  for bad in 80,,60,40 ,80,60,40 80,60,40, "80, 60,40" 80,60 +80,60,40; do
    run 2 ab scan --levels "$bad" "$T/v"
  done
}

test_verdict_strings() {
  verdict_fixture
  # As yara -s: identifiers, offsets, the matched bytes (escaped), in the console and in JSON.
  run 1 ab scan --no-progress --no-default-pack --rules "$T/v.yar" --strings "$T/v/two"
  assert_contains "$T/out" "    0x4 \$a: GOODMARKER"
  assert_contains "$T/out" "    0x13 \$a: GOODMARKER"
  assert_contains "$T/out" "    0xf \$b: bbb"
  yara -s "$T/v.yar" "$T/v/two" >"$T/yara" 2>/dev/null
  assert_contains "$T/yara" "0x13:\$a: GOODMARKER"
  run 1 abj --no-default-pack --rules "$T/v.yar" --strings "$T/v/two"
  $PY - "$T/out" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "finding" and ev["rule"] == "strong":
        assert ev["strings"] == [
            {"id": "$a", "offset": 4, "length": 10, "data": "GOODMARKER"},
            {"id": "$a", "offset": 19, "length": 10, "data": "GOODMARKER"},
            {"id": "$b", "offset": 15, "length": 3, "data": "bbb"}], ev["strings"]
        break
else:
    sys.exit("no finding of rule strong")
EOF
  # Without --strings there are none; past 16 matches the rest are counted.
  run 1 abj --no-default-pack --rules "$T/v.yar" "$T/v/two"
  if grep -q '"strings"' "$T/out"; then fail "strings without --strings"; fi
  for i in $(seq 30); do printf 'GOODMARKER '; done >"$T/v/many"
  run 1 abj --no-default-pack --rules "$T/v.yar" --strings "$T/v/many"
  assert_contains "$T/out" '"strings_omitted":44'
  run 1 ab scan --no-progress --no-default-pack --rules "$T/v.yar" --strings "$T/v/many"
  assert_contains "$T/out" "(44 more matches not shown)"
  # Bytes that are not text are escaped, and carried exactly in JSON.
  printf 'rule bin { strings: $h = { 47 4f 4f 44 4d 41 52 4b 45 52 01 02 } condition: $h }\n' >"$T/b.yar"
  run 1 ab scan --no-progress --no-default-pack --rules "$T/b.yar" --strings "$T/v/two"
  assert_contains "$T/out" '$h: GOODMARKER\x01\x02'
}
