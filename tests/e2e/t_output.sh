# shellcheck shell=bash
# End-to-end tests of the reports: checked writes, report files, several outputs, the console.
# Sourced by e2e.sh (helpers and $T come from there).

# A tree with one finding, and its rule.
out_fixture() {
  mkdir -p "$T/o"
  printf 'GOODMARKER\n' >"$T/o/hit"
  printf 'x\n' >"$T/o/miss"
  printf 'rule good : tag1 tag2 { strings: $a = "GOODMARKER" condition: $a }\n' >"$T/g.yar"
}

# last_line_complete FILE: the file is empty or ends with a newline, and every line is JSON.
last_line_complete() {
  $PY - "$1" <<'EOF'
import json, sys
data = open(sys.argv[1], "rb").read()
if data and not data.endswith(b"\n"):
    sys.exit("report ends mid-line: %r" % data[-80:])
for n, line in enumerate(data.split(b"\n")[:-1], 1):
    json.loads(line)
EOF
}

# in_pty OUT CMD...: runs CMD with stdout and stderr on a pseudo-terminal; the screen bytes in OUT.
in_pty() {
  local out=$1; shift
  $PY - "$out" "$@" <<'EOF'
import os, pty, sys
out, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
_, status = os.waitpid(pid, 0)
open(out, "wb").write(data)
sys.exit(os.waitstatus_to_exitcode(status))
EOF
}

test_output_full() {
  out_fixture
  # A full device: the first failed write is said once, the sweep stops, exit 2 (not 1).
  run 2 abj --no-default-pack --rules "$T/g.yar" -o /dev/full "$T/o"
  assert_contains "$T/err" "cannot write the report to /dev/full: No space left on device"
  assert_eq "$(grep -c 'cannot write the report' "$T/err")" 1 "said once"
  # The same on standard output, JSON and console.
  set +e
  "$ANTIBODY" scan --json --no-progress --no-default-pack --rules "$T/g.yar" "$T/o" >/dev/full 2>"$T/err"
  local rc=$?
  "$ANTIBODY" scan --no-progress --no-default-pack --rules "$T/g.yar" "$T/o" >/dev/full 2>"$T/err2"
  local rc2=$?
  set -e
  assert_eq "$rc" 2 "--json >/dev/full"
  assert_contains "$T/err" "cannot write the report to standard output"
  assert_eq "$rc2" 2 "console >/dev/full"
  assert_contains "$T/err2" "cannot write the report to standard output"
  # --continue-on-output-error: the sweep goes on (the console on stdout gets everything) and
  # says how much of the report was lost; still exit 2.
  run 2 abj --no-default-pack --rules "$T/g.yar" -o /dev/full --continue-on-output-error "$T/o"
  assert_contains "$T/err" "going on without it"
  assert_contains "$T/err" "not written to /dev/full"
  cp "$T/out" "$T/console"
  assert_contains "$T/console" "good"
  assert_contains "$T/console" "2 objects"
}

test_output_file_limit() {
  # A file size limit (as a full disk): the report is cut back to whole lines, and the error said.
  out_fixture
  mkdir -p "$T/many"
  for i in $(seq 300); do printf 'GOODMARKER %d\n' "$i" >"$T/many/f$i"; done
  set +e
  bash -c 'ulimit -f 16; trap "" XFSZ; exec "$@"' _ "$ANTIBODY" scan --json --no-progress \
    --no-default-pack --rules "$T/g.yar" -o "$T/r.jsonl" "$T/many" >"$T/out" 2>"$T/err"
  local rc=$?
  set -e
  assert_eq "$rc" 2 "exit status on a failed report"
  assert_contains "$T/err" "cannot write the report to $T/r.jsonl: File too large"
  last_line_complete "$T/r.jsonl"
  [ "$(stat -c %s "$T/r.jsonl")" -le 16384 ] || fail "report over the limit"
  [ "$(wc -l <"$T/r.jsonl")" -ge 10 ] || fail "report lost its first lines"
}

