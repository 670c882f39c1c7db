# Rule scores outside 0..100 (or not numbers): one load warning per rule, findings clamped.
# Sourced by e2e.sh; listed in tests/e2e/meson.build.

test_rule_score_warnings() {
  cat >"$T/s.yar" <<'EOF2'
rule Score_High { meta: score = 150 strings: $a = "SCORE_MARK_91c2" condition: $a }
rule Score_Low { meta: score = -5 score = 200 strings: $a = "SCORE_MARK_91c2" condition: $a }
rule Score_Text { meta: score = "high" strings: $a = "SCORE_MARK_91c2" condition: $a }
rule Score_Fine { meta: score = "90" strings: $a = "SCORE_MARK_91c2" condition: $a }
rule Score_None { strings: $a = "SCORE_MARK_91c2" condition: $a }
EOF2
  mkdir -p "$T/tree"
  echo SCORE_MARK_91c2 >"$T/tree/a.txt"
  echo SCORE_MARK_91c2 >"$T/tree/b.txt"
  run 1 ab scan --no-progress --no-default-pack -r "$T/s.yar" "$T/tree"
  assert_contains "$T/err" "antibody: warning: rule Score_High: score 150 clamped to 100"
  assert_contains "$T/err" "antibody: warning: rule Score_Low: score -5 clamped to 0"
  assert_contains "$T/err" 'antibody: warning: rule Score_Text: score "high" is not a number: read as 0'
  # once per rule, whatever the number of matching files; none for good scores
  assert_eq "$(grep -c 'warning: rule' "$T/err")" 3 "warnings"
  assert_contains "$T/out" "a.txt: Score_High (yara default; score 100; object 100 alert)"
  # JSON: warning events naming the rule
  run 1 abj --no-default-pack -r "$T/s.yar" "$T/tree"
  assert_eq "$(count warning)" 3 "warning events"
  assert_contains "$T/out" '"path":"rule Score_High"'
  assert_contains "$T/out" '"message":"score 150 clamped to 100"'
  # --strict: warnings are fatal
  run 2 abj --strict --no-default-pack -r "$T/s.yar" "$T/tree"
  assert_contains "$T/err" "with --strict: not scanning"
}
