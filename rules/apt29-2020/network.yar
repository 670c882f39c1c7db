/*
 * apt29-2020 pack: network rules. They run on what a capture's flows carried (antibody pcap,
 * antibody sniff, captures met in a sweep): each direction's first bytes (its stream) and the
 * payloads the parsers cut out (HTTP bodies, SMTP messages). Each says where it applies with the
 * flow's external variables (app_proto, flow_direction, dest_port: docs/antibody.1), so it never
 * fires on a file, a log or a note that only quotes the same text. Sources and the test captures
 * of each rule: README.md, "Network rules".
 */

rule APT29_WellMess_HTTP_Markup
{
    meta:
        description = "WellMess C2 message markup (<;head;>, <;title;>, <;service;>, plain or percent-encoded) in what a client sent over HTTP (POST body or cookie)"
        author = "antibody"
        reference = "PwC, WellMess C2 server analysis, 17 Aug 2020, https://www.pwc.co.uk/issues/cyber-security-services/insights/wellmess-analysis-command-control.html; JPCERT/CC WellMess, July 2018"
        date = "2026-12-02"
        family = "WellMess"
        score = 60
        confidence = "medium"
        memory = 0

    strings:
        $head        = "<;head;>"
        $title       = "<;title;>"
        $service     = "<;service;>"
        // in a cookie or a form value the markup is percent-encoded
        $head_pct    = "%3C%3Bhead%3B%3E" nocase
        $title_pct   = "%3C%3Btitle%3B%3E" nocase
        $service_pct = "%3C%3Bservice%3B%3E" nocase

    condition:
        app_proto == "http" and flow_direction == "to_server"
        and (2 of ($head, $title, $service) or 2 of ($head_pct, $title_pct, $service_pct))
}

rule APT29_SoreFang_HTTP_Beacon
{
    meta:
        description = "SoreFang HTTP beacon traits in what a client sent over HTTP: 2 of the multipart boundary ------974767299852498929531610575, form-data name \"_ga\" with a filename, a _ga cookie"
        author = "antibody"
        reference = "NCSC advisory of 16 Jul 2020 (SoreFang HTTP traits), https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development; CISA MAR-10296782-1 (AR20-198A), https://us-cert.cisa.gov/ncas/analysis-reports/ar20-198a"
        date = "2026-12-02"
        family = "SoreFang"
        score = 75
        confidence = "high"
        memory = 0

    strings:
        $boundary = "------974767299852498929531610575"
        $form     = "form-data; name=\"_ga\"; filename="
        // "Cookie: _ga=" or "Cookie:_ga=" as a header (a _ga cookie alone is Google Analytics:
        // one trait is never enough)
        $cookie   = /\nCookie:[ \t]?_ga=/ nocase

    condition:
        app_proto == "http" and flow_direction == "to_server" and 2 of them
}

rule APT29_WellMail_TLS_On_SMTP_Port
{
    meta:
        description = "TLS from the first byte to TCP port 25 (a ClientHello instead of SMTP), as WellMail's mutual-TLS C2 channel in the analysed sample; mail servers speak SMTP on 25 and start TLS with STARTTLS (app_proto smtp+tls), implicit TLS is on 465"
        author = "antibody"
        reference = "CISA MAR-10296782-3 (AR20-198C, WellMail), https://us-cert.cisa.gov/ncas/analysis-reports/ar20-198c; NCSC advisory of 16 Jul 2020"
        date = "2026-12-02"
        family = "WellMail"
        score = 50
        confidence = "low"
        memory = 0

    condition:
        app_proto == "tls" and flow_direction == "to_server" and flow_proto == "tcp"
        and dest_port == 25
        // a TLS handshake record carrying a ClientHello at the stream's first byte
        and uint8(0) == 0x16 and uint8(1) == 0x03 and uint8(5) == 0x01
}

rule APT29_Exploit_CVE_2019_19781_Citrix
{
    meta:
        description = "Citrix ADC/Gateway CVE-2019-19781 exploit request in what a client sent over HTTP: a path that climbs from /vpn/ into /vpns/ (dots and slashes plain or percent-encoded, with any extra slashes or ./ segments), or an NSC_USER header with ../"
        author = "antibody"
        reference = "NCSC advisory of 16 Jul 2020 (initial access: CVE-2019-19781), https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development; public exploit requests as documented"
        date = "2026-12-02"
        family = "APT29 initial access"
        score = 70
        confidence = "medium"
        memory = 0

    strings:
        // /vpn/../vpns/, /vpn/%2e%2e/vpns/, /vpn/.%2e%2fvpns/, //vpn//./..//vpns/ ...
        $climb = /\/vpns?(\/|%2f)+((\.|%2e){1,2}(\/|%2f)+)*(\.|%2e){2}(\/|%2f)+((\.|%2e){1,2}(\/|%2f)+)*vpns(\/|%2f)/ nocase
        // the template write: NSC_USER: ../../../netscaler/portal/templates/NAME
        $nsc_user = /\nNSC_USER:[ \t]*[^\r\n]{0,32}(\.|%2e){2}(\/|%2f)/ nocase

    condition:
        app_proto == "http" and flow_direction == "to_server" and any of them
}