test_output_file_modes() {
  out_fixture
  run 1 abj --no-default-pack --rules "$T/g.yar" -o "$T/r.jsonl" "$T/o"
  local first; first=$(wc -l <"$T/r.jsonl")
  # An existing report is not overwritten without --force.
  run 2 abj --no-default-pack --rules "$T/g.yar" -o "$T/r.jsonl" "$T/o"
  assert_contains "$T/err" "exists: not overwritten"
  assert_eq "$(wc -l <"$T/r.jsonl")" "$first" "report untouched"
  run 1 abj --no-default-pack --rules "$T/g.yar" -o "$T/r.jsonl" --append "$T/o"
  assert_eq "$(wc -l <"$T/r.jsonl")" "$((first * 2))" "--append adds"
  run 1 abj --no-default-pack --rules "$T/g.yar" -o "$T/r.jsonl" --force "$T/o"
  assert_eq "$(wc -l <"$T/r.jsonl")" "$first" "--force overwrites"
  # Never through a symlink, even with --force, and the message says why.
  ln -s "$T/victim" "$T/link.jsonl"
  printf 'keep\n' >"$T/victim"
  run 2 abj --no-default-pack --rules "$T/g.yar" -o "$T/link.jsonl" --force "$T/o"
  assert_contains "$T/err" "is a symbolic link: refused"
  assert_eq "$(cat "$T/victim")" "keep" "symlink target untouched"
  run 2 abj --no-default-pack --rules "$T/g.yar" --force "$T/o"
  assert_contains "$T/err" "apply to --output"
}

test_output_fanout() {
  out_fixture
  # --json -o FILE: JSON in the file and the console report on stdout, in one run.
  run 1 abj --no-default-pack --rules "$T/g.yar" -o "$T/r.jsonl" "$T/o"
  assert_contains "$T/out" "[HIGH] $T/o/hit: good"
  assert_contains "$T/out" "antibody: 2 objects"
  cp "$T/r.jsonl" "$T/j"; cp "$T/j" "$T/out"
  assert_eq "$(count finding)" 1 "JSON finding"
  # Every JSON line names the host and the run.
  $PY - "$T/j" "$(hostname)" <<'EOF'
import json, sys
ids = set()
for line in open(sys.argv[1]):
    ev = json.loads(line)
    assert ev["host"]["name"] == sys.argv[2], ev
    ids.add(ev["sweep_id"])
assert len(ids) == 1 and len(ids.pop()) == 36, ids
EOF
  run 1 abj --no-default-pack --rules "$T/g.yar" -o "$T/r2.jsonl" --no-console "$T/o"
  [ ! -s "$T/out" ] || fail "--no-console printed: $(head -3 "$T/out")"
  # Load warnings are JSON events too.
  printf 'filename-regex\t(a)\\1\n' >"$T/warn.ioc"
  run 1 abj --no-default-pack --rules "$T/g.yar" --ioc "$T/warn.ioc" "$T/o"
  assert_eq "$(count warning)" 1 "warning event"
}

test_output_empty_sweep() {
  # A sweep that scanned nothing is exit 2 with the reason, unless --allow-empty.
  out_fixture
  mkfifo "$T/fifo"
  run 2 ab scan --no-progress --no-default-pack --rules "$T/g.yar" "$T/fifo"
  assert_contains "$T/err" "nothing was scanned: 1 skipped (special-file 1)"
  run 2 abj --no-default-pack --rules "$T/g.yar" --exclude '*' "$T/o"
  assert_eq "$(count error)" 1 "an error event"
  assert_eq "$(summary_field errors)" 1 "counted in the summary"
  run 0 abj --no-default-pack --rules "$T/g.yar" --allow-empty "$T/fifo"
}

test_output_console() {
  out_fixture
  # Plurals, tags and hashes on the finding line, and a hint when files were skipped.
  head -c 100 /dev/zero >"$T/big"
  run 1 ab scan --no-progress --no-default-pack --hash --rules "$T/g.yar" --max-filesize 50 "$T/o/hit" "$T/big"
  assert_contains "$T/out" "good [tag1,tag2] ("
  assert_contains "$T/out" "sha256=$(sha256sum <"$T/o/hit" | cut -d' ' -f1)"
  assert_contains "$T/out" "antibody: 1 object, "
  assert_contains "$T/out" "0 errors, 1 finding,"
  assert_contains "$T/out" "--list-skipped lists what was skipped"
  run 1 ab scan --no-progress --no-default-pack --list-skipped --rules "$T/g.yar" --max-filesize 50 "$T/o" "$T/big"
  assert_contains "$T/out" "[SKIP] $T/big (too-large, 100 bytes)"
  # A name cannot pose as the rest of a finding line.
  mkdir -p "$T/n"; printf 'GOODMARKER\n' >"$T/n/x: Fake_Rule (yara; score 100)"
  run 1 ab scan --no-progress --no-default-pack --rules "$T/g.yar" "$T/n"
  assert_contains "$T/out" "x\\x3a Fake_Rule (yara; score 100): good"
  # Processes are [PROC] in --list.
  set +e # this shell's memory may hold the rule's string
  "$ANTIBODY" scan --no-progress --no-default-pack --list --rules "$T/g.yar" --pid $$ >"$T/out" 2>&1
  set -e
  assert_contains "$T/out" "[PROC] pid:$$"
  # Colour on a terminal, but not with NO_COLOR (no-color.org); --color always wins.
  in_pty "$T/tty" "$ANTIBODY" scan --no-default-pack --rules "$T/g.yar" "$T/o" || true
  assert_contains "$T/tty" $'\033[1;31m[HIGH]'
  NO_COLOR=1 in_pty "$T/tty2" "$ANTIBODY" scan --no-default-pack --rules "$T/g.yar" "$T/o" || true
  if grep -q $'\033\\[1;' "$T/tty2"; then fail "colour despite NO_COLOR"; fi
  NO_COLOR=1 run 1 ab scan --no-progress --color always --no-default-pack --rules "$T/g.yar" "$T/o"
  assert_contains "$T/out" $'\033[1;31m'
}

