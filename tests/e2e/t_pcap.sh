# shellcheck shell=bash
# End-to-end tests of the network source (src/net/): captures of real loopback traffic made by
# tests/fixtures/gen_captures.py (tcpdump, curl, a small DNS responder), read with antibody pcap
# and met in antibody scan; network IOCs and YARA on payloads and streams; --flows records
# against tshark's fields (tests/e2e/net_check.py); synthetic hostile captures
# (tests/fixtures/gen_pcap.py). Sourced by e2e.sh.

NET_CHECK="$SRCDIR/tests/e2e/net_check.py"

captures() { gen_cached "$T/caps" gen_captures.py "$@"; }  # e2e.sh: made once per check

net_iocs() {
  printf 'domain\tc2.example\ttest C2 domain\n' >"$T/net.ioc"
  printf 'ip\t198.51.100.7\ttest C2 address\n' >>"$T/net.ioc"
  printf 'url\thttp://pipe.example/pipe/2\ttest URL\n' >>"$T/net.ioc"
  printf 'rule Body { strings: $a = "hello from the test server: /update" condition: $a }\n' >"$T/net.yar"
  printf 'rule Stream { strings: $a = "GET /pipe/1 HTTP/1.1" condition: $a }\n' >>"$T/net.yar"
}

test_pcap_iocs_and_payloads() {
  captures http dns
  net_iocs
  run 1 ab pcap --json --no-progress --no-default-pack --ioc "$T/net.ioc" --rules "$T/net.yar" \
    "$T/caps/http.pcap" "$T/caps/dns.pcap"
  $PY - "$T/out" "$T/caps/captures.json" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
facts = json.load(open(sys.argv[2]))
fs = [e for e in evs if e["event"] == "finding"]
def loc(e):
    return [x["name"] for x in e["location"]]
# YARA on an HTTP response body: the member under its flow direction and its transaction
body = [e for e in fs if e["rule"] == "Body"]
assert any(loc(e)[-2:] == ["GET /update/sample.bin", "response-body"] for e in body), body
b = [e for e in body if loc(e)[-1] == "response-body"][0]
assert b["location"][-1]["source"] == "http" and b["location"][1]["source"] == "flow", b["location"]
f = b["flow"]
assert f["app_proto"] == "http" and f["proto"] == "tcp" and f["direction"] == "to_client", f
assert f["dest_port"] == facts["http.pcap"]["port"] and f["src_ip"] == "127.0.0.1", f
# YARA on a stream: what the client sent in the pipelined flow
st = [e for e in fs if e["rule"] == "Stream" and len(e["location"]) == 2]
assert st and st[0]["flow"]["direction"] == "to_server", st
# IOCs on parsed values, with where they were read
obs = {(e["value"], e["where"]) for e in fs if e["matcher"] == "observable"}
for want in [("http://pipe.example/pipe/2", "http.url"), ("update.c2.example", "dns.query"),
             ("198.51.100.7", "dns.answer"), ("mail.c2.example", "dns.answer")]:
    assert want in obs, (want, sorted(obs))
udp = [e for e in fs if e["matcher"] == "observable" and e["flow"]["proto"] == "udp"]
tcp = [e for e in fs if e["matcher"] == "observable" and e["flow"]["app_proto"] == "dns"
       and e["flow"]["proto"] == "tcp"]
assert udp and tcp, "DNS over UDP and over TCP"
s = [e for e in evs if e["event"] == "summary"][0]
assert s["objects"] == 2, s
# No error: that one came from tcpdump losing segments on a loaded machine ("dns: gap in a
# length prefix over TCP"); gen_captures.py now captures again until nothing is lost.
errs = [e for e in evs if e["event"] == "error"]
assert not errs, errs
print("ok", len(fs), "findings")
EOF2
}

