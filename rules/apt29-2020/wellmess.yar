/*
 * antibody built-in pack apt29-2020: WellMess (Go and .NET RAT, APT29, 2018-2020).
 *
 * Written by the antibody project from the public facts cited in README.md (no public rule text
 * copied). Every rule is guarded by a PE or ELF header check and a size limit, except
 * APT29_WellMess_TLS_Cert_Traits, which is meant for any file (PEM, DER, captured TLS) and therefore
 * carries memory = 0 (its byte patterns are held by the scanner's own compiled rules).
 *
 * Header checks (no modules needed):
 *   PE:   uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
 *   ELF:  uint32(0) == 0x464C457F
 */

rule APT29_WellMess_Go_Botlib
{
    meta:
        description = "WellMess Go RAT: the four botlib function names used by JPCERT/CC (all four in a PE or ELF)"
        author = "antibody"
        reference = "JPCERT/CC blog 'Malware WellMess Targeting Linux and Windows' (Jul 2018); https://github.com/JPCERTCC/jpcert-yara APT29/apt29.yara"
        date = "2026-11-25"
        family = "WellMess"
        score = 85
        confidence = "high"

    strings:
        $wellmess = "botlib.wellMess" ascii
        $command  = "botlib.Command" ascii
        $download = "botlib.Download" ascii
        $aes_enc  = "botlib.AES_Encrypt" ascii

    condition:
        ((uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550) or uint32(0) == 0x464C457F)
        and filesize < 20MB
        and all of them
}

rule APT29_WellMess_Go_Source_Paths
{
    meta:
        description = "WellMess Go RAT: Go source paths of the bot/botlib package left in the binary (2 of 5 in a PE or ELF)"
        author = "antibody"
        reference = "CISA MAR-10296782-2.v1 WellMess (AR20-198B), https://us-cert.cisa.gov/ncas/analysis-reports/ar20-198b"
        date = "2026-11-25"
        family = "WellMess"
        score = 85
        confidence = "high"

    strings:
        $p_post     = "/home/ubuntu/GoProject/src/bot/botlib.Post" ascii
        $p_delete   = "GoProject/src/bot/botlib.deleteFile" ascii
        $p_random   = "ubuntu/GoProject/src/bot/botlib.generateRandomString" ascii
        $p_aes_dec  = "GoProject/src/bot/botlib.AES_Decrypt" ascii
        $p_wellmess = "GoProject/src/bot/botlib.wellMess" ascii

    condition:
        ((uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550) or uint32(0) == 0x464C457F)
        and filesize < 20MB
        and 2 of them
}

rule APT29_WellMess_Go_DNS_Botlib
{
    meta:
        description = "WellMess Go RAT, DNS-tunnelling variant: botlib DNS chunking and key functions (all four in a PE or ELF)"
        author = "antibody"
        reference = "CISA MAR-10296782-2.v1 WellMess (AR20-198B), https://us-cert.cisa.gov/ncas/analysis-reports/ar20-198b"
        date = "2026-11-25"
        family = "WellMess"
        score = 80
        confidence = "high"

    strings:
        $dns_join = "botlib.JoinDnsChunks" ascii
        $exec     = "botlib.Exec" ascii
        $rand     = "botlib.GetRandomBytes" ascii
        $key      = "botlib.Key" ascii

    condition:
        ((uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550) or uint32(0) == 0x464C457F)
        and filesize < 20MB
        and all of them
}

rule APT29_WellMess_Go_Function_Names
{
    meta:
        description = "WellMess Go RAT: further botlib/main function names (4 of 9 in a PE or ELF); secondary source"
        author = "antibody"
        reference = "Microsoft Defender signature names for WellMess (secondary: third-party copy only); see README.md"
        date = "2026-11-25"
        family = "WellMess"
        score = 65
        confidence = "medium"

    strings:
        // fullword keeps the short names from counting again inside longer ones
        // (botlib.z32decode inside botlib.z32decodeString, botlib.init inside botlib.initX).
        $f_z32      = "botlib.z32decode" ascii fullword
        $f_z32s     = "botlib.z32decodeString" ascii
        $f_send     = "botlib.Send.func1" ascii
        $f_sendd    = "botlib.SendD.func1" ascii
        $f_init     = "botlib.init" ascii fullword
        $f_locker   = "fakeLocker" ascii
        $f_convert  = "bot/botlib.convertFromString" ascii
        $f_getip    = "main.getIP" ascii fullword
        $f_sendmsg  = "/bot/botlib.SendMessage" ascii

    condition:
        ((uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550) or uint32(0) == 0x464C457F)
        and filesize < 20MB
        and 4 of them
}

