# Coverage of the rules published in 2020 (issue 8): tests/fixtures/gen_published.py makes, from
# the table tests/fixtures/published_rules.json (facts from the intel notes), one benign artefact
# per published rule at that rule's threshold exactly (two for "any PE" rules: PE32 and PE32+; one
# per fragment for any-of rules) and one near miss per rule. The apt29-2020 pack must fire on
# every artefact and on no near miss; the test prints published rule -> pack rule(s) that caught it.
# With the yara CLI installed, the table's conditions (rebuilt as YARA by the generator) must hold
# on every artefact and fail on every near miss, so the artefacts really sit at the threshold.
# Sourced by e2e.sh; listed in tests/e2e/meson.build.

test_pack_coverage() {
  local d="$T/pub"
  $PY "$SRCDIR/tests/fixtures/gen_published.py" "$d" >/dev/null
  set +e
  abj --no-default-pack --pack apt29-2020 --no-lookalike "$d/pos" "$d/neg" >"$T/out" 2>"$T/err"
  local rc=$?
  set -e
  [ "$rc" = 1 ] || { head -c 2000 "$T/err"; fail "scan exit code $rc, expected 1"; }
  findings "$d/" | sort -u >"$T/pairs"
  # published id <TAB> caught/total <TAB> pack rules (or MISSED / FIRED ON NEAR MISS)
  $PY - "$d/manifest.tsv" "$T/pairs" >"$T/table" <<'PY'
import sys
manifest = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
hits = {}
for l in open(sys.argv[2]):
    path, rule = l.rstrip("\n").split("\t")
    hits.setdefault(path, set()).add(rule)
order, rows = [], {}
for kind, path, rid in manifest:
    if rid not in rows:
        order.append(rid)
        rows[rid] = {"pos": 0, "caught": 0, "rules": set(), "bad": []}
    r = rows[rid]
    if kind == "pos":
        r["pos"] += 1
        if path in hits:
            r["caught"] += 1
            r["rules"] |= hits[path]
        else:
            r["bad"].append("MISSED " + path)
    elif path in hits:
        r["bad"].append("NEAR MISS FIRED %s: %s" % (path, ",".join(sorted(hits[path]))))
bad = 0
for rid in order:
    r = rows[rid]
    print("%-50s %2d/%-2d %s" % (rid, r["caught"], r["pos"], ", ".join(sorted(r["rules"])) or "-"))
    for b in r["bad"]:
        print("    " + b)
        bad += 1
print("published rules: %d, problems: %d" % (len(order), bad))
PY
  echo "published rule -> pack rule(s) that caught its artefacts (caught/artefacts):"
  cat "$T/table"
  grep -q "^published rules: 15, problems: 0$" "$T/table" || fail "pack coverage incomplete (table above)"
  # The artefacts satisfy the published conditions exactly: each positive matches its own rebuilt
  # published rule, no near miss matches any.
  if command -v yara >/dev/null; then
    yara -r "$d/published.yar" "$d" | sed "s#$d/##" | sort >"$T/yara"
    $PY - "$d/manifest.tsv" "$T/yara" <<'PY' || fail "artefacts do not sit at the published thresholds"
import re, sys
want = set()
for l in open(sys.argv[1]):
    kind, path, rid = l.rstrip("\n").split("\t")
    if kind == "pos":
        want.add(("published_" + re.sub(r"[^a-z0-9]+", "_", rid.replace("(label)", "").lower()).strip("_"), path))
got = set(tuple(l.split()) for l in open(sys.argv[2]))
for x in sorted(want - got): print("published rule does not match its artefact:", *x)
for x in sorted(got - want): print("unexpected published-rule match (near miss?):", *x)
sys.exit(1 if want != got else 0)
PY
    echo "yara: every artefact matches its published condition, no near miss does"
  fi
}
