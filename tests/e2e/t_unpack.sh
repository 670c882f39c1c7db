# shellcheck shell=bash
# End-to-end tests of looking inside archives and compressed streams (libarchive source): every
# format found, nesting, limits and bombs with a memory bound, hostile names, encryption,
# corruption, parity with yara on the members the formats' own tools extract. Sourced by e2e.sh.

unpack_fixture() { [ -d "$T/u" ] || gen_cached "$T/u" gen_unpack.py "$@"; }
# locs: "relative!member!member<TAB>rule" of the YARA findings in $T/out
locs() { $PY "$JQ" locs "$T/u" <"$T/out"; }

test_unpack_formats() {
  unpack_fixture
  run 1 abj --password infected "$T/u/fmt" "$T/u/nested" "$T/u/names" "$T/u/enc"
  locs >"$T/got.tsv"
  diff -u "$T/u/expected.tsv" "$T/got.tsv" || fail "findings inside containers differ"
  # sources name each level; the summary counts members apart from files
  $PY - "$T/out" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
srcs = {}
for e in evs:
    if e["event"] == "finding":
        srcs["/".join(e["location"][0]["name"].split("/")[-2:])] = [x.get("source") for x in e["location"]]
want = {"fmt/tar.gz": ["file", "tar+gzip"], "fmt/stored.rar": ["file", "rar"],
        "fmt/lzma2.7z": ["file", "7z"], "fmt/payload.bin.xz": ["file", "xz"],
        "fmt/newc.cpio": ["file", "cpio"], "fmt/image.iso": ["file", "iso9660"],
        "fmt/files.cab": ["file", "cab"], "fmt/files.xar": ["file", "xar"],
        "fmt/lib.a": ["file", "ar"], "nested/deep.tar.gz": ["file", "tar+gzip", "7z", "zip"]}
for k, v in want.items():
    assert srcs.get(k) == v, (k, srcs.get(k))
s = evs[-1]
assert s["members"] > 40 and s["member_bytes"] > 0, s
assert s["skipped"].get("encrypted") == 1, s   # the 7z: libarchive cannot decrypt 7z AES
EOF
}

test_unpack_encrypted() {
  unpack_fixture
  run 0 abj --list-skipped "$T/u/enc"
  assert_eq "$($PY "$JQ" skips encrypted <"$T/out")" 2 "both encrypted archives skipped"
  run 0 abj --list-skipped --password wrong "$T/u/enc/zipcrypto.zip"
  assert_eq "$($PY "$JQ" skips encrypted <"$T/out")" 1 "a wrong password opens nothing"
  printf 'nope\ninfected\n' >"$T/pw.txt"
  run 1 abj --passwords "$T/pw.txt" "$T/u/enc/zipcrypto.zip"
  assert_eq "$(count finding)" 1 "the second password of the file opens it"
  run 2 abj --passwords "$T/nonexistent.txt" "$T/u/enc"
}

test_unpack_corrupt() {
  unpack_fixture
  # errors for the broken archives, the sweep goes on to the good one; noise named .zip is quiet
  run 1 abj "$T/u/corrupt" "$T/u/fmt/noise.zip" "$T/u/fmt/deflate.zip"
  assert_eq "$(count error)" 2 "one error per corrupt archive"
  assert_eq "$(count finding)" 1 "the good archive still found"
  $PY - "$T/out" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "error":
        assert "noise" not in e["path"], e
        if e["path"].endswith("truncated.zip"):   # the member that broke is named
            assert [x["name"] for x in e["location"]][1:] == ["docs/payload.bin"], e
EOF
  run 2 ab scan --no-progress "$T/u/corrupt"
  assert_contains "$T/err" "truncated.zip!docs/payload.bin: cannot read this member"
}

test_unpack_no_unpack_and_list() {
  unpack_fixture
  run 0 abj --no-unpack "$T/u/fmt/tar.gz"
  assert_eq "$(summary_field members)" 0 "--no-unpack opens nothing"
  run 1 abj --list "$T/u/nested/deep.tar.gz"
  # every object at every level, with its location; post-order: members before their container
  $PY - "$T/out" <<'EOF'
import json, sys
objs = [[x["name"] for x in e["location"]][1:] for e in map(json.loads, open(sys.argv[1]))
        if e["event"] == "object"]
assert objs == [["l2.7z", "l1.zip", "payload.bin"], ["l2.7z", "l1.zip"], ["l2.7z"], []], objs
EOF
  run 1 ab scan --no-progress --list "$T/u/nested/deep.tar.gz"
  assert_contains "$T/out" "[MEMBER] $T/u/nested/deep.tar.gz!l2.7z!l1.zip!payload.bin "
}