rule APT29_WellMess_Go_BuildID
{
    meta:
        description = "WellMess Go RAT: known Go build IDs (full ID or published prefixes) in a PE or ELF; secondary source"
        author = "antibody"
        reference = "Microsoft Defender signatures for WellMess (secondary: third-party copy only); see README.md"
        date = "2026-11-25"
        family = "WellMess"
        score = 70
        confidence = "medium"

    strings:
        $id_full    = "27c6bd7063f3668f7f223ecbb56d5a604baa1fb1" ascii
        $id_prefix1 = "92b19bbcbb2387e08500c6db1a3bfb8c9ba4a12" ascii
        $id_prefix2 = "bb423eb5fe835ec3449adefdb3b66421a0b6f7be" ascii

    condition:
        ((uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550) or uint32(0) == 0x464C457F)
        and filesize < 20MB
        and any of them
}

rule APT29_WellMess_Go_BuildPath
{
    meta:
        description = "WellMess Go RAT / WellMess C2 server: Go build path C:/Server/BotUI/App_Data/Temp/<dir>/src/<file>.go in a PE or ELF"
        author = "antibody"
        reference = "PwC 'WellMess malware: analysis of its Command and Control (C2) server' (17 Aug 2020), https://www.pwc.co.uk/issues/cyber-security-services/insights/wellmess-analysis-command-control.html; Microsoft Defender signatures (secondary)"
        date = "2026-11-25"
        family = "WellMess"
        score = 80
        confidence = "high"

    strings:
        // Both variable parts are bounded (1-20 characters, no '/' and no NUL).
        $build_path = /C:\/Server\/BotUI\/App_Data\/Temp\/[^\/\x00]{1,20}\/src\/[^\/\x00]{1,20}\.go/ ascii

    condition:
        ((uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550) or uint32(0) == 0x464C457F)
        and filesize < 20MB
        and $build_path
}

rule APT29_WellMess_Go_Command_Regex
{
    meta:
        description = "WellMess Go RAT: literal text of its command-parsing regular expression (Go named-group syntax) in a PE or ELF"
        author = "antibody"
        reference = "CISA MAR-10296782-2.v1 WellMess (AR20-198B), https://us-cert.cisa.gov/ncas/analysis-reports/ar20-198b"
        date = "2026-11-25"
        family = "WellMess"
        score = 80
        confidence = "high"

    strings:
        // literal text: fileName:(?P<fn>.*?)\sargs:(?P<arg>.*?
        $cmd_re = "fileName:(?P<fn>.*?)\\sargs:(?P<arg>.*?" ascii

    condition:
        ((uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550) or uint32(0) == 0x464C457F)
        and filesize < 20MB
        and $cmd_re
}

rule APT29_WellMess_DotNet_Unique_Strings
{
    meta:
        description = "WellMess .NET RAT: 3 of its unique method names, UI/user strings and C2 markup in a PE"
        author = "antibody"
        reference = "NCSC/CSE/NSA/CISA advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020), https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development; JPCERT/CC jpcert-yara APT29/apt29.yara"
        date = "2026-11-25"
        family = "WellMess"
        score = 85
        confidence = "high"

    strings:
        $w_health   = "HealthInterval" wide
        $w_proxy    = "Hello from Proxy" wide
        $w_start    = "Start bot:" wide
        $a_to_b64   = "FromNormalToBase64" ascii
        $a_from_b64 = "FromBase64ToNormal" ascii
        $a_name     = "WellMess" ascii
        $a_aes      = "AES_Encrypt" ascii
        $a_rc6      = "get_keyRC6" ascii
        $m_head     = "<;head;><;title;>" ascii wide
        $m_service  = "<;title;><;service;>" ascii wide

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and 3 of them
}

rule APT29_WellMess_DotNet_Regex_Text
{
    meta:
        description = "WellMess .NET RAT: literal text of its command and C2-markup parsing regular expressions (.NET named-group syntax) in a PE; secondary source"
        author = "antibody"
        reference = "NCSC WellMess .NET beacon rule (secondary: third-party copy only), advisory of 16 Jul 2020, https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-11-25"
        family = "WellMess"
        score = 70
        confidence = "medium"

    strings:
        // literal text: fileName:(?<fn>.*?)\sargs:(?<arg>.*)\snotwait:(?<nw>.*)
        $re_cmd    = "fileName:(?<fn>.*?)\\sargs:(?<arg>.*)\\snotwait:(?<nw>.*)" ascii wide
        // literal text: <;(?<key>[^;]*?);>(?<value>[^<]*?)<;[^;]*?;>
        $re_markup = "<;(?<key>[^;]*?);>(?<value>[^<]*?)<;[^;]*?;>" ascii wide

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and any of them
}