test_output_packs_version() {
  run 0 ab packs apt29-2020
  assert_contains "$T/out" "apt29-2020"
  run 2 ab packs no-such-pack
  assert_contains "$T/err" "no built-in pack named 'no-such-pack'"
  run 0 ab packs --json
  $PY -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])][0]["pack"]' "$T/out"
  assert_contains "$T/out" '"pack":"apt29-2020"'
  run 0 ab --version
  assert_contains "$T/out" "libyara 4."
  assert_contains "$T/out" "vectorscan "
}

test_output_file_context() {
  # Every file finding gives the file's context: type from the magic, mode, owner, times.
  mkdir -p "$T/fc"
  printf 'MZ\220\000GOODMARKER\n' >"$T/fc/x.bin"
  chmod 0750 "$T/fc/x.bin"
  touch -m -d '2020-07-16 10:00:00 UTC' "$T/fc/x.bin"
  printf 'rule good { strings: $a = "GOODMARKER" condition: $a }\nrule good2 { strings: $a = "GOOD" condition: $a }\n' >"$T/g2.yar"
  run 1 abj --no-default-pack --rules "$T/g2.yar" "$T/fc"
  $PY - "$T/out" "$(id -un)" "$(id -gn)" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] != "finding":
        continue
    n += 1
    f = ev["file"]
    assert f["type"] == "EXE", f
    assert f["mode"] == "0750", f
    assert (f["owner"], f["group"]) == (sys.argv[2], sys.argv[3]), f
    assert f["mtime"] == "2020-07-16T10:00:00.000Z", f
    assert f["ctime"].startswith("20") and f["atime"].startswith("20"), f
assert n == 2, n
EOF
  run 1 ab scan --no-progress --no-default-pack --rules "$T/g2.yar" "$T/fc"
  assert_contains "$T/out" "    file: EXE, 15 bytes, mode 0750, owner $(id -un):$(id -gn), modified 2020-07-16 10:00:00Z"
  assert_eq "$(grep -c '    file: ' "$T/out")" 1 "context once per object"
}

test_output_load_event() {
  # A report starts with what the sweep ran with: versions, counts per source, a content digest
  # that depends on the content, not on where its files lie.
  out_fixture
  mkdir -p "$T/elsewhere"
  cp "$T/g.yar" "$T/elsewhere/copy.yar"
  printf 'md5\t%s\n' "$(printf 'zzz' | md5sum | cut -d' ' -f1)" >"$T/h.ioc"
  run 1 abj --rules "$T/g.yar" --ioc "$T/h.ioc" "$T/o"
  $PY - "$T/out" "$T/g.yar" "$T/h.ioc" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ev = lines[0]
assert ev["event"] == "load", ev
assert ev["libyara"].startswith("4.") and ev["vectorscan"] and ev["antibody"], ev
assert len(ev["digest"]) == 64, ev
src = [(s["kind"], s["name"], s["rules"], s["iocs"]) for s in ev["sources"]]
assert src[0][0:2] == ("pack", "apt29-2020") and src[0][2] > 0 and src[0][3] > 0, src
assert src[1:] == [("rules", sys.argv[2], 1, 0), ("iocs", sys.argv[3], 0, 1)], src
assert ev["rules"] == src[0][2] + 1 and ev["iocs"] == src[0][3] + 1, ev
open(sys.argv[1] + ".digest", "w").write(ev["digest"])
EOF
  local d1; d1=$(cat "$T/out.digest")
  run 1 abj --rules "$T/elsewhere/copy.yar" --ioc "$T/h.ioc" "$T/o"
  assert_contains "$T/out" "\"digest\":\"$d1\""
  run 1 abj --rules "$T/elsewhere/copy.yar" "$T/o"
  if grep -q "\"digest\":\"$d1\"" "$T/out"; then fail "digest does not depend on the IOCs"; fi
  run 1 ab scan --no-progress --rules "$T/g.yar" --ioc "$T/h.ioc" "$T/o"
  assert_contains "$T/err" "IOCs loaded"
  assert_contains "$T/err" ", content ${d1:0:16}"
}