test_unpack_depth_and_names() {
  unpack_fixture
  run 1 abj --list-skipped "$T/u/nested/twenty.zip"
  $PY - "$T/out" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
lim = [e for e in evs if e["event"] == "finding" and e["matcher"] == "limit"]
assert [e["rule"] for e in lim] == ["max-unpack-depth"], lim
assert len(lim[0]["location"]) == 9, lim          # the file + 8 levels of containers
sk = [e for e in evs if e["event"] == "skip"]
assert [s["reason"] for s in sk] == ["unpack-limit"] and len(sk[0]["location"]) == 9, sk
EOF
  run 1 abj --list-skipped --max-unpack-depth 15 "$T/u/nested/twenty.zip"
  assert_eq "$($PY "$JQ" skips unpack-limit <"$T/out")" 1 "15 levels: still deeper than allowed"
  run 2 ab scan --max-unpack-depth 16 "$T/u"
  assert_contains "$T/err" "--max-unpack-depth: expected 1..15"
  # hostile member names are names: escaped on the console, exact in JSON
  run 1 ab scan --no-progress "$T/u/names/hostile.zip"
  assert_contains "$T/out" 'hostile.zip!a\x1b[31mred\x1b[0m.exe: APT29'
  assert_contains "$T/out" 'hostile.zip!dir/with \x21 bang\x3a and colon: APT29'
  assert_contains "$T/out" 'hostile.zip!rtl\u202egpj.exe: APT29'
  [ ! -e /abs/payload.bin ] || fail "something was extracted"
}

# The bombs end within the limits, say which limit, and the sweep's peak memory stays bounded.
test_unpack_bombs() {
  unpack_fixture --big
  $PY - "$ANTIBODY" "$T/u/bombs" <<'EOF'
import json, resource, subprocess, sys
ab, d = sys.argv[1], sys.argv[2]
want = {"nested.zip": {"max-ratio", "max-unpacked"}, "ratio.gz": {"max-ratio"},
        "liar.zip": {"max-ratio"}, "many.tar.gz": {"max-members"}}
for name, limits in want.items():
    p = subprocess.run([ab, "scan", "--json", "--no-progress", f"{d}/{name}"],
                       capture_output=True, text=True, timeout=240)
    evs = [json.loads(l) for l in p.stdout.splitlines()]
    got = {e["rule"] for e in evs if e["event"] == "finding" and e["matcher"] == "limit"}
    assert p.returncode == 1 and got == limits, (name, p.returncode, got, p.stderr[-500:])
    assert evs[-1]["skipped"].get("unpack-limit", 0) >= 1, evs[-1]
    assert evs[-1]["members"] <= 10000, evs[-1]
# Peak resident memory of the sweep and its workers: the limits (400 MiB unpacked in all,
# 100 MiB per member), not the 16 GiB the bombs claim.
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
assert peak < 300, f"peak RSS {peak} MiB"
print(f"bombs: peak RSS {peak} MiB")
EOF
  # smaller limits are obeyed and reported by name
  run 1 abj --max-members 5 "$T/u/bombs/many.tar.gz"
  assert_eq "$($PY - "$T/out" <<'EOF'
import json, sys
print([e["reason"] for e in map(json.loads, open(sys.argv[1])) if e["event"] == "finding"][0])
EOF
)" "more than 5 members in one file (--max-members)" "limit reason"
  run 1 abj --list-skipped --max-member-size 1M --max-ratio 0 "$T/u/bombs/liar.zip"
  assert_eq "$($PY "$JQ" skips too-large <"$T/out")" 1 "member over --max-member-size"
}

# The THOR externals of members: unpack_parent, unpack_source, filename, extension.
test_unpack_externals() {
  unpack_fixture
  cat >"$T/x.yar" <<'Y'
rule in_zip_in_7z { condition: unpack_parent == "ZIP" and unpack_source == "TAR>7Z>ZIP" and filename == "payload.bin" and extension == ".bin" }
rule top_level { condition: unpack_parent == "" and unpack_source == "" and filename == "deep.tar.gz" }
Y
  run 1 abj --no-default-pack --rules "$T/x.yar" "$T/u/nested/deep.tar.gz"
  locs >"$T/got.tsv"
  printf 'nested/deep.tar.gz\ttop_level\nnested/deep.tar.gz!l2.7z!l1.zip!payload.bin\tin_zip_in_7z\n' |
    sort >"$T/want.tsv"
  diff -u "$T/want.tsv" "$T/got.tsv" || fail "externals of members"
}

