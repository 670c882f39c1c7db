# t_rulesload.sh: what rule and IOC loading says about what it did not load (sourced by e2e.sh).

# The status of each error event in $T/out, space-separated (no summary needed: a load that
# fails stops before the sweep).
rl_error_status() {
  $PY -c 'import json, sys
evs = [json.loads(l) for l in sys.stdin if l.strip()]
print(" ".join(e["status"] for e in evs if e["event"] == "error"))' <"$T/out"
}

rl_fixture() {
  mkdir -p "$T/r" "$T/t"
  printf 'rule top { strings: $a = "TOPMARK" condition: $a }\n' >"$T/r/top.yar"
  printf 'rule deep { strings: $a = "DEEPMARK" condition: $a }\n' >"$T/deep.src"
  printf 'TOPMARK DEEPMARK\n' >"$T/t/hit.txt"
}

test_rules_empty_folder() {
  rl_fixture
  mkdir -p "$T/empty"
  # with the default pack the sweep runs, but the folder that gave nothing is an error
  run 2 ab scan --no-progress --rules "$T/empty" "$T/t"
  assert_contains "$T/err" "error: $T/empty: no YARA rule files in folder"
  run 2 abj --rules "$T/empty" "$T/t"
  assert_eq "$(rl_error_status)" "not-found" "status of the empty folder"
}

test_rules_compiled_folder() {
  command -v yarac >/dev/null || fail "yarac not installed (scripts/deps installs yara)"
  rl_fixture
  mkdir -p "$T/c"
  yarac "$T/r/top.yar" "$T/c/top.yarc"
  run 1 abj --no-default-pack --rules "$T/c" "$T/t"
  assert_eq "$(findings "$T/t/")" "hit.txt	top" "compiled rules from a folder"
  # known by content, not name; next to sources (separate rule sets, both run)
  yarac "$T/deep.src" "$T/r/deep.compiled"
  run 1 abj --no-default-pack --rules "$T/r" "$T/t"
  assert_eq "$(findings "$T/t/" | sort | tr '\n' ' ')" "hit.txt	deep hit.txt	top " "mixed folder"
}

test_rules_recurse() {
  rl_fixture
  mkdir -p "$T/r/sub/deeper" "$T/r/.git"
  cp "$T/deep.src" "$T/r/sub/deeper/deep.yar"
  printf 'rule hidden { condition: true }\n' >"$T/r/.git/h.yar"
  run 1 abj --no-default-pack --rules "$T/r" "$T/t"
  assert_eq "$(findings "$T/t/" | sort | tr '\n' ' ')" "hit.txt	deep hit.txt	top " "nested rules"
  run 1 abj --no-default-pack --rules-no-recurse --rules "$T/r" "$T/t"
  assert_eq "$(findings "$T/t/")" "hit.txt	top" "--rules-no-recurse"
  [ ! -s "$T/err" ] || { cat "$T/err"; fail "--rules-no-recurse said something"; }
  # a folder whose rules are all below it is empty without recursion
  run 2 ab scan --no-progress --no-default-pack --rules-no-recurse --rules "$T/r/sub" "$T/t"
  assert_contains "$T/err" "no YARA rule files in folder"
}

test_rules_skipped_named() {
  rl_fixture
  mkdir -p "$T/r/docs"
  printf '# rules\n' >"$T/r/README.md"
  printf 'x\n' >"$T/r/docs/notes.txt"
  mkfifo "$T/r/pipe"
  printf 'rule off { condition: true }\n' >"$T/r/_off.yar"
  run 1 ab scan --no-progress --no-default-pack --rules "$T/r" "$T/t"
  assert_contains "$T/err" "warning: $T/r/README.md: neither a .yar/.yara file nor compiled YARA rules: skipped"
  assert_contains "$T/err" "warning: $T/r/docs/notes.txt: neither"
  assert_contains "$T/err" "warning: $T/r/pipe: not a regular file: skipped"
  grep -q "_off.yar" "$T/err" && fail "an '_' name was named"
  assert_eq "$(grep -c warning "$T/err")" 3 "one warning per skipped file"
}

test_missing_content_files() {
  rl_fixture
  run 2 abj --no-default-pack --ioc "$T/nope.ioc" "$T/t"
  assert_eq "$(grep -c . "$T/err")" 1 "one line for a missing -i"
  assert_contains "$T/err" "$T/nope.ioc"
  assert_eq "$(rl_error_status)" "not-found" "status of a missing -i"
  run 2 abj --no-default-pack --rules "$T/nope.yar" "$T/t"
  assert_eq "$(grep -c . "$T/err")" 1 "one line for a missing -r"
  assert_eq "$(rl_error_status)" "not-found" "status of a missing -r"
}

test_rule_warning_count() {
  rl_fixture
  printf 'rule slow1 { strings: $a = /a.*b/ condition: $a }\nrule slow2 { strings: $a = /c.*d/ condition: $a }\n' >"$T/r/slow.yar"
  run 1 ab scan --no-progress --no-default-pack --rules "$T/r" "$T/t"
  assert_contains "$T/err" "antibody: 2 YARA rules with compiler warnings (slow strings...); --verbose shows them"
  grep -q "note:" "$T/err" && fail "notes shown without --verbose"
  run 1 ab scan --no-progress --no-default-pack --verbose --rules "$T/r" "$T/t"
  assert_contains "$T/err" "note: $T/r/slow.yar:1: rule slow1:"
  assert_contains "$T/err" "note: $T/r/slow.yar:2: rule slow2:"
  assert_eq "$(grep -c "note:" "$T/err")" 2 "once per rule"
  grep -q "compiler warnings" "$T/err" && fail "count line under --verbose"
  run 1 ab scan --no-progress --no-default-pack -q --rules "$T/r" "$T/t"
  [ ! -s "$T/err" ] || { cat "$T/err"; fail "-q said something"; }
}