rule APT29_WellMess_DotNet_User_Strings
{
    meta:
        description = "WellMess .NET RAT: adjacent .NET user strings (#US heap, UTF-16 with length prefixes) for its shell and regex substitutions (2 of 3 in a PE)"
        author = "antibody"
        reference = "CISA MAR-10296782-2.v1 WellMess (AR20-198B), https://us-cert.cisa.gov/ncas/analysis-reports/ar20-198b"
        date = "2026-11-25"
        family = "WellMess"
        score = 80
        confidence = "high"

    strings:
        // Each "?? ??" is the previous #US entry's terminal byte and the next entry's length byte.
        // "Script" | "cmd.exe" | "/c"
        $us_cmd = { 53 00 63 00 72 00 69 00 70 00 74 00 ?? ?? 63 00 6D 00 64 00 2E 00 65 00 78 00 65 00 ?? ?? 2F 00 63 00 }
        // "<nw>.*)" | "${fn}"
        $us_fn  = { 3C 00 6E 00 77 00 3E 00 2E 00 2A 00 29 00 ?? ?? 24 00 7B 00 66 00 6E 00 7D 00 }
        // "{arg}" | "${nw}"
        $us_nw  = { 7B 00 61 00 72 00 67 00 7D 00 ?? ?? 24 00 7B 00 6E 00 77 00 7D 00 }

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and 2 of them
}

rule APT29_WellMess_TLS_Cert_Traits
{
    meta:
        description = "WellMess/WellMail hard-coded TLS certificate traits (C=Tunis, O=IT and a subjectKeyIdentifier starting 01 02 03 04) inside a certificate: raw DER after an X.509 v3 header, or base64 inside a PEM certificate block; any file type; secondary source"
        author = "antibody"
        reference = "NCSC WellMess certificate rule (secondary: third-party copy only; DER decoded by antibody), advisory of 16 Jul 2020, https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-11-25"
        family = "WellMess"
        score = 65
        confidence = "medium"
        // No file-header guard: the scanner's own compiled rules hold these bytes in memory.
        memory = 0

    strings:
        // raw DER: subjectKeyIdentifier extension, key starting 01 02 03 04
        $der_ski  = { 06 03 55 1D 0E 04 07 04 05 01 02 03 04 }
        // raw DER: countryName "Tunis" (PrintableString, 5 chars) followed by organizationName "IT"
        $der_name = { 06 03 55 04 06 13 05 54 75 6E 69 73 31 0B 30 09 06 03 55 04 0A 13 02 49 54 }
        // DER context: Certificate SEQUENCE, tbsCertificate SEQUENCE (both with 2-byte lengths, as
        // every certificate of 256 bytes or more), version [0] v3
        $x509     = { 30 82 ?? ?? 30 82 ?? ?? A0 03 02 01 02 }
        // PEM context: a certificate block whose base64 starts with the DER header (30 82 -> "MII")
        $pem_lf   = "-----BEGIN CERTIFICATE-----\nMII"
        $pem_crlf = "-----BEGIN CERTIFICATE-----\r\nMII"
        // The base64 forms are written as hex so that this rule file (and a binary embedding it)
        // does not carry the base64 text itself. Three alignments each.
        $b64_ski0  = { 42 67 4E 56 48 51 34 45 42 77 51 46 41 51 49 44 42 41 }
        $b64_ski1  = { 59 44 56 52 30 4F 42 41 63 45 42 51 45 43 41 77 51 47 }
        $b64_ski2  = { 47 41 31 55 64 44 67 51 48 42 41 55 42 41 67 4D 45 42 }
        $b64_name0 = { 42 67 4E 56 42 41 59 54 42 56 52 31 62 6D 6C 7A 4D 51 73 77 43 51 59 44 56 51 51 4B 45 77 4A 4A 56 44 }
        $b64_name1 = { 59 44 56 51 51 47 45 77 56 55 64 57 35 70 63 7A 45 4C 4D 41 6B 47 41 31 55 45 43 68 4D 43 53 56 51 78 }
        $b64_name2 = { 47 41 31 55 45 42 68 4D 46 56 48 56 75 61 58 4D 78 43 7A 41 4A 42 67 4E 56 42 41 6F 54 41 6B 6C 55 4D }

    condition:
        filesize < 20MB
        and (
            // DER (.cer files, TLS captures, binaries embedding DER): both fragments, the name
            // within 2 KiB after a certificate header
            ($der_ski and $der_name
             and for any i in (1..#x509) : (@x509[i] < @der_name[1] and @der_name[1] - @x509[i] < 2048))
            // PEM (files, binaries embedding PEM text): both base64 fragments, the name within
            // 4 KiB after a PEM certificate header. Text that only quotes the fragments (intel
            // notes, this pack's README) has no such header in front of them.
            or (1 of ($b64_ski*)
                and for any of ($b64_name*) : (
                    for any i in (1..#pem_lf) : (@pem_lf[i] < @ and @ - @pem_lf[i] < 4096)
                    or for any i in (1..#pem_crlf) : (@pem_crlf[i] < @ and @ - @pem_crlf[i] < 4096)))
        )
}