# Silence on clean captures means something only if the same IOC file, with values that are
# there, fires: one indicator of each network type (ip, cidr, domain, url, email, ja3, ja3s, ja4,
# cert-sha1, cert-sha256), run over every generated capture. The absent values are near misses of
# present ones (a domain that is a suffix of a host but not at a label, a URL that is a prefix of
# one, an e-mail address that is a suffix of one, a /125 next to an AAAA answer, fingerprints and
# certificate hashes one hex digit off): exit 0, no finding, every IOC counted as matched by this
# scan. The present values: exit 1, each IOC fires where its value was read.
test_pcap_clean() {
  captures http dns
  gen_cached "$T/caps2" gen_captures.py tls smtp
  local all=("$T"/caps/*.pcap "$T"/caps2/*.pcap)
  # the fingerprints present, from the capture's own records
  run 0 ab pcap --json --flows --no-progress --no-default-pack "${all[@]}"
  $PY - "$T/out" "$T/caps/captures.json" "$T/caps2/captures.json" "$T/absent.ioc" \
    "$T/present.ioc" <<'EOF2'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
facts = {**json.load(open(sys.argv[2])), **json.load(open(sys.argv[3]))}
tls = {r["path"].rsplit("/", 1)[1]: r["tls"] for r in recs if r["event"] == "flow" and r["type"] == "tls"}
seen = set()  # every fingerprint and certificate hash in the captures
for t in tls.values():
    seen |= {t.get("ja3"), t.get("ja3s"), t.get("ja4")}
    seen |= {c[k] for c in t.get("server_certs", []) + t.get("client_certs", []) for k in ("sha1", "sha256")}
def off(v):  # v with its last hex digit changed: absent unless it is another value seen
    w = v[:-1] + ("0" if v[-1] != "0" else "1")
    assert w not in seen, w
    return w
port25 = facts["tls_port25.pcap"]
present = [("ip", "198.51.100.7"), ("cidr", "2001:db8::/64"), ("domain", "c2.example"),
           ("url", "http://pipe.example/pipe/2"), ("email", "researcher@our-university.example"),
           ("ja3", tls["tls12.pcap"]["ja3"]), ("ja3s", tls["tls13.pcap"]["ja3s"]),
           ("ja4", tls["tls_port25.pcap"]["ja4"]), ("cert-sha1", port25["server_cert_sha1"]),
           ("cert-sha256", port25["client_cert_sha256"])]
absent = [("ip", "198.51.100.70"), ("cidr", "2001:db8::8/125"), ("domain", "pdate.c2.example"),
          ("url", "http://pipe.example/pipe/"), ("email", "esearcher@our-university.example")] + \
         [(t, off(v)) for t, v in present[5:]]
assert [t for t, _ in absent] == [t for t, _ in present]
for name, table in ((sys.argv[4], absent), (sys.argv[5], present)):
    with open(name, "w") as f:
        f.writelines("%s\t%s\n" % x for x in table)
EOF2
  run 0 ab pcap --json --no-progress --no-default-pack --ioc "$T/absent.ioc" "${all[@]}"
  $PY - "$T/out" "${#all[@]}" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
load = [e for e in evs if e["event"] == "load"][0]
assert load["iocs"] == 10 and load["iocs_unmatched"] == 0, load  # pcap matches every type
assert not [e for e in evs if e["event"] in ("finding", "error")], [e for e in evs if e["event"] != "load"]
s = [e for e in evs if e["event"] == "summary"][0]
assert s["objects"] == int(sys.argv[2]) and s["network"]["captures"] == int(sys.argv[2]), s
EOF2
  run 1 ab pcap --json --no-progress --no-default-pack --ioc "$T/present.ioc" "${all[@]}"
  $PY - "$T/out" "$T/present.ioc" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert not [e for e in evs if e["event"] == "error"], [e for e in evs if e["event"] == "error"]
where = {}  # IOC (its value as written) -> where it fired
for e in evs:
    if e["event"] == "finding":
        assert e["matcher"] == "observable", e
        where.setdefault(e["rule"], set()).add(e["where"])
want = {"ip": "dns.answer", "cidr": "dns.answer", "domain": "dns.query", "url": "http.url",
        "email": "smtp.rcpt_to", "ja3": "tls.client", "ja3s": "tls.server", "ja4": "tls.client",
        "cert-sha1": "tls.cert", "cert-sha256": "tls.client_cert"}
for line in open(sys.argv[2]):
    t, v = line.rstrip("\n").split("\t")
    assert want[t] in where.get(v, ()), (t, v, "fired at", sorted(where.get(v, ())))
print("10 IOC types: silent when absent, each fires when present")
EOF2
}

# --flows records against tshark's fields (tests/e2e/net_check.py: HTTP, DNS, SNI, JA3, JA3S,
# both certificate chains' hashes, SMTP) on every generated capture: gen_captures.py's real
# traffic (the sets other tests use: cached), the apt29 pack's captures, gen_pcap.py's synthetic
# ones. antibody reads them in one run: exit 2 for the three synthetic ones it cuts short, and
# no other error.
test_pcap_flows_tshark() {
  captures http dns
  gen_cached "$T/tlscaps" gen_captures.py tls smtp
  gen_cached "$T/aptcaps" gen_captures.py apt29 tls # t_pack_net.sh's set
  $PY "$SRCDIR/tests/fixtures/gen_apt29_net.py" "$T/net" >/dev/null
  $PY "$SRCDIR/tests/fixtures/gen_pcap.py" "$T/syn" >/dev/null
  local caps=("$T"/caps/*.pcap "$T"/tlscaps/*.pcap "$T/aptcaps/apt29_wellmail.pcap" "$T"/net/*.pcap
    "$T"/syn/*.pcap*)
  run 2 ab pcap --flows --no-progress --no-default-pack "${caps[@]}"
  $PY "$NET_CHECK" "$T/out" "${caps[@]}"
  # every flow ends with its conn record, and records say which flow
  $PY - "$T/out" <<'EOF2'
import json, os, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
errs = sorted(os.path.basename(e["path"]) for e in evs if e["event"] == "error")
assert errs == ["mixed_if.pcapng", "snaplen_if.pcapng", "truncated_file.pcap"], errs
recs = [e for e in evs if e["event"] == "flow"]
conns = [r for r in recs if r["type"] == "conn"]
ids = {(r["path"], r["flow"]["id"]) for r in recs}
assert conns and {(r["path"], r["flow"]["id"]) for r in conns} == ids, (len(conns), ids)
assert all(r["conn"]["pkts_toserver"] > 0 for r in conns)
EOF2
}

test_pcap_inputs() {
  captures dns
  echo "not a capture" >"$T/notes.txt"
  printf 'domain\tc2.example\n' >"$T/d.ioc"
  run 2 ab pcap --no-progress --no-default-pack --ioc "$T/d.ioc" "$T/notes.txt" "$T/missing.pcap"
  grep -q "missing.pcap: No such file" "$T/err" || fail "no error for a missing capture"
  run 1 ab pcap --no-progress --no-default-pack --ioc "$T/d.ioc" "$T/notes.txt" "$T/caps/dns.pcap"
  grep -q "notes.txt: not a pcap or pcapng capture" "$T/err" || fail "no error for a text file"
  run 2 ab pcap --no-progress --no-default-pack --ioc "$T/d.ioc" "$T/notes.txt"
  run 2 ab pcap --no-progress --pid 1 "$T/caps/dns.pcap"
  # met in a sweep, by content whatever its name: the same findings
  mkdir -p "$T/tree"
  cp "$T/caps/dns.pcap" "$T/tree/sensor-0001.dat"
  run 1 abj --no-default-pack --ioc "$T/d.ioc" "$T/tree"
  grep -q '"where":"dns.query"' "$T/out" || fail "a capture in a tree was not read"
}

# The synthetic captures of gen_pcap.py (every link type, tunnels, fragments, cut and malformed
# frames, pcapng quirks): every flow to 10.0.0.2 or 2001:db8::2 is found, each once, at
# flow.dest_ip, in the captures and flows the table says, inner flows of tunnels and joined
# fragments included; the tunnels' own addresses (192.0.2.0/24 outside, 198.51.100.0/24 in the
# middle of a tunnel in a tunnel) are flows only where a tunnel is not entered (one level only;
# PPTP; VXLAN without its I flag), with both ends; what cannot be read is an error naming its
# capture; no worker dies. Then the captures the summary's network counters are about, one at a
# time: frames rejected (malformed), cut at the snapshot length (truncated, and the TCP bytes it
# lost a gap), fragments read and joined or given up.
test_pcap_synthetic_hostile() {
  $PY "$SRCDIR/tests/fixtures/gen_pcap.py" "$T/syn" >/dev/null
  printf 'ip\t10.0.0.2\nip\t2001:db8::2\ncidr\t192.0.2.0/24\ncidr\t198.51.100.0/24\n' >"$T/s.ioc"
  run 1 ab pcap --json --no-progress --no-default-pack --ioc "$T/s.ioc" "$T/syn"/*.pcap*
  ! grep -q "killed by signal\|scanner worker exited" "$T/err" || fail "a worker died: $(cat "$T/err")"
  $PY - "$T/out" "$T/syn" <<'EOF2'
import json, os, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
T4 = "10.0.0.1:40000->10.0.0.2:80"
U4 = "10.0.0.1:40001->10.0.0.2:7777 udp"
T6 = "[2001:db8::1]:40000->[2001:db8::2]:80"
U6 = "[2001:db8::1]:40001->[2001:db8::2]:7777 udp"
want = {
    "eth_ipv4.pcap": [T4, U4, "10.0.0.1:0->10.0.0.2:0 icmp"],
    "eth_ipv6.pcap": [T6, U6, "[2001:db8::1]:0->[2001:db8::2]:0 icmpv6"],
    "vlan.pcap": [T4, U4, T6], "mpls.pcap": [T4, U6], "pppoe.pcap": [T4, U6],
    "sll.pcap": [T4, U6], "sll2.pcap": [T4, U6], "raw.pcap": [T4, U6], "ipv4.pcap": [T4],
    "ipv6.pcap": [T6], "null.pcap": [T4, U6], "loop.pcap": [T4, U6],
    # joined in order, reversed, overlapping (first wins)
    "frag4.pcap": ["10.0.0.1:40001->10.0.0.2:%d udp" % p for p in (5000, 5001, 5002)],
    # extension headers; a datagram in 2 fragments; an atomic fragment; TCP after dstopts
    "frag6.pcap": [T6, "[2001:db8::1]:40001->[2001:db8::2]:5003 udp",
                   "[2001:db8::1]:40001->[2001:db8::2]:5004 udp",
                   "[2001:db8::1]:40005->[2001:db8::2]:80"],
    "truncated.pcap": [T4, U6],
    "malformed.pcap": [T4],  # the good frame after the 7 bad ones (the UDP6 one has 9 ext headers)
    # GRE: plain and Ethernet in GRE (T4), C+K+S over IPv6; GRE in GRE: the inner GRE; PPTP:
    # the outer packet
    "gre.pcap": [T4, U6, "198.51.100.1:0->198.51.100.2:0 47", "192.0.2.1:0->192.0.2.2:0 47"],
    # VXLAN: T4, U6 (VLANs inside and out); VXLAN in VXLAN: the inner UDP; no I flag: the outer
    "vxlan.pcap": [T4, U6, "198.51.100.1:50001->198.51.100.2:4789 udp",
                   "192.0.2.1:50000->192.0.2.2:4789 udp"],
    "frag_timeout.pcap": [T4],  # its UDP fragments, 40 s apart, never make a datagram
    "tunnel_frag.pcap": [T4],  # the outer fragments joined, then GRE entered
    "nano_be.pcap": [T4],
    "truncated_file.pcap": [T4, U4],  # the third record, cut, is not read
    "two_if.pcapng": [T4, U4],
    "mixed_if.pcapng": [T4],  # its second interface stops it
}
got, ends = {}, {}
for e in evs:
    if e["event"] != "finding":
        continue
    name = e["location"][1]["name"]
    assert e["matcher"] == "observable" and len(e["location"]) == 2, e
    if e["value"] in ("10.0.0.2", "2001:db8::2"):
        assert e["where"] == "flow.dest_ip" and e["flow"]["src_ip"] in ("10.0.0.1", "2001:db8::1"), e
        got.setdefault(os.path.basename(e["path"]), []).append(name)
    else:  # a tunnel's addresses: both ends, each its own value
        assert e["rule"] in ("192.0.2.0/24", "198.51.100.0/24"), e
        ends.setdefault((os.path.basename(e["path"]), name), set()).add(e["where"])
assert all(w == {"flow.src_ip", "flow.dest_ip"} for w in ends.values()), ends
for cap, name in ends:
    got.setdefault(cap, []).append(name)
got = {k: sorted(v) for k, v in got.items()}
want = {k: sorted(v) for k, v in want.items()}
assert got == want, {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)}
errs = {os.path.basename(e["path"]): e["message"] for e in evs if e["event"] == "error"}
assert sorted(errs) == ["mixed_if.pcapng", "snaplen_if.pcapng", "truncated_file.pcap"], errs
assert all(m.startswith("capture cut short after ") for m in errs.values()), errs
s = [e for e in evs if e["event"] == "summary"][0]
n = len(os.listdir(sys.argv[2]))
assert s["objects"] == n and s["network"]["captures"] == n and s["errors"] == 3, s
EOF2
  $PY - "$ANTIBODY" "$T/syn" "$T/s.ioc" <<'EOF2'
import json, subprocess, sys
ab, syn, ioc = sys.argv[1:]
def network(name):
    r = subprocess.run([ab, "pcap", "--json", "--no-progress", "--no-default-pack", "--ioc", ioc,
                        "%s/%s" % (syn, name)], capture_output=True, text=True)
    assert r.returncode == 1, (name, r.returncode, r.stderr)
    return [json.loads(l) for l in r.stdout.splitlines()][-1]["network"]
clean = {"malformed_frames": 0, "truncated_frames": 0, "gaps": 0, "gap_bytes": 0, "fragments": 0,
         "fragment_datagrams_dropped": 0, "parser_errors": 0}
want = {
    "eth_ipv4.pcap": {"frames": 5, "packets": 4},  # ARP is a frame, not a packet
    # IHL 4, a length past the frame, TCP offsets 0 and past the segment, a UDP length past IP,
    # 9 IPv6 extension headers, IP version 5: rejected; the last frame is good
    "malformed.pcap": {"frames": 8, "packets": 1, "malformed_frames": 7},
    # snaplen 96: all 4 frames cut; 958 bytes of the first one's TCP payload are a gap; the two
    # cut inside the IPv4 and the TCP header give no packet
    "truncated.pcap": {"frames": 4, "packets": 2, "truncated_frames": 4, "gaps": 1, "gap_bytes": 958},
    "frag4.pcap": {"frames": 9, "packets": 3, "fragments": 9},
    "frag6.pcap": {"frames": 6, "packets": 4, "fragments": 4},
    "tunnel_frag.pcap": {"frames": 2, "packets": 1, "fragments": 2},
}
for name, w in want.items():
    n = network(name)
    for k, v in {**clean, **w}.items():
        assert n[k] == v, (name, k, n[k], v, n)
n = network("frag_timeout.pcap")  # its two fragments are given up: the first timed out
assert n["fragments"] == 2 and n["fragment_datagrams_dropped"] >= 1 and n["packets"] == 1, n
print("ok")
EOF2
}

# flow.vlan: the outermost 802.1Q id of a flow's first packet, in findings and --flows records
# (gen_pcap.py vlan.pcap: 802.1Q 100, QinQ 200 outside 300, 802.1Q with PCP bits over IPv6: 600;
# the third frame, tagged 400/500, is the first flow again: VLAN is not part of the key).
test_pcap_flow_vlan() {
  $PY "$SRCDIR/tests/fixtures/gen_pcap.py" "$T/syn" >/dev/null
  printf 'ip\t10.0.0.2\nip\t2001:db8::2\n' >"$T/v.ioc"
  run 1 ab pcap --json --flows --no-progress --no-default-pack --ioc "$T/v.ioc" "$T/syn/vlan.pcap"
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for e in evs:
    if "flow" in e:
        by.setdefault(e["flow"]["id"], set()).add(e["flow"].get("vlan"))
assert by == {1: {100}, 2: {200}, 3: {600}}, by
assert [e for e in evs if e["event"] == "finding" and e["flow"].get("vlan") == 600], "no finding on 600"
EOF2
}

# antibody pcap matches a capture's flows, not its raw bytes (antibody scan does both); a capture
# is read to its end whatever the per-file budget (its members are bounded by its size); an
# explicit --max-filesize still applies.
test_pcap_budget_and_raw_bytes() {
  captures http
  net_iocs
  run 1 ab pcap --json --no-progress --no-default-pack --rules "$T/net.yar" --max-unpacked 1K \
    --max-members 2 "$T/caps/http.pcap"
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
fs = [e for e in evs if e["event"] == "finding"]
assert not [e for e in fs if len(e["location"]) == 1], "a finding on the capture's raw bytes"
assert not [e for e in fs if e["matcher"] == "limit"], [e["reason"] for e in fs if e["matcher"] == "limit"]
# the last flow (pipelining) is read too: its stream rule and both bodies
assert any(e["rule"] == "Stream" for e in fs), "the last flow was not read"
s = [e for e in evs if e["event"] == "summary"][0]
assert s["skipped_total"] == 0, s
EOF2
  run 1 abj --no-default-pack --rules "$T/net.yar" "$T/caps/http.pcap"
  $PY - "$T/out" <<'EOF2'
import json, sys
fs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"finding"' in l]
assert [e for e in fs if len(e["location"]) == 1], "antibody scan did not match the raw bytes"
assert [e for e in fs if len(e["location"]) > 1], "antibody scan did not read the flows"
EOF2
  run 2 ab pcap --json --no-progress --no-default-pack --rules "$T/net.yar" --max-filesize 1K \
    "$T/caps/http.pcap"
  grep -q '"too-large":1' "$T/out" || fail "--max-filesize was not applied"
}

# TLS (by content, also on port 25 from the first byte, as WellMail was seen) and SMTP with
# STARTTLS: SNI, JA3/JA3S/JA4, the certificates' hashes and names, a client certificate asked
# for (mutual TLS), the envelope's addresses (tshark's view of them: test_pcap_flows_tshark).
test_pcap_tls_smtp() {
  captures tls smtp
  $PY - "$T/caps/captures.json" "$T/tls.ioc" <<'EOF2'
import json, sys
f = json.load(open(sys.argv[1]))
t = f["tls_port25.pcap"]
with open(sys.argv[2], "w") as o:
    o.write("cert-sha256\t%s\tserver certificate\n" % t["server_cert_sha256"])
    o.write("cert-sha1\t%s\tclient certificate\n" % t["client_cert_sha1"])
    o.write("domain\tmail.c2.example\tSNI\n")
    o.write("email\tresearcher@our-university.example\tSMTP recipient\n")
    o.write("sha256\t%s\tthe SMTP message as written\n" % f["smtp.pcap"]["message_sha256"])
EOF2
  # what the client sent has ".." at a line's start (dot-stuffed); the message member has "."
  printf '%s\n' 'rule Unstuffed { strings: $a = "\r\n.a line that starts with a dot\r\n" condition: $a }' \
    'rule Stuffed { strings: $a = "\r\n..a line that starts with a dot\r\n" condition: $a }' >"$T/smtp.yar"
  run 1 ab pcap --json --flows --no-progress --no-default-pack --ioc "$T/tls.ioc" \
    --rules "$T/smtp.yar" "$T/caps/tls_port25.pcap" "$T/caps/smtp.pcap"
  $PY - "$T/out" "$T/caps/captures.json" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
facts = json.load(open(sys.argv[2]))
obs = {(e["value"], e["where"], e["flow"]["app_proto"]) for e in evs
       if e["event"] == "finding" and e["matcher"] == "observable"}
t = facts["tls_port25.pcap"]
for want in [(t["server_cert_sha256"], "tls.cert", "tls"),
             (t["client_cert_sha1"], "tls.client_cert", "tls"),
             ("mail.c2.example", "tls.sni", "tls"),
             ("researcher@our-university.example", "smtp.rcpt_to", "smtp")]:
    assert want in obs, (want, sorted(obs))
tls = [e for e in evs if e["event"] == "flow" and e["type"] == "tls"]
p25 = [e for e in tls if e["flow"]["dest_port"] == t["port"]]
assert p25 and p25[0]["tls"]["client_cert_requested"] is True and p25[0]["tls"]["client_certs"], p25
# the SMTP session that said STARTTLS went on in TLS: its handshake is seen too
smtp = [e for e in evs if e["event"] == "flow" and e["type"] == "smtp"]
assert any(e["smtp"].get("starttls") for e in smtp), smtp
assert any(e["flow"]["dest_port"] == facts["smtp.pcap"]["port"] for e in tls), "no TLS after STARTTLS"
# the message sent over plain SMTP is a member, unstuffed: message-1 under what the client of the
# plain session sent, its bytes the message as written (its sha256 IOC), the stuffed form only in
# the stream; the message sent after STARTTLS is encrypted, no member
sp = facts["smtp.pcap"]["port"]
fs = [e for e in evs if e["event"] == "finding" and e["path"].endswith("/smtp.pcap")]
loc = lambda e: [(x["name"], x["source"]) for x in e["location"]]
msg = [e for e in fs if e["matcher"] != "yara" and e["matcher"] != "observable"]
assert len(msg) == 1 and msg[0]["sha256"] == facts["smtp.pcap"]["message_sha256"], msg
m = msg[0]
direction = "127.0.0.1:%d->127.0.0.1:%d" % (m["flow"]["src_port"], sp)
assert loc(m)[1:] == [(direction, "flow"), ("message-1", "smtp")], loc(m)
assert m["flow"]["direction"] == "to_server" and m["flow"]["app_proto"] == "smtp", m["flow"]
unstuffed = {tuple(loc(e)[1:3]) for e in fs if e["rule"] == "Unstuffed"}
assert unstuffed == {((direction, "flow"), ("message-1", "smtp"))}, unstuffed  # and the MIME part
stuffed = [loc(e)[1:] for e in fs if e["rule"] == "Stuffed"]
assert stuffed == [[(direction, "flow")]], stuffed
EOF2
}

# ja3, ja3s, ja4 and cidr IOCs on real TLS (tls12, tls13, tls_port25): the expected fingerprints
# are not antibody's own but computed apart from it, JA3 and JA3S by tshark
# (tls.handshake.ja3/ja3s; tls_port25 decoded as TLS on its port), JA4 here from tshark's hello
# fields after FoxIO's definition (tshark 4.0 has no JA4 field). Each fires in its capture with
# its where (ja3, ja4: tls.client on what the client sent; ja3s: tls.server on what the server
# sent), nothing else fires a fingerprint, and one IOC written in upper case matches too. cidr:
# 127.0.0.0/8 on the loopback flows, and on synthetic flows 10.0.0.1 -> 10.0.0.2 and
# 2001:db8::1 -> ::2 a /31 that holds only the client (flow.src_ip) and a /127 that holds only
# the server (flow.dest_ip).
test_pcap_tls_fingerprint_iocs() {
  captures tls smtp
  $PY "$SRCDIR/tests/fixtures/gen_pcap.py" "$T/syn" >/dev/null
  $PY - "$T/caps" "$T/fp.ioc" "$T/fp.json" <<'EOF2'
import hashlib, json, subprocess, sys
caps, ioc_path, want_path = sys.argv[1:]
facts = json.load(open(caps + "/captures.json"))
GREASE = lambda v: (v & 0x0F0F) == 0x0A0A and v >> 8 == v & 0xFF
VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}
nums = lambda s: [int(x, 0) for x in s.split(",") if x]
def ja4(ver, ciphers, exts, sigs, versions, alpn, sni):
    """JA4 (FoxIO, TCP): t, version (highest supported_versions, else the hello's), d/i (SNI),
    cipher and extension counts, first and last character of the first ALPN value; then the
    sorted ciphers hashed; then the sorted extensions without SNI and ALPN, and the signature
    algorithms in their order, hashed. GREASE values are left out."""
    ciphers = [c for c in nums(ciphers) if not GREASE(c)]
    exts = [e for e in nums(exts) if not GREASE(e)]
    versions = [v for v in nums(versions) if not GREASE(v)]
    v = VERSIONS.get(max(versions) if versions else int(ver, 0), "00")
    first = alpn.split(",")[0]
    a = first[0] + first[-1] if first else "00"
    h = lambda t: hashlib.sha256(t.encode()).hexdigest()[:12]
    b = h(",".join("%04x" % c for c in sorted(ciphers)))
    c = ",".join("%04x" % e for e in sorted(exts) if e not in (0x0000, 0x0010))
    sig = ",".join("%04x" % x for x in nums(sigs))
    return "t%s%s%02d%02d%s_%s_%s" % (v, "d" if sni else "i", min(len(ciphers), 99),
                                      min(len(exts), 99), a, b, h(c + ("_" + sig if sig else "")))
want = []  # (capture, ioc type, value, where, direction)
for cap in ("tls12.pcap", "tls13.pcap", "tls_port25.pcap"):
    fields = ["tls.handshake.type", "tls.handshake.ja3", "tls.handshake.ja3s", "tls.handshake.version",
              "tls.handshake.ciphersuite", "tls.handshake.extension.type", "tls.handshake.sig_hash_alg",
              "tls.handshake.extensions.supported_version", "tls.handshake.extensions_alpn_str",
              "tls.handshake.extensions_server_name"]
    out = subprocess.run(["tshark", "-r", "%s/%s" % (caps, cap), "-n", "-d",
                          "tcp.port==%d,tls" % facts[cap]["port"], "-Y",
                          "tls.handshake.type == 1 || tls.handshake.type == 2", "-T", "fields",
                          "-E", "separator=|"] + sum((["-e", f] for f in fields), []),
                         capture_output=True, text=True, check=True).stdout
    got = {}
    for line in out.splitlines():
        typ, j3, j3s, ver, ciphers, exts, sigs, versions, alpn, sni = line.split("|")
        if "1" in typ.split(","):
            got["ja3"] = j3
            got["ja4"] = ja4(ver, ciphers, exts, sigs, versions, alpn, sni)
        if "2" in typ.split(","):
            got["ja3s"] = j3s
    assert len(got) == 3 and all(len(v) == 32 for k, v in got.items() if k != "ja4"), (cap, out)
    want += [(cap, "ja3", got["ja3"], "tls.client", "to_server"),
             (cap, "ja4", got["ja4"], "tls.client", "to_server"),
             (cap, "ja3s", got["ja3s"], "tls.server", "to_client")]
want += [("tls12.pcap", "cidr", "127.0.0.1", "flow.src_ip", "to_server"),
         ("tls13.pcap", "cidr", "127.0.0.1", "flow.src_ip", "to_server"),
         ("tls_port25.pcap", "cidr", "127.0.0.1", "flow.src_ip", "to_server"),
         ("eth_ipv4.pcap", "cidr", "10.0.0.1", "flow.src_ip", "to_server"),
         ("eth_ipv6.pcap", "cidr", "2001:db8::2", "flow.dest_ip", "to_server")]
with open(ioc_path, "w") as f:
    for cap, t, v, _, _ in want:
        if t != "cidr":
            # one written in upper case: fingerprints are matched without case
            f.write("%s\t%s\t%s %s\n" % (t, v.upper() if (cap, t) == ("tls13.pcap", "ja3") else v, cap, t))
    f.write("cidr\t127.0.0.0/8\tloopback\ncidr\t10.0.0.0/31\tthe client only\n"
            "cidr\t2001:db8::2/127\tthe server only\n")
json.dump(want, open(want_path, "w"))
EOF2
  run 1 ab pcap --json --no-progress --no-default-pack --ioc "$T/fp.ioc" "$T/caps/tls12.pcap" \
    "$T/caps/tls13.pcap" "$T/caps/tls_port25.pcap" "$T/syn/eth_ipv4.pcap" "$T/syn/eth_ipv6.pcap"
  $PY - "$T/out" "$T/fp.json" <<'EOF2'
import json, os, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
want = json.load(open(sys.argv[2]))
assert not [e for e in evs if e["event"] == "error"], [e for e in evs if e["event"] == "error"]
fs = [e for e in evs if e["event"] == "finding"]
assert fs and all(e["matcher"] == "observable" for e in fs), fs
got = {(os.path.basename(e["path"]), e["value_type"] if e["value_type"] != "ip" else "cidr",
        e["value"], e["where"], e["flow"]["direction"]) for e in fs}
want = {tuple(w) for w in want}
assert got == want, ("missing", sorted(want - got), "unexpected", sorted(got - want))
for e in fs:  # the reason names the IOC's type; the flow is the one the value was read in
    t = e["value_type"] if e["value_type"] != "ip" else "cidr"
    assert e["reason"] == "%s IOC (%s)" % (t, e["where"]), e["reason"]
    if t != "cidr":
        assert e["rule"] == e["value"] and e["flow"]["app_proto"] == "tls", e
cidr = {os.path.basename(e["path"]): e["rule"] for e in fs if e["value_type"] == "ip"}
assert cidr["eth_ipv4.pcap"] == "10.0.0.0/31" and cidr["eth_ipv6.pcap"] == "2001:db8::2/127", cidr
print("ok:", len(fs), "findings,", len(want), "expected")
EOF2
}

# A zip downloaded over HTTP is opened (antibody(1), "a zip downloaded over HTTP is opened"):
# http_zip.pcap (gen_captures.py) is curl fetching /files/report.zip, the response chunked; the
# marker is in a deflated file inside, so the rule can only fire on the opened member, found at
# capture > the server's direction > the transaction > response-body > docs/readme.txt. The body
# de-chunked is the zip as served (its sha256 IOC fires on response-body).
test_pcap_http_zip() {
  captures http dns
  $PY - "$T/caps/captures.json" "$T/zip.ioc" "$T/zip.yar" <<'EOF2'
import json, sys
z = json.load(open(sys.argv[1]))["http_zip.pcap"]
open(sys.argv[2], "w").write("sha256\t%s\tthe zip as served\n" % z["zip_sha256"])
open(sys.argv[3], "w").write('rule Zipped { strings: $a = "%s" condition: $a }\n' % z["marker"])
EOF2
  run 1 ab pcap --json --no-progress --no-default-pack --ioc "$T/zip.ioc" --rules "$T/zip.yar" \
    "$T/caps/http_zip.pcap"
  $PY - "$T/out" "$T/caps/captures.json" "$T/caps/http_zip.pcap" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
z = json.load(open(sys.argv[2]))["http_zip.pcap"]
assert not [e for e in evs if e["event"] == "error"], [e for e in evs if e["event"] == "error"]
fs = [e for e in evs if e["event"] == "finding"]
rule = [e for e in fs if e["rule"] == "Zipped"]
assert len(rule) == 1, rule  # on the member only: not on the body, the stream or the capture
e = rule[0]
names = [x["name"] for x in e["location"]]
sources = [x["source"] for x in e["location"]]
f = e["flow"]
server_dir = "127.0.0.1:%d->127.0.0.1:%d" % (z["port"], f["src_port"])
assert names == [sys.argv[3], server_dir, "GET " + z["uri"], "response-body", z["member"]], names
assert sources == ["file", "flow", "http", "http", "zip"], sources
assert f["direction"] == "to_client" and f["dest_port"] == z["port"] and f["app_proto"] == "http", f
body = [e for e in fs if e["matcher"] != "yara"]
assert len(body) == 1 and body[0]["sha256"] == z["zip_sha256"], body
assert [x["name"] for x in body[0]["location"]][-1] == "response-body", body[0]["location"]
print("ok")
EOF2
}

# Memory stays bounded by the limits, not by the capture: two hostile captures of the same kind
# (tests/fixtures/gen_pcap.py --stress: 1500 flows per unit past --max-flows, out-of-order segments
# held until a cap gives their hole up, overlapping fragments, streams past --stream-depth), one
# of 1 unit (3 MiB) and one of 12 (37 MiB), read by one worker; the peak RSS of antibody and its
# worker (getrusage RUSAGE_CHILDREN, the largest) stays under 64 MiB and the big capture costs at
# most 8 MiB more than the small one (the capture's pages are given back behind the reader:
# without that the big one costs its size, 30 MiB more). The summary counts what the bounds did.
test_pcap_memory_bound() {
  $PY "$SRCDIR/tests/fixtures/gen_pcap.py" --stress 1 "$T/small.pcap"
  $PY "$SRCDIR/tests/fixtures/gen_pcap.py" --stress 12 "$T/big.pcap"
  printf 'domain\tnot-in-the-capture.example\n' >"$T/n.ioc"
  $PY - "$ANTIBODY" "$T" <<'EOF2'
import json, os, resource, subprocess, sys
ab, t = sys.argv[1], sys.argv[2]
# Under AddressSanitizer freed memory sits in its quarantine (256 MiB by default) instead of being
# reused, so the peak grows with all that was ever allocated: the quarantine is turned off there,
# and the fixed bound allows for the sanitizer's own memory (shadow, allocator); the growth check
# is the same.
asan = b"libasan" in subprocess.run(["ldd", ab], capture_output=True).stdout
env = dict(os.environ)
if asan:
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0"
bound_kb = (256 if asan else 64) * 1024
def peak(name, stdin=False):
    # a fresh interpreter per run: RUSAGE_CHILDREN is the largest child it waited for (antibody,
    # its workers, the reader of a capture on standard input)
    code = ("import resource, subprocess, sys\n"
            "i = open(sys.argv[2], 'rb') if sys.argv[2] != '-' else None\n"
            "p = subprocess.run(sys.argv[3:], stdin=i, stdout=open(sys.argv[1], 'wb'))\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n")
    out = "%s/%s%s.json" % (t, name, ".stdin" if stdin else "")
    cap = "%s/%s.pcap" % (t, name)
    r = subprocess.run([sys.executable, "-c", code, out, cap if stdin else "-", ab, "pcap", "-j",
                        "1", "--json", "--no-progress", "--no-default-pack", "--ioc", t + "/n.ioc",
                        "--max-flows", "1000", "--stream-memcap", "4M", "--stream-depth", "64K",
                        "-" if stdin else cap], capture_output=True, text=True, check=True,
                       env=dict(env, ANTIBODY_TEST_FAULT="stall-live:1") if stdin else env)
    kb, rc = map(int, r.stdout.split())
    assert rc == 0, (name, rc, r.stderr)
    evs = [json.loads(l) for l in open(out)]
    assert not [e for e in evs if e["event"] == "error"], evs
    return kb, [e for e in evs if e["event"] == "summary"][0]["network"]
small_kb, s = peak("small")
big_kb, b = peak("big")
# Read as a stream (antibody pcap -) by a worker that waits a second before its first frame (test
# hook stall-live:1), while the reader has the whole capture at once: the parent holds at most a
# few MiB for the worker and reads no further until it catches up, and nothing is dropped.
stream_kb, bs = peak("big", stdin=True)
print("peak RSS: small %d KiB, big %d KiB, big on stdin %d KiB" % (small_kb, big_kb, stream_kb))
assert bs["frames"] == b["frames"] and bs["flows"] == b["flows"], (bs, b)
assert stream_kb < bound_kb and stream_kb <= small_kb + 16 * 1024, (small_kb, stream_kb)
for n in (s, b):
    assert n["captures"] == 1, n
    for k in ("flows_evicted_max_flows", "gaps", "gap_bytes", "ooo_segments_dropped", "fragments",
              "streams_cut_stream_depth"):
        assert n[k] > 0, (k, n)
    assert n["peak_flows"] <= 1000, n
assert b["frames"] >= 11 * s["frames"], (s["frames"], b["frames"])  # all of it was read
assert small_kb < bound_kb and big_kb < bound_kb, (small_kb, big_kb, bound_kb)
assert big_kb <= small_kb + 8 * 1024, ("memory grew with the capture", small_kb, big_kb)
EOF2
}

# --stream-depth, --max-flows, --stream-memcap: out-of-range values are a usage error (exit 2,
# before anything is read), valid ones are taken by pcap and by scan; the console summary has its
# network line only when a capture was read.
test_pcap_limit_options() {
  $PY "$SRCDIR/tests/fixtures/gen_pcap.py" "$T/syn" >/dev/null
  printf 'domain\tnot-in-the-capture.example\n' >"$T/n.ioc"
  local bad
  for bad in "--stream-depth 0" "--stream-depth 2G" "--stream-depth 1x" "--max-flows 0" \
    "--max-flows -5" "--max-flows 99999999" "--stream-memcap 512K" "--stream-memcap 65G"; do
    # shellcheck disable=SC2086
    run 2 ab pcap --no-progress --no-default-pack --ioc "$T/n.ioc" $bad "$T/syn/frag4.pcap"
    grep -q "antibody: ${bad%% *}: expected" "$T/err" || fail "no usage error for $bad: $(cat "$T/err")"
  done
  run 0 ab pcap --no-progress --no-default-pack --ioc "$T/n.ioc" --stream-depth 1K --max-flows 1 \
    --stream-memcap 1M "$T/syn/frag4.pcap" "$T/syn/eth_ipv4.pcap"
  grep -q "^antibody: network: 2 captures, " "$T/out" || fail "no network line: $(cat "$T/out")"
  run 0 ab scan --no-progress --no-default-pack --ioc "$T/n.ioc" --max-flows 2 "$T/syn/vlan.pcap"
  grep -q "^antibody: network: 1 capture, " "$T/out" || fail "scan: no network line"
  echo "no capture here" >"$T/plain.txt"
  run 0 ab scan --no-progress --no-default-pack --ioc "$T/n.ioc" --json "$T/plain.txt"
  ! grep -q '"network"' "$T/out" || fail "a network summary without a capture"
  run 0 ab scan --no-progress --no-default-pack --ioc "$T/n.ioc" "$T/plain.txt"
  ! grep -q "network:" "$T/out" || fail "a network line without a capture"
}

# A value read early in a long flow says its own packet's time, not the flow's end: an HTTP
# keep-alive connection asks for c2.example at T+2 s and for later.example at T+50 s, and ends at
# T+100 s.
test_pcap_observable_time() {
  $PY - "$SRCDIR/tests/fixtures" "$T/ka.pcap" <<'EOF2'
import sys
sys.path.insert(0, sys.argv[1])
import gen_pcap as g
r1 = b"GET /a HTTP/1.1\r\nHost: c2.example\r\n\r\n"
r2 = b"GET /b HTTP/1.1\r\nHost: later.example\r\n\r\n"
s = 1000
fr = [(g.eth(0x0800, g.tcp4(b"", seq=s - 1, flags=0x02)), None, 1 * 10**9),
      (g.eth(0x0800, g.tcp4(r1, seq=s)), None, 2 * 10**9),
      (g.eth(0x0800, g.tcp4(r2, seq=s + len(r1))), None, 50 * 10**9),
      (g.eth(0x0800, g.tcp4(b"", seq=s + len(r1) + len(r2), flags=0x11)), None, 100 * 10**9)]
g.write_pcap(sys.argv[2], g.LT_ETH, fr)
EOF2
  printf 'domain\tc2.example\tearly\ndomain\tlater.example\tlate\n' >"$T/ka.ioc"
  run 1 ab pcap --json --no-progress --no-default-pack --ioc "$T/ka.ioc" "$T/ka.pcap"
  $PY - "$T/out" <<'EOF2'
import json, sys
fs = {e["value"]: e for e in map(json.loads, open(sys.argv[1])) if e["event"] == "finding"}
assert fs["c2.example"]["flow"]["time"] == "2023-11-14T22:13:22.000Z", fs["c2.example"]["flow"]
assert fs["later.example"]["flow"]["time"] == "2023-11-14T22:14:10.000Z", fs["later.example"]["flow"]
assert fs["c2.example"]["flow"]["start"] == "2023-11-14T22:13:21.000Z", fs["c2.example"]["flow"]
EOF2
}

# A capture file's worker lost on a flow (a crash in a member, the test hook crash:NAME by the
# flow direction's name): one error names that flow, the capture goes on from the next frame in
# a new worker (AB_JOB_RESUME), the flows after it are still reported, the file is one object.
# A capture that loses every worker stops after AB_WIRE_MAX_RESUMES resumes, with its error.
resume_capture() { # PATH FLOWS: FLOWS TCP sessions in turn, 10.0.0.1:4000N -> 10.0.0.2:80
  $PY - "$SRCDIR/tests/fixtures" "$1" "$2" <<'EOF2'
import sys
sys.path.insert(0, sys.argv[1])
from gen_pcap import A4, B4, LT_RAW, ipv4, tcp, write_pcap
frames = []
for i in range(int(sys.argv[3])):
    sp, data = 40000 + i, b"hello from flow %d\n" % i
    c = lambda payload=b"", **kw: ipv4(A4, B4, 6, tcp(A4, B4, payload, sport=sp, dport=80, **kw))
    s = lambda **kw: ipv4(B4, A4, 6, tcp(B4, A4, b"", sport=80, dport=sp, **kw))
    # SYN, SYN/ACK, ACK, data, FIN, FIN: the second FIN ends the flow (its member is scanned in
    # that frame); no last ACK, so nothing of the flow follows the frame it ends in
    frames += [c(seq=1000, ack=0, flags=0x02), s(seq=5000, ack=1001, flags=0x12),
               c(seq=1001, ack=5001, flags=0x10), c(data, seq=1001, ack=5001, flags=0x18),
               c(seq=1001 + len(data), ack=5001, flags=0x11),
               s(seq=5001, ack=1002 + len(data), flags=0x11)]
write_pcap(sys.argv[2], LT_RAW, frames)
EOF2
}

test_pcap_resume_after_crash() {
  grep -q test_hooks "$SRCDIR/meson_options.txt"
  mkdir -p "$T/r"
  resume_capture "$T/r/six.pcap" 6
  resume_capture "$T/r/twelve.pcap" 12
  printf 'ip\t10.0.0.2\ttest address of every flow\n' >"$T/r.ioc"
  ANTIBODY_TEST_FAULT="crash:10.0.0.1:40002->10.0.0.2:80" \
    run 1 ab pcap --json --no-progress --no-default-pack --ioc "$T/r.ioc" "$T/r/six.pcap"
  $PY - "$T/out" "$T/r/six.pcap" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
loc = lambda e: [x["name"] for x in e["location"]]
errs = [e for e in evs if e["event"] == "error"]
assert len(errs) == 1, errs
e = errs[0]
assert loc(e) == [sys.argv[2], "10.0.0.1:40002->10.0.0.2:80"], loc(e)
m = e["message"]
# SIGSEGV; under ASan the worker's sanitizer reports and exits, or aborts (abort_on_error)
assert ("SIGSEGV" in m or "SIGABRT" in m or "exited" in m) and "on this member" in m, m
# the flow ends in its 6th frame: frame 18 of the capture
assert "lost" in m and "goes on from frame 19 in a new worker" in m, m
fs = [f for f in evs if f["event"] == "finding" and f["matcher"] == "observable"]
ports = sorted(f["flow"]["src_port"] for f in fs)
assert ports == [40000, 40001, 40003, 40004, 40005], ports  # before and after the crash
ids = [f["flow"]["id"] for f in sorted(fs, key=lambda f: f["flow"]["src_port"])]
assert len(set(ids)) == len(ids) and ids[2] >= 1 << 40 and ids[1] < 1 << 40, ids
assert all(loc(f)[0] == sys.argv[2] and len(loc(f)) == 2 for f in fs), fs
s = evs[-1]
assert s["event"] == "summary" and s["objects"] == 1 and s["errors"] == 1, s
print("ok")
EOF2
  # every flow crashes: 1 loss and 8 resumes, then the capture is given up (flows 10-12 unread)
  local crash="" i
  for i in $(seq 0 11); do crash="$crash${crash:+,}crash:10.0.0.1:$((40000 + i))->10.0.0.2:80"; done
  ANTIBODY_TEST_FAULT="$crash" \
    run 2 ab pcap --json --no-progress --no-default-pack --ioc "$T/r.ioc" "$T/r/twelve.pcap"
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
loc = lambda e: [x["name"] for x in e["location"]]
errs = [e for e in evs if e["event"] == "error"]
assert len(errs) == 9, [e["message"] for e in errs]
assert [loc(e)[1] for e in errs] == ["10.0.0.1:%d->10.0.0.2:80" % (40000 + i) for i in range(9)]
assert all("goes on from frame %d " % (6 * i + 7) in e["message"] for i, e in enumerate(errs[:8]))
assert "gave up on this capture after 9 worker losses" in errs[8]["message"], errs[8]
assert "goes on" not in errs[8]["message"], errs[8]
assert not [e for e in evs if e["event"] == "finding"]
s = evs[-1]
assert s["event"] == "summary" and s["objects"] == 0 and s["errors"] == 9, s
print("ok")
EOF2
}

# The summary of a resumed capture sums its workers: members and the network counters of a lost
# worker are those it reported (at its last scanned flow) before it was lost, added to those of
# the worker that went on; frames and bytes are every frame of the file once (a resumed worker
# counts the frames it skips), captures 1. The console's network line says the same.
test_pcap_resume_summary() {
  grep -q test_hooks "$SRCDIR/meson_options.txt"
  mkdir -p "$T/r"
  resume_capture "$T/r/six.pcap" 6
  printf 'ip\t10.0.0.2\ttest address of every flow\n' >"$T/r.ioc"
  run 1 ab pcap --json --list --no-progress --no-default-pack --ioc "$T/r.ioc" "$T/r/six.pcap"
  cp "$T/out" "$T/clean.json"
  ANTIBODY_TEST_FAULT="crash:10.0.0.1:40002->10.0.0.2:80" \
    run 1 ab pcap --json --list --no-progress --no-default-pack --ioc "$T/r.ioc" "$T/r/six.pcap"
  $PY - "$T/out" "$T/clean.json" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
clean = [json.loads(l) for l in open(sys.argv[2])][-1]
s = evs[-1]
assert s["event"] == "summary" and s["errors"] == 1 and s["objects"] == 1, s
members = [e for e in evs if e["event"] == "object" and len(e["location"]) > 1]
# the first worker scanned flows 0 and 1, the second 3, 4 and 5: every member scanned counts
assert len(members) == 5 and s["members"] == 5, (len(members), s["members"])
assert s["member_bytes"] == sum(e["size"] for e in members), s
n, c = s["network"], clean["network"]
assert n["captures"] == 1 and n["frames"] == c["frames"] == 36 and n["bytes"] == c["bytes"], n
# frames 1-12 decoded by the first worker (its last report: flow 1's member), 19-36 by the second
assert n["packets"] == 12 + 18 and n["flows"] == 2 + 3, n
print("ok")
EOF2
  ANTIBODY_TEST_FAULT="crash:10.0.0.1:40002->10.0.0.2:80" \
    run 1 ab pcap --no-progress --no-default-pack --ioc "$T/r.ioc" "$T/r/six.pcap"
  assert_contains "$T/out" "antibody: network: 1 capture, 36 frames"
  assert_contains "$T/out" ", 5 flows"
  assert_contains "$T/out" "5 members"
}

# A crash or a stall in the pipeline between members (test hooks crash-parse:PORT and
# hang-parse:PORT: when the flow from client port PORT gives its first bytes to be parsed) is
# blamed on that flow and its frame, not on "decoding and parsing frames"; the capture goes on.
test_pcap_parser_crash_flow() {
  grep -q test_hooks "$SRCDIR/meson_options.txt"
  mkdir -p "$T/r"
  resume_capture "$T/r/six.pcap" 6
  printf 'ip\t10.0.0.2\ttest address of every flow\n' >"$T/r.ioc"
  ANTIBODY_TEST_FAULT="crash-parse:40002" \
    run 1 ab pcap --json --no-progress --no-default-pack --ioc "$T/r.ioc" "$T/r/six.pcap"
  cp "$T/out" "$T/crash.json"
  ANTIBODY_TEST_FAULT="hang-parse:40002" run 1 ab pcap --json --no-progress --no-default-pack \
    --timeout 1 --ioc "$T/r.ioc" "$T/r/six.pcap"
  $PY - "$T/crash.json" "$T/out" "$T/r/six.pcap" <<'EOF2'
import json, sys
for name, kind in ((sys.argv[1], "crash"), (sys.argv[2], "hang")):
    evs = [json.loads(l) for l in open(name)]
    errs = [e for e in evs if e["event"] == "error"]
    assert len(errs) == 1, errs
    e = errs[0]
    assert e["location"] == [{"name": sys.argv[3], "source": "file"},
                             {"name": "10.0.0.1:40002->10.0.0.2:80", "source": "flow"}], e
    m = e["message"]
    if kind == "crash":  # SIGSEGV; under ASan a report and an exit, or SIGABRT
        assert ("SIGSEGV" in m or "SIGABRT" in m or "exited" in m), m
    else:
        assert "time limit" in m, m
    # its data is frame 16 (the flow's 4th): the capture goes on from frame 17
    assert "while parsing this flow (frame 16)" in m and "decoding" not in m, m
    assert "goes on from frame 17 in a new worker without the flow it was on" in m, m
    # the flow is given up: its last frames (its FINs) are not read by the new worker, which
    # would meet the same crash or hang again
    ports = sorted(f["flow"]["src_port"] for f in evs if f["event"] == "finding")
    assert ports == [40000, 40001, 40003, 40004, 40005], ports
print("ok")
EOF2
  ANTIBODY_TEST_FAULT="crash-parse:40002" \
    run 1 ab pcap --no-progress --no-default-pack --ioc "$T/r.ioc" "$T/r/six.pcap"
  assert_contains "$T/err" "six.pcap!10.0.0.1:40002->10.0.0.2:80: scanner worker"
}

# What is hashed: payload objects (an HTTP body) are files and get their hashes; a flow
# direction a parser read (HTTP here) is no file, and is not hashed (the body inside it is,
# once); a direction no parser read (a raw transfer may be a file as sent) is.
test_pcap_stream_hashes() {
  captures http
  net_iocs
  printf 'sha256\t%064d\tenables hashing\n' 0 >>"$T/net.ioc"
  printf 'rule Any { condition: filesize > 0 }\n' >"$T/any.yar"
  $PY "$SRCDIR/tests/fixtures/gen_pcap.py" "$T/syn" >/dev/null
  run 1 ab pcap --json --no-progress --no-default-pack --ioc "$T/net.ioc" --rules "$T/any.yar" \
    "$T/caps/http.pcap" "$T/syn/eth_ipv4.pcap"
  $PY - "$T/out" <<'EOF2'
import json, sys
fs = [json.loads(l) for l in open(sys.argv[1])]
fs = [e for e in fs if e["event"] == "finding" and e["rule"] == "Any"]
body = [e for e in fs if e["location"][-1]["source"] == "http"]
http_dir = [e for e in fs if e["location"][-1]["source"] == "flow" and e["flow"].get("app_proto")]
raw_dir = [e for e in fs if e["location"][-1]["source"] == "flow" and not e["flow"].get("app_proto")]
assert body and http_dir and raw_dir, (len(body), len(http_dir), len(raw_dir))
assert all("sha256" in e and "md5" in e for e in body), body[0]
assert not any("sha256" in e or "md5" in e for e in http_dir), http_dir[0]
assert all("sha256" in e for e in raw_dir), raw_dir[0]
print("ok", len(body), "bodies hashed,", len(http_dir), "HTTP directions not,", len(raw_dir), "raw hashed")
EOF2
}

# antibody pcap - reads a capture from standard input as a stream (a reader process, the frames
# to one worker): the same findings and --flows records as the file, in the location "stdin"; a
# capture cut short or no capture at all is an error event (exit 2); '-' is read alone.
test_pcap_stdin() {
  captures http dns
  net_iocs
  local opts=(--json --no-progress --no-default-pack --ioc "$T/net.ioc" --rules "$T/net.yar" --flows)
  for c in http dns; do
    run 1 ab pcap "${opts[@]}" "$T/caps/$c.pcap"
    mv "$T/out" "$T/$c.file.json"
    run 1 sh -c 'f=$1; shift; "$0" pcap "$@" - <"$f"' "$ANTIBODY" "$T/caps/$c.pcap" "${opts[@]}"
    mv "$T/out" "$T/$c.stdin.json"
    cat "$T/caps/$c.pcap" | ab pcap "${opts[@]}" - >"$T/$c.pipe.json" 2>"$T/err" &&
      fail "a pipe with findings gave exit 0" || [ $? = 1 ] || fail "a pipe: exit not 1"
  done
  $PY - "$T" <<'EOF2'
import json, sys
t = sys.argv[1]
def load(p):
    return [json.loads(l) for l in open(p)]
def key(e):
    # what a finding or record says, less the times of the run and the top level's name
    f = dict(e.get("flow", {}))
    loc = [x["name"] for x in e.get("location", [])][1:]
    if e["event"] == "finding":
        return ("finding", e["matcher"], e.get("rule"), e.get("value"), e.get("where"),
                tuple(loc), f.get("id"), f.get("direction"))
    rec = {k: v for k, v in e.items()
           if k not in ("time", "sweep_id", "host", "flow", "path", "location")}
    f.pop("time", None)
    return ("flow", json.dumps(rec, sort_keys=True), json.dumps(f, sort_keys=True))
for c in ("http", "dns"):
    file_evs = load("%s/%s.file.json" % (t, c))
    want = sorted(key(e) for e in file_evs if e["event"] in ("finding", "flow"))
    assert want, c
    for how in ("stdin", "pipe"):
        evs = load("%s/%s.%s.json" % (t, c, how))
        assert not [e for e in evs if e["event"] == "error"], (c, how, evs)
        got = sorted(key(e) for e in evs if e["event"] in ("finding", "flow"))
        assert got == want, (c, how, [x for x in got if x not in want], [x for x in want if x not in got])
        fs = [e for e in evs if e["event"] == "finding"]
        assert all(e["location"][0] == {"name": "stdin", "source": "stream"} for e in fs), fs[0]
        s = evs[-1]
        assert s["event"] == "summary" and s["objects"] == 1 and "capture" not in s, s
        fn = [e for e in file_evs if e["event"] == "summary"][0]["network"]
        assert s["network"]["frames"] == fn["frames"] and s["network"]["flows"] == fn["flows"], (s, fn)
print("ok")
EOF2
  # cut short: what came before is read (its findings: exit 1, as with errors and findings in a
  # sweep), then an error event
  head -c 3000 "$T/caps/http.pcap" >"$T/cut.pcap"
  run 1 sh -c 'f=$1; shift; "$0" pcap "$@" - <"$f"' "$ANTIBODY" "$T/cut.pcap" "${opts[@]}"
  grep -q '"event":"error".*"path":"stdin".*truncated' "$T/out" || fail "no error for a cut capture"
  grep -q '"type":"http"' "$T/out" || fail "the flows before the cut were not read"
  run 2 sh -c 'echo "not a capture" | "$0" pcap --no-progress -' "$ANTIBODY"
  grep -q "stdin: capture ended: no capture read: unknown file format" \
    "$T/err" || fail "no error for a text on stdin"
  run 2 ab pcap --no-progress - "$T/caps/http.pcap" </dev/null
  grep -q "read alone" "$T/err" || fail "no usage error for - with another capture"
  # The frame right after the one in flight is another flow's SYN: it goes to the new worker (a
  # batch cut one frame too far would lose it, and flow 4 would be picked up mid-stream).
  mkdir -p "$T/r"
  printf 'ip\t10.0.0.2\ttest address of every flow\n' >"$T/r.ioc"
  $PY - "$SRCDIR/tests/fixtures" "$T/r/interleaved.pcap" <<'EOF2'
import sys
sys.path.insert(0, sys.argv[1])
from gen_pcap import A4, B4, LT_RAW, ipv4, tcp, write_pcap
def flow(sp):
    data = b"hello from flow %d\n" % (sp - 40000)
    c = lambda payload=b"", **kw: ipv4(A4, B4, 6, tcp(A4, B4, payload, sport=sp, dport=80, **kw))
    s = lambda **kw: ipv4(B4, A4, 6, tcp(B4, A4, b"", sport=80, dport=sp, **kw))
    return [c(seq=1000, ack=0, flags=0x02), s(seq=5000, ack=1001, flags=0x12),
            c(seq=1001, ack=5001, flags=0x10), c(data, seq=1001, ack=5001, flags=0x18),
            c(seq=1001 + len(data), ack=5001, flags=0x11),
            s(seq=5001, ack=1002 + len(data), flags=0x11)]
a, b = flow(40002), flow(40004)
frames = flow(40000) + flow(40001) + a[:4] + b + a[4:]  # frame 16: 40002's data; 17: 40004's SYN
write_pcap(sys.argv[2], LT_RAW, frames)
EOF2
  ANTIBODY_TEST_FAULT="crash-parse:40002" run 1 sh -c 'f=$1; shift; "$0" pcap "$@" - <"$f"' \
    "$ANTIBODY" "$T/r/interleaved.pcap" --json --flows --no-progress --no-default-pack \
    --ioc "$T/r.ioc"
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert len([e for e in evs if e["event"] == "error"]) == 1, evs
conn = {e["flow"]["src_port"]: e["conn"] for e in evs if e.get("type") == "conn"}
c = conn.get(40004)
assert c and not c["midstream"] and c["pkts_toserver"] == 4 and c["pkts_toclient"] == 2, conn
ports = sorted(f["flow"]["src_port"] for f in evs if f["event"] == "finding")
assert ports == [40000, 40001, 40004], ports
print("ok")
EOF2
  # A stream that is not over (tcpdump -w - upstream): what came is read now, not held back
  # until more comes. The reader gathers its records, and writes them before it waits; the parent
  # takes 64 frames a turn, and the rest it holds without the pipe saying more (pending). 20 flows
  # of 6 frames each, all ended: 20 conn records while the pipe is still open.
  mkdir -p "$T/o"
  resume_capture "$T/o/twenty.pcap" 20
  $PY - "$ANTIBODY" "$T/o/twenty.pcap" <<'EOF2'
import select, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "pcap", "--flows", "--no-progress", "--no-default-pack", "-"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
p.stdin.write(open(sys.argv[2], "rb").read())
p.stdin.flush()
conns = lambda b: sum(1 for l in b.split(b"\n") if b'"type":"conn"' in l)
t0, got = time.time(), b""
while conns(got) < 20 and time.time() - t0 < 20:
    if select.select([p.stdout], [], [], 0.5)[0]:
        got += p.stdout.read1(65536)
open_for, n = time.time() - t0, conns(got)
p.stdin.close()
p.wait()
assert n == 20, "%d of 20 flows said while the stream was open (%.1f s)" % (n, open_for)
print("20 flows said %.2f s after their frames, the stream still open" % open_for)
EOF2
  # A parser crash costs the frame in flight and the flows open in the worker, said with the
  # flow; a new worker goes on from the next frame.
  mkdir -p "$T/r"
  resume_capture "$T/r/six.pcap" 6
  printf 'ip\t10.0.0.2\ttest address of every flow\n' >"$T/r.ioc"
  ANTIBODY_TEST_FAULT="crash-parse:40002" run 1 sh -c 'f=$1; shift; "$0" pcap "$@" - <"$f"' \
    "$ANTIBODY" "$T/r/six.pcap" --json --no-progress --no-default-pack --ioc "$T/r.ioc"
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
errs = [e for e in evs if e["event"] == "error"]
assert len(errs) == 1, errs
e = errs[0]
assert e["location"] == [{"name": "stdin", "source": "stream"},
                         {"name": "10.0.0.1:40002->10.0.0.2:80", "source": "flow"}], e
assert "the capture goes on in a new worker without the flow it was on" in e["message"], e
# the frames after the one in flight go to the new worker, although the parent had sent them
# all before the crash, but for the flow given up (its FINs)
ports = sorted(f["flow"]["src_port"] for f in evs if f["event"] == "finding")
assert ports == [40000, 40001, 40003, 40004, 40005], ports
print("ok")
EOF2
}