rule APT29_Exploit_CVE_2019_11510_Pulse
{
    meta:
        description = "Pulse Connect Secure CVE-2019-11510 arbitrary file read in what a client sent over HTTP: a request under /dana-na/ that climbs with ../ (plain or percent-encoded), or a target whose query is ?/dana/html5acc/guacamole/ (which survives path normalisation)"
        author = "antibody"
        reference = "NCSC advisory of 16 Jul 2020 (initial access: CVE-2019-11510), https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development; public exploit requests as documented"
        date = "2026-12-02"
        family = "APT29 initial access"
        score = 70
        confidence = "medium"
        memory = 0

    strings:
        $climb = /\/dana-na(\/|%2f)+((\.|%2e){1,2}(\/|%2f)+)*(\.|%2e){2}(\/|%2f)+[^ \r\n]{0,64}html5acc(\/|%2f)+guacamole(\/|%2f)+((\.|%2e){1,2}(\/|%2f)+)*(\.|%2e){2}(\/|%2f)/ nocase
        // after normalisation: /etc/passwd?/dana/html5acc/guacamole/ (the path check the bug
        // passes reads the query)
        $query = /(GET|POST|HEAD) \/[^ \r\n?]{0,256}\?(\/|%2f)+dana(\/|%2f)+html5acc(\/|%2f)+guacamole(\/|%2f)/ nocase

    condition:
        app_proto == "http" and flow_direction == "to_server" and any of them
}

rule APT29_Exploit_CVE_2018_13379_Fortinet
{
    meta:
        description = "FortiOS SSL VPN CVE-2018-13379 path traversal in what a client sent over HTTP: /remote/fgt_lang?lang= with ../ (plain or percent-encoded), or naming sslvpn_websession"
        author = "antibody"
        reference = "NCSC advisory of 16 Jul 2020 (initial access: CVE-2018-13379), https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development; public exploit requests as documented"
        date = "2026-12-02"
        family = "APT29 initial access"
        score = 70
        confidence = "medium"
        memory = 0

    strings:
        $climb   = /\/remote(\/|%2f)+fgt_lang\?lang=[^ \r\n&]{0,64}(\.|%2e){2}(\/|%2f)/ nocase
        $session = /\/remote(\/|%2f)+fgt_lang\?lang=[^ \r\n&]{0,256}sslvpn_websession/ nocase

    condition:
        app_proto == "http" and flow_direction == "to_server" and any of them
}

rule APT29_Exploit_CVE_2019_9670_Zimbra
{
    meta:
        description = "Zimbra CVE-2019-9670 XXE in what a client sent over HTTP: a POST to the Autodiscover servlet (a path with an autodiscover segment: /Autodiscover/Autodiscover.xml, anything under /autodiscover/, /service/autodiscover; letters, dots and slashes plain or percent-encoded, with extra slashes, ./ or ../ before it) followed by an XML entity declared with SYSTEM (file:, http:, ftp:, jar:, netdoc:)"
        author = "antibody"
        reference = "NCSC advisory of 16 Jul 2020 (initial access: CVE-2019-9670), https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development; public exploit requests as documented"
        date = "2026-12-02"
        family = "APT29 initial access"
        score = 70
        confidence = "medium"
        memory = 0

    strings:
        // Zimbra's Jetty rewrites /autodiscover/*, /Autodiscover/* and /AutoDiscover/* to the
        // servlet /service/autodiscover, which the public requests also POST to directly: a
        // segment "autodiscover" anywhere in the path (what is before it may climb out with
        // ../), each letter plain or percent-encoded (%41 or %61 for a; nocase covers the rest)
        $post = /POST [^ \r\n?]{0,256}(\/|%2f)(a|%[46]1)(u|%[57]5)(t|%[57]4)(o|%[46]f)(d|%[46]4)(i|%[46]9)(s|%[57]3)(c|%[46]3)(o|%[46]f)(v|%[57]6)(e|%[46]5)(r|%[57]2)(\/|%2f|[?; \t])/ nocase
        $xxe  = /<!ENTITY[^>]{0,256}SYSTEM[ \t\r\n]*["'](file|https?|ftp|jar|netdoc):/ nocase

    condition:
        app_proto == "http" and flow_direction == "to_server"
        and $post and $xxe and @xxe[#xxe] > @post[1]
}