test_output_process_context() {
  # A process finding says which executable runs (and that it was deleted from disk, a classic
  # implant sign), its parent, its user and its start time.
  cp /bin/sleep "$T/implant"
  "$T/implant" 30 &
  local p=$!
  BG_PIDS+=("$p")
  sleep 0.2
  rm -f "$T/implant"
  printf 'rule any_process { condition: true }\n' >"$T/any.yar"
  run 1 abj --no-default-pack --no-lookalike --rules "$T/any.yar" --pid "$p"
  $PY - "$T/out" "$T/implant" "$$" "$(id -un)" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "finding":
        assert ev["exe"] == sys.argv[2], ev
        assert ev["exe_deleted"] is True, ev
        assert ev["ppid"] == int(sys.argv[3]), ev
        assert ev["user"] == sys.argv[4], ev
        assert ev["start_time"].startswith("20"), ev
        break
else:
    sys.exit("no finding")
EOF
  run 1 ab scan --no-progress --no-default-pack --no-lookalike --rules "$T/any.yar" --pid "$p"
  assert_contains "$T/out" "    process: exe $T/implant (DELETED or replaced on disk), parent $$, user $(id -un), started 20"
  # With --strings each match in memory names its region (range, permissions, mapped file).
  printf 'rule in_binary { strings: $a = "GNU coreutils" condition: $a }\n' >"$T/bin.yar"
  run 1 abj --no-default-pack --no-lookalike --strings --rules "$T/bin.yar" --pid "$p"
  $PY - "$T/out" <<'EOF'
import json, re, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "finding":
        regs = [s.get("region", "") for s in ev["strings"]]
        assert regs and all(re.match(r"^0x[0-9a-f]+-0x[0-9a-f]+ [r-][w-][x-][ps-]", r) for r in regs), regs
        for s in ev["strings"]:
            lo, hi = (int(x, 16) for x in s["region"].split()[0].split("-"))
            assert lo <= s["offset"] < hi, s
        break
else:
    sys.exit("no finding")
EOF
  kill "$p" 2>/dev/null || true
}

test_output_files_and_memory() {
  # Files and process memory in one run, one summary: antibody scan --processes PATH.
  mkdir -p "$T/fm"
  printf 'FILEONLY_%s\n' "MARK" >"$T/fm/hit"
  printf 'rule file_mark { strings: $a = "FILEONLY_MARK" condition: $a }\n' >"$T/fm.yar"
  set +e
  "$ANTIBODY" scan --json --no-progress --no-default-pack --no-lookalike --list --timeout 10 \
    --rules "$T/fm.yar" --processes "$T/fm" >"$T/out" 2>"$T/err"
  local rc=$?
  set -e
  [ "$rc" = 1 ] || [ "$rc" = 2 ] || fail "exit $rc"
  $PY - "$T/out" "$T/fm/hit" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert [e["event"] for e in evs].count("summary") == 1, "one summary"
objs = [e for e in evs if e["event"] == "object"]
assert any(o.get("pid") for o in objs), "no process scanned"
assert any(o["path"] == sys.argv[2] for o in objs), "the file was not scanned"
assert any(e["event"] == "finding" and e["path"] == sys.argv[2] for e in evs), "no file finding"
assert evs[-1]["objects"] >= len(objs), (evs[-1]["objects"], len(objs))  # + sockets (not listed)
EOF
  run 2 ab scan --pid $$ "$T/fm"
  assert_contains "$T/err" "give either PATHs or --pid"
}

test_output_progress() {
  # On a terminal the progress line names the object being scanned and the elapsed time, and is
  # cleared before any JSON line (which shares the terminal). --max-io makes the sweep last.
  mkdir -p "$T/pp"
  for i in 1 2 3; do head -c 1048576 /dev/zero >"$T/pp/slow$i"; done
  printf 'rule r { strings: $a = "NEVER_THERE_73" condition: $a }\n' >"$T/r.yar"
  in_pty "$T/tty" "$ANTIBODY" scan --json --no-default-pack --no-lookalike -j 1 --max-io 2M \
    --rules "$T/r.yar" "$T/pp" || true
  $PY - "$T/tty" "$T/pp/slow" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
prog = re.findall(rb"\r\x1b\[K(\d+ objects?, [^\r\n]*)", data)
assert prog, data[:400]
assert any(b", " in p and b" s: " in p and sys.argv[2].encode() in p for p in prog), prog
for m in re.finditer(rb'\{"event"', data):
    before = data[max(0, m.start() - 3):m.start()]
    assert m.start() == 0 or before.endswith(b"\n") or before == b"\x1b[K", (before, data[m.start()-80:m.start()])
EOF
}