# A worker that dies inside a member is blamed on that member, and the sweep goes on.
test_unpack_member_crash() {
  mkdir -p "$T/mc/in"
  printf 'x' >"$T/mc/in/boom.bin"
  printf 'clean\n' >"$T/mc/in/other.txt"
  (cd "$T/mc/in" && zip -q ../a.zip other.txt boom.bin)
  cp "$T/mc/a.zip" "$T/mc/b.zip"
  run 2 env ANTIBODY_TEST_FAULT=crash:boom.bin "$ANTIBODY" scan --json --no-progress "$T/mc/a.zip" "$T/mc/b.zip"
  $PY - "$T/out" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
errs = [e for e in evs if e["event"] == "error"]
assert len(errs) == 2, errs
for e in errs:
    assert [x["name"] for x in e["location"]][1:] == ["boom.bin"], e
    assert e["status"] == "crash" and "on this member" in e["message"], e  # SIGABRT under ASan
assert evs[-1]["objects"] == 0 and evs[-1]["errors"] == 2, evs[-1]
EOF
}

# For every format, the (member, rule) pairs equal what yara finds on the members that the
# format's own tool extracts into a temporary folder (the test extracts; antibody never does).
test_unpack_parity() {
  unpack_fixture
  command -v yara >/dev/null || fail "yara not installed (scripts/deps)"
  local rules=("$SRCDIR"/rules/apt29-2020/*.yar) f x base mismatches=0
  for f in "$T"/u/fmt/*; do
    base=$(basename "$f")
    x="$T/x/$base"
    mkdir -p "$x"
    case "$base" in
      *.zip|holiday.jpg|sfx.exe) 7zz x -bd -y -o"$x" "$f" >/dev/null 2>&1 || true ;;
      *.7z|*.iso) 7zz x -bd -y -o"$x" "$f" >/dev/null ;;
      # Debian's 7zip has no RAR code (dfsg) and unrar-free is built on libarchive: the RAR
      # fixtures are written by hand from RARLAB's format notes, and extracted with unrar-free.
      *.rar) (cd "$x" && unrar-free -x "$f" . >/dev/null) ;;
      tar.lz4) tar -I lz4 -xf "$f" -C "$x" ;;
      *.tar|tar.*) tar -xf "$f" -C "$x" ;;
      *.cpio) (cd "$x" && cpio -id --quiet <"$f") ;;
      *.a) (cd "$x" && ar x "$f") ;;
      *.cab) cabextract -q -d "$x" "$f" >/dev/null ;;
      *.xar) bsdtar -xf "$f" -C "$x" ;;
      payload.bin.gz) gzip -dc "$f" >"$x/payload.bin" ;;
      payload.bin.bz2) bzip2 -dc "$f" >"$x/payload.bin" ;;
      payload.bin.xz|payload.bin.lzma) xz -dc "$f" >"$x/payload.bin" ;;
      payload.bin.zst) zstd -qdc "$f" >"$x/payload.bin" ;;
      payload.bin.lz4) lz4 -qdc "$f" >"$x/payload.bin" ;;
      payload.bin.lz) lzip -dc "$f" >"$x/payload.bin" ;;
      noise.zip) ;;
      *) fail "parity: no extractor for $base" ;;
    esac
    yara "${YARA_DEFS[@]}" -r "${rules[@]}" "$x" 2>/dev/null | awk -v p="$x/" '{ sub(p, "", $2); print $2 "\t" $1 }' |
      sort >"$T/yara.tsv"
    set +e; abj "$f" >"$T/out" 2>/dev/null; set -e
    $PY "$JQ" locs "$T/u/fmt" <"$T/out" | sed -n "s|^$base!||p" | sort >"$T/ab.tsv"
    if ! diff -q "$T/yara.tsv" "$T/ab.tsv" >/dev/null; then
      echo "parity: $base"; diff -u "$T/yara.tsv" "$T/ab.tsv" || true
      mismatches=$((mismatches + 1))
    fi
    [ -s "$T/ab.tsv" ] || [ "$base" = noise.zip ] || fail "parity: nothing found in $base"
  done
  [ "$mismatches" = 0 ] || fail "$mismatches formats differ from yara on extracted members"
}

# A file cut short while mapped raises SIGBUS in its worker: the worker reports it, says it is
# ending (its library state cannot be trusted after the jump) and exits; the sweep goes on in a
# new worker and nothing else is blamed.
test_unpack_sigbus_worker_exits() {
  mkdir -p "$T/sb"
  head -c 3000000 /dev/urandom >"$T/sb/shrink.bin"   # > 1 MiB: mapped, not read
  for i in 1 2 3 4 5 6; do printf 'clean %s\n' "$i" >"$T/sb/c$i.txt"; done
  run 2 env ANTIBODY_TEST_FAULT=shrink:shrink.bin "$ANTIBODY" scan --json --no-progress -j 1 \
    --allow-empty "$T/sb"
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
errs = [e for e in evs if e["event"] == "error"]
assert len(errs) == 1 and errs[0]["path"].endswith("shrink.bin"), errs
assert "SIGBUS" in errs[0]["message"], errs
assert evs[-1]["objects"] == 6, evs[-1]   # every other file scanned
EOF2
}

# In a solid stream a member that repeats an earlier one costs a few packed bytes: no bomb. The
# ratio limit needs the member's own ratio and its container's so far both over the limit.
test_unpack_solid_duplicates() {
  mkdir -p "$T/sd"
  $PY - "$T/sd/a.txt" <<'EOF2'
import random, sys
r = random.Random(7)
words = [''.join(r.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(r.randint(2, 9)))
         for _ in range(5000)]
with open(sys.argv[1], 'w') as f:
    while f.tell() < 3 << 19:  # 1.5 MiB: past the 1 MiB the ratio limit waits for
        f.write(' '.join(r.choice(words) for _ in range(12)) + '\n')
EOF2
  cp "$T/sd/a.txt" "$T/sd/b.txt"; cp "$T/sd/a.txt" "$T/sd/c.txt"
  (cd "$T/sd" && XZ_OPT=-1 tar -cJf s.tar.xz a.txt b.txt c.txt && 7zz a -bd -t7z -ms=on s.7z a.txt b.txt c.txt >/dev/null)
  run 0 abj --list-skipped "$T/sd/s.tar.xz" "$T/sd/s.7z"
  assert_eq "$(count skip)" 0 "no member of a solid archive dropped"
  assert_eq "$(summary_field members)" 6 "every member scanned"
}

# The deadline is per member: three members of 4 s each (12 s) pass under --timeout 1 (a worker
# is killed 1 + 10 s after its last sign of life), and a hang in one member is blamed on it.
test_unpack_member_deadline() {
  mkdir -p "$T/md/in"
  for n in slow1 slow2 slow3; do printf '%s\n' "$n" >"$T/md/in/$n"; done
  (cd "$T/md/in" && zip -q ../three.zip slow1 slow2 slow3)
  run 0 env ANTIBODY_TEST_FAULT=slow:slow1,slow:slow2,slow:slow3 "$ANTIBODY" scan --json \
    --no-progress --timeout 1 "$T/md/three.zip"
  assert_eq "$(count error)" 0 "no member overran its own deadline"
  assert_eq "$(summary_field members)" 3 "every member scanned"
}

# A small archive is not a cheap file: the job the parent queued behind it (small files are
# pipelined two per worker) is handed back when the worker starts unpacking, and another worker
# scans it at once instead of after the archive.
test_unpack_gives_back_queued_job() {
  mkdir -p "$T/gb/in"
  printf 'slow\n' >"$T/gb/in/slow1"
  (cd "$T/gb/in" && zip -q ../a.zip slow1)
  printf 'quick\n' >"$T/gb/b.txt"
  run 0 env ANTIBODY_TEST_FAULT=slow:slow1 "$ANTIBODY" scan --json --no-progress --list -j 2 \
    "$T/gb/a.zip" "$T/gb/b.txt"
  $PY - "$T/out" <<'EOF2'
import json, sys
objs = [e["location"][-1]["name"] for e in map(json.loads, open(sys.argv[1])) if e["event"] == "object"]
assert objs[0].endswith("b.txt"), objs   # not after the 4 s member
EOF2
}
