# shellcheck shell=bash
# The apt29-2020 pack's network content (issues 7 and 8): every published network fact of the
# intel notes, as generated benign captures (tests/fixtures/gen_apt29_net.py: synthetic sessions,
# one per variant; gen_captures.py apt29: real mutual TLS on port 25 with the certificate traits),
# must fire the pack rule or IOC it belongs to, in the session it belongs to, and the clean
# look-alike sessions (and real clean TLS) must give no finding at all. The test prints the table
# fact -> what caught it. Sourced by e2e.sh.

test_pack_network_coverage() {
  $PY "$SRCDIR/tests/fixtures/gen_apt29_net.py" "$T/net" >/dev/null
  gen_cached "$T/caps" gen_captures.py apt29 tls
  run 1 ab pcap --json --no-progress --no-default-pack --pack apt29-2020 "$T/net/apt29_net.pcap" \
    "$T/net/apt29_clean.pcap" "$T/caps/apt29_wellmail.pcap" "$T/caps/tls12.pcap" \
    "$T/caps/tls13.pcap"
  $PY - "$T/out" "$T/net/manifest.tsv" <<'EOF2'
import json, os, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert not [e for e in evs if e["event"] == "error"], [e for e in evs if e["event"] == "error"]
fs = [e for e in evs if e["event"] == "finding"]
by = {}  # (capture, client port) -> {rule: [directions]}
for e in fs:
    assert "flow" in e and e["flow"].get("time"), e  # every network finding says flow and time
    k = (os.path.basename(e["path"]), e["flow"]["src_port"])
    by.setdefault(k, {}).setdefault(e["rule"], []).append(e["flow"].get("direction"))
bad = 0
rows = []
for line in open(sys.argv[2]):
    kind, cap, port, fact, want = line.rstrip("\n").split("\t")
    got = by.pop((cap, int(port)), {})
    if kind == "pos":
        ok = want in got and set(got) == {want}
        rows.append((fact, ", ".join(sorted(got)) or "MISSED"))
    else:
        ok = not got
        rows.append(("clean: " + fact, "FIRED " + ", ".join(sorted(got)) if got else "silent"))
    if not ok:
        bad += 1
        rows[-1] = (rows[-1][0], rows[-1][1] + "   <-- expected " + want)
# mutual TLS from the first byte on port 25 with the certificate traits: both certificates
# (each side's stream) and the client's first byte to port 25
wm = {k: v for k, v in by.items() if k[0] == "apt29_wellmail.pcap"}
assert len(wm) == 1, wm
got = list(wm.values())[0]
ok = (sorted(got.get("APT29_WellMess_TLS_Cert_Traits", [])) == ["to_client", "to_server"]
      and got.get("APT29_WellMail_TLS_On_SMTP_Port") == ["to_server"] and len(got) == 2)
rows.append(("WellMail mutual TLS on port 25, certificate traits", ", ".join(
    "%s (%s)" % (r, "+".join(sorted(d))) for r, d in sorted(got.items()))))
bad += not ok
for k in list(by):
    if k[0] == "apt29_wellmail.pcap":
        del by[k]
for k, v in sorted(by.items()):  # real clean TLS (tls12, tls13) and anything unexpected
    rows.append(("unexpected in %s port %d" % k, ", ".join(sorted(v))))
    bad += 1
print("network fact -> what caught it:")
for fact, what in rows:
    print("  %-58s %s" % (fact, what))
print("network facts: %d, problems: %d" % (len(rows), bad))
sys.exit(1 if bad else 0)
EOF2
  # Each CVE rule is tested on its request as published and on the forms that evade a naive
  # match (the table above checks that every session fires): a variant percent-encoded, one not,
  # and one whose path a server normalises (doubled slashes, ./ or ../ segments).
  $PY - <<'EOF2'
import os, re, sys
sys.path.insert(0, os.environ["SRCDIR"] + "/tests/fixtures")
import gen_apt29_net as n
kinds = {}
for fact, req, rule in n.POS:
    if req is None or not rule.startswith("APT29_Exploit_CVE_"):
        continue
    target = req.split(b" ", 2)[1]
    k = kinds.setdefault(rule, set())
    k.add("encoded" if b"%" in target else "plain")
    if re.search(rb"//|/\./|/\.\./", target):
        k.add("normalised")
want = {"encoded", "plain", "normalised"}
for rule in ("APT29_Exploit_CVE_2019_19781_Citrix", "APT29_Exploit_CVE_2019_11510_Pulse",
             "APT29_Exploit_CVE_2018_13379_Fortinet", "APT29_Exploit_CVE_2019_9670_Zimbra"):
    got = kinds.get(rule, set())
    assert got == want, (rule, "variants missing:", sorted(want - got))
print("every CVE rule has encoded, plain and normalised variants")
EOF2
  # Text that quotes the requests, the markup and the traits (the pack's own README, a note) is
  # no network traffic: the rules say where they apply, and none fires on a file.
  cp "$SRCDIR/rules/apt29-2020/README.md" "$T/readme.md"
  $PY - "$T/note.txt" <<'EOF2'
import sys
sys.path.insert(0, __import__("os").environ["SRCDIR"] + "/tests/fixtures")
import gen_apt29_net as n
with open(sys.argv[1], "wb") as f:
    for fact, req, _ in n.POS:
        f.write(fact.encode() + b":\n" + (req or b"") + b"\n")
EOF2
  run 0 abj --no-default-pack --pack apt29-2020 "$T/readme.md" "$T/note.txt"
  assert_eq "$(count finding)" 0 "network rules on text files"
}
