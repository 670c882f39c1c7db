#!/usr/bin/env python3
"""net_check.py WHAT JSONL CAPTURE FACTS: antibody's flow records against tshark's fields.

WHAT is http, dns or tls. JSONL is `antibody pcap --flows` output for CAPTURE; FACTS is
gen_captures.py's captures.json (the ports, so tshark decodes what is on a random port). The
values antibody extracts must be exactly those tshark extracts, as multisets:
  http: (http.host, http.request.uri, http.user_agent) of every request
  dns:  dns.qry.name of every query (qr false) and of every response (qr true)
  tls:  (tls.handshake.extensions_server_name, tls.handshake.ja3, tls.handshake.ja3s) of every
        handshake (one flow each in these captures)
Exits 1 with a diff when they differ, or when either side found nothing (a test that can fail).
"""
import collections
import json
import os
import subprocess
import sys

what, jsonl, cap, facts_path = sys.argv[1:5]
facts = json.load(open(facts_path))[os.path.basename(cap)]
port = facts["port"]


def tshark(filt, fields, decode):
    cmd = ["tshark", "-n", "-r", cap, "-Y", filt, "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=\x1f"]
    for d in decode:
        cmd += ["-d", d]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        cols = [c.split("\x1f") for c in line.split("\t")]
        # a frame holding several requests (pipelining) gives aggregated columns
        for i in range(max(len(c) for c in cols)):
            rows.append(tuple(c[i] if i < len(c) else "" for c in cols))
    return rows


records = [json.loads(l) for l in open(jsonl)]
records = [r for r in records if r.get("event") == "flow"]
if what == "http":
    ours = [(r["http"].get("host", ""), r["http"].get("uri", ""), r["http"].get("user_agent", ""))
            for r in records if r["type"] == "http" and "method" in r["http"]]
    theirs = tshark("http.request", ["http.host", "http.request.uri", "http.user_agent"],
                    ["tcp.port==%d,http" % port])
elif what == "dns":
    ours = []
    for r in records:
        if r["type"] == "dns":
            for q in r["dns"].get("queries", []):
                ours.append((q["name"], "response" if r["dns"]["qr"] else "query"))
    theirs = [(n, "response" if qr == "1" else "query")
              for n, qr in tshark("dns", ["dns.qry.name", "dns.flags.response"],
                                  ["udp.port==%d,dns" % port, "tcp.port==%d,dns" % port])]
elif what == "tls":
    ours = [(r["tls"].get("sni", ""), r["tls"].get("ja3", ""), r["tls"].get("ja3s", ""))
            for r in records if r["type"] == "tls"]
    hello = tshark("tls.handshake.type == 1", ["tls.handshake.extensions_server_name",
                                               "tls.handshake.ja3"], ["tcp.port==%d,tls" % port])
    shello = tshark("tls.handshake.type == 2", ["tls.handshake.ja3s"], ["tcp.port==%d,tls" % port])
    theirs = [(sni, ja3, shello[i][0] if i < len(shello) else "")
              for i, (sni, ja3) in enumerate(hello)]
else:
    sys.exit("net_check: unknown WHAT " + what)

a, b = collections.Counter(ours), collections.Counter(theirs)
if not ours or a != b:
    print("net_check %s: antibody and tshark differ on %s" % (what, cap))
    print("  only antibody:", sorted((a - b).elements()))
    print("  only tshark:  ", sorted((b - a).elements()))
    sys.exit(1)
print("net_check %s: %d values agree with tshark" % (what, len(ours)))
