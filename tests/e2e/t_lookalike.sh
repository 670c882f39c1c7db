# Lookalike names (docs/lookalike.md): file and process names imitating protected names.
# Sourced by e2e.sh; listed in tests/e2e/meson.build.

# "name<TAB>matcher<TAB>rule<TAB>score<TAB>severity<TAB>reason" per lookalike finding in $T/out,
# sorted (name: the base name of the path, or the process name).
la_findings() {
  $PY -c '
import json, os, sys
rows = []
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "finding" and e["matcher"] == "lookalike":
        name = e.get("process_name") or os.path.basename(e["path"])
        rows.append("\t".join([name, e["matcher"], e["rule"], str(e["score"]), e["severity"],
                               e["reason"], e["meta"]["imitates"], e["namespace"]]))
print("\n".join(sorted(rows)))' <"$T/out"
}

test_lookalike_files() {
  mkdir -p "$T/tree/sub"
  for n in svch0st.exe svchost.exe SVCHOST.EXE lsas.exe taskhostw.exe sub/scvhost.exe \
    sshd- cron kworkerd rsyslog svchost.ex_ notes.txt; do
    echo "benign text" >"$T/tree/$n"
  done
  run 1 abj "$T/tree"
  la_findings >"$T/got"
  cat >"$T/want" <<'EOF'
kworkerd	lookalike	kworker	60	medium	name one edit from kworker	kworker	builtin
lsas.exe	lookalike	lsass.exe	60	medium	name one edit from lsass.exe	lsass.exe	builtin
scvhost.exe	lookalike	svchost.exe	60	medium	name one edit from svchost.exe	svchost.exe	builtin
svch0st.exe	lookalike	svchost.exe	60	medium	name a homoglyph spelling of svchost.exe	svchost.exe	builtin
EOF
  diff "$T/want" "$T/got" || fail "lookalike findings differ"
  assert_eq "$(count finding)" 4 "only lookalike findings"
  # The console names the matcher and the reason
  run 1 ab scan --no-progress "$T/tree"
  assert_contains "$T/out" "svch0st.exe: svchost.exe (lookalike; score 60; object 60 warning) name a homoglyph spelling of svchost.exe"
  # Off: nothing found
  run 0 abj --no-lookalike "$T/tree"
  assert_eq "$(count finding)" 0 "--no-lookalike"
}

test_lookalike_iocs() {
  mkdir -p "$T/tree"
  echo "benign" >"$T/tree/acmeagemt.exe"
  echo "benign" >"$T/tree/acmeagent.exe"
  printf 'protected-name\tAcmeAgent.exe\tour EDR agent\t\t90\n' >"$T/p.ioc"
  run 1 abj --no-default-pack --ioc "$T/p.ioc" "$T/tree"
  la_findings >"$T/got"
  printf 'acmeagemt.exe\tlookalike\tacmeagent.exe\t90\tcritical\tname one edit from acmeagent.exe\tacmeagent.exe\t%s\n' \
    "$T/p.ioc:1" >"$T/want"
  diff "$T/want" "$T/got" || fail "protected-name IOC finding differs"
  assert_contains "$T/out" '"description":"our EDR agent"'
  # A name too short to protect is a malformed line; a path is not a name
  printf 'protected-name\tabc\nprotected-name\tbin/x\n' >"$T/bad.ioc"
  run 1 abj --no-default-pack --ioc "$T/p.ioc" --ioc "$T/bad.ioc" "$T/tree"  # findings win
  assert_contains "$T/err" "bad.ioc:1: protected-name: shorter than 4 characters"
  assert_contains "$T/err" "bad.ioc:2: protected-name: a file or process name"
}

test_lookalike_process() {
  # A copy of sleep whose process name imitates a name protected by an IOC (not a built-in one:
  # a --processes sweep running at the same time elsewhere must not see a lookalike).
  printf 'protected-name\tabtestagentd\tantibody e2e\n' >"$T/p.ioc"
  cp /bin/sleep "$T/abtestagemtd"
  "$T/abtestagemtd" 60 </dev/null >/dev/null 2>&1 &
  local pid=$!
  BG_PIDS+=("$pid")
  for _ in $(seq 50); do [ "$(cat /proc/$pid/comm 2>/dev/null)" = abtestagemtd ] && break; sleep 0.1; done
  run 1 abj --no-default-pack --ioc "$T/p.ioc" --pid "$pid"
  la_findings >"$T/got"
  printf 'abtestagemtd\tlookalike\tabtestagentd\t60\tmedium\tprocess name one edit from abtestagentd\tabtestagentd\t%s\n' \
    "$T/p.ioc:1" >"$T/want"
  diff "$T/want" "$T/got" || fail "process lookalike finding differs"
  assert_contains "$T/out" "\"pid\":$pid"
  run 0 abj --no-default-pack --no-lookalike --ioc "$T/p.ioc" --pid "$pid"
  assert_eq "$(count finding)" 0 "--no-lookalike on a process"
  kill "$pid" 2>/dev/null || true
}
