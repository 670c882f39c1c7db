/*
 * antibody built-in pack apt29-2020: SoreFang (32-bit PE first-stage downloader, APT29, 2020).
 *
 * Written by the antibody project from the public facts cited in README.md (no public rule text
 * copied). Every rule requires a PE of any machine type (no modules needed):
 *   uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
 * The known samples are 32-bit, but the published NCSC rules accept any PE, and a 64-bit rebuild
 * keeps the strings (and a 64-bit dropper or installer carrying the 32-bit payload keeps the code
 * bytes): see README.md, "Header checks".
 */

rule APT29_SoreFang_Key_String
{
    meta:
        description = "SoreFang: hard-coded key string in a PE"
        author = "antibody"
        reference = "NCSC advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020) SoreFang rules, https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-11-25"
        family = "SoreFang"
        score = 80
        confidence = "high"

    strings:
        $key = "2b6233eb3e872ff78988f4a8f3f6a3ba" ascii

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and $key
}

rule APT29_SoreFang_Directory_Listing
{
    meta:
        description = "SoreFang: host-survey directory listing headers, original misspelling included (2 of 3 in a PE)"
        author = "antibody"
        reference = "NCSC advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020) SoreFang rules, https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-11-25"
        family = "SoreFang"
        score = 80
        confidence = "high"

    strings:
        $dir_users     = "----------All usres directory----------" ascii
        $dir_desktop   = "----------Desktop directory----------" ascii
        $dir_documents = "----------Documents directory----------" ascii

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and 2 of them
}

rule APT29_SoreFang_HTTP_Traits
{
    meta:
        description = "SoreFang: HTTP traits - <Command> element, _ga cookie, multipart boundary (2 of 3), or the _ga form-data field with the Sangfor update file name, in a PE"
        author = "antibody"
        reference = "NCSC advisory (16 Jul 2020) SoreFang rules, https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development; CISA MAR-10296782-1.v1 SoreFang (AR20-198A), https://us-cert.cisa.gov/ncas/analysis-reports/ar20-198a"
        date = "2026-11-25"
        family = "SoreFang"
        score = 80
        confidence = "high"

    strings:
        // NCSC: 2 of 3
        $h_command  = "<Command>" wide
        $h_cookie   = "Cookie:_ga=" ascii
        $h_boundary = "------974767299852498929531610575" ascii
        // CISA: both
        $c_form     = "form-data; name=\"_ga\"; filename=" ascii
        $c_sangfor  = "\\.SangforUD.sum" wide

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and (2 of ($h_*) or all of ($c_*))
}

rule APT29_SoreFang_Disk_Enumeration
{
    meta:
        description = "SoreFang: host-survey disk enumeration output strings, original misspelling included (all 8 in a PE)"
        author = "antibody"
        reference = "NCSC advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020) SoreFang rules, https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-11-25"
        family = "SoreFang"
        score = 80
        confidence = "high"

    strings:
        $free     = "\r\nFree on disk: " ascii
        $total    = "Total disk: " ascii
        $err_free = "Error in GetDiskFreeSpaceEx\r\n" ascii
        $label    = "\r\nVolume label: " ascii
        $serial   = "Serial number: " ascii
        $fs       = "File system: " ascii
        $err_vol  = "Error in GetVolumeInformation\r\n" ascii
        $no_info  = "I can not het information about this disk\r\n" ascii

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and all of them
}

rule APT29_SoreFang_RC6_Key_Schedule
{
    meta:
        description = "SoreFang: RC6-family key schedule code (P32 = 0xB7E15163 stored, Q32 = 0x61C88647 subtracted in a loop) in a PE"
        author = "antibody"
        reference = "NCSC advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020) SoreFang rules, https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-11-25"
        family = "SoreFang"
        score = 65
        confidence = "medium"

    strings:
        // mov dword [S0], P32 ; mov eax, &S[1] ; loop: mov ecx,[eax-4] ; sub ecx, Q32 ; mov [eax],ecx ;
        // add eax, 4 ; cmp eax, end ; jle loop
        $rc6_ks = { C7 05 ?? ?? ?? ?? 63 51 E1 B7 B8 ?? ?? ?? ?? 8B 48 FC 81 E9 47 86 C8 61 89 08 83 C0 04 3D ?? ?? ?? ?? 7E EB }

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and $rc6_ks
}

rule APT29_SoreFang_Char_Remover_Loops
{
    meta:
        description = "SoreFang: the three character-remover loops (',' '.' and ' ') used on survey output (all three in a PE)"
        author = "antibody"
        reference = "NCSC advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020) SoreFang rules, https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-11-25"
        family = "SoreFang"
        score = 80
        confidence = "high"

    strings:
        // mov bl,[eax] ; cmp bl, CH ; je +3 ; mov [ecx],bl ; inc ecx ; inc edx ; inc eax ; cmp edx,esi ; jne loop ; mov ebx,[ebp+8]
        $rm_comma = { 8A 18 80 FB 2C 74 03 88 19 41 42 40 3B D6 75 F0 8B 5D 08 }
        $rm_dot   = { 8A 18 80 FB 2E 74 03 88 19 41 42 40 3B D6 75 F0 8B 5D 08 }
        $rm_space = { 8A 18 80 FB 20 74 03 88 19 41 42 40 3B D6 75 F0 8B 5D 08 }

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and all of them
}

rule APT29_SoreFang_Alphabet_Setup
{
    meta:
        description = "SoreFang: custom alphabet/context setup code (push 0x36 ; push 0x71 and zeroed fields) in a PE"
        author = "antibody"
        reference = "NCSC advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020) SoreFang rules, https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-11-25"
        family = "SoreFang"
        score = 65
        confidence = "medium"

    strings:
        // xor eax,eax ; mov ecx,esi ; push 0x36 ; push 0x71 ; mov [esi+0x60],ax ; mov [esi+0x62],al ;
        // mov [esi+0x68],eax ; mov [esi+0x64],ax
        $alphabet = { 33 C0 8B CE 6A 36 6A 71 66 89 46 60 88 46 62 89 46 68 66 89 46 64 }

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and $alphabet
}

rule APT29_SoreFang_Encryption_Round
{
    meta:
        description = "SoreFang: encryption round function code (shift/multiply/rotate sequence of its RC6-family cipher) in a PE"
        author = "antibody"
        reference = "NCSC advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020) SoreFang rules (encryption round function), https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-12-02"
        family = "SoreFang"
        score = 80
        confidence = "high"

    strings:
        // 63 bytes without wildcards: byte moves, lea edx,[eax*2+1] ; imul edx,eax (the RC6 f(x) =
        // x*(2x+1)), sar edx,0x1b / shl cl,5 rotations. Long and specific, hence high.
        $round = { 8A E9 8A FB 8A 5D 0F 02 C9 88 45 0F FE C1 0F BE C5 88 6D F3 8D 14 45 01 00 00 00
                   0F AF D0 0F BE C5 0F BE C9 0F AF C8 C1 FA 1B C0 E1 05 0A D1 8B 4D EC 0F BE C1
                   89 55 E4 8D 14 45 01 00 00 00 0F AF D0 8B C1 }

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and $round
}

rule APT29_SoreFang_Random_Commas_Spaces
{
    meta:
        description = "SoreFang: code that inserts random commas and spaces into its output (rand() % 6, then push 2 or 1 characters) in a PE"
        author = "antibody"
        reference = "NCSC advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020) SoreFang rules (add random commas and spaces), https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-12-02"
        family = "SoreFang"
        score = 65
        confidence = "medium"

    strings:
        // call rand ; mov ecx,6 ; cdq ; idiv ecx ; mov ecx,esi ; cmp edx,4 ; jle +9 ;
        // push 2 ; push OFFSET ; jmp +7 ; push 1 ; push ...  (single short sequence, hence medium)
        $commas = { E8 ?? ?? ?? ?? B9 06 00 00 00 99 F7 F9 8B CE 83 FA 04 7E 09 6A 02 68 ?? ?? ?? ?? EB 07 6A 01 68 }

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and $commas
}

rule APT29_SoreFang_Custom_Encode_Decode
{
    meta:
        description = "SoreFang: custom encode/decode routine code, any one of nine fragments (bit-buffer fields at +0x58..+0x62 of its context) in a PE"
        author = "antibody"
        reference = "NCSC advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020) SoreFang rules (custom encode/decode), https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-12-02"
        family = "SoreFang"
        score = 70
        confidence = "medium"

    strings:
        // The routine keeps a 16-bit bit buffer at +0x60 and a bit count at +0x62 of the context set
        // up by the alphabet code (APT29_SoreFang_Alphabet_Setup); the fragments compare input bytes
        // with the alphabet's special characters at +0x58..+0x5F. One fragment is enough (as
        // published); each is a short code sequence, hence medium.
        $ed1 = { 55 8B EC 8B D1 53 56 8B 75 08 8B DE 80 42 62 FA 8A 4A 62 66 D3 EB 57 3A 5A 5C 74 0F }
        $ed2 = { 3A 5A 5D 74 0A 3A 5A 58 74 05 3A 5A 59 75 05 FE C1 88 4A 62 8A 4A 62 B8 01 00 00 00 }
        $ed3 = { 8A 46 62 84 C0 74 3E 3C 06 73 12 0F B6 C0 B9 06 00 00 00 2B C8 C6 46 62 06 66 D3 66 60 0F B7 4E 60 }
        $ed4 = { 80 3C 38 0D 0F 84 93 01 00 00 C6 42 62 06 8B 56 14 83 FA 10 72 04 8B 06 }
        $ed5 = { 0F BE 0C 38 8B 45 EC 0F B6 40 5B 3B C8 75 07 8B 55 EC B3 3E }
        $ed6 = { 0F BE 0C 38 8B 45 EC 0F B6 40 5E 3B C8 75 0B 8B 55 EC D0 EB C6 42 62 05 }
        $ed7 = { 8B 55 EC 0F BE 04 38 0F B6 DB 0F B6 4A 5F 3B C1 B8 3F 00 00 00 0F 44 D8 }
        $ed8 = { 8A 4A 62 66 8B 52 60 66 D3 E2 0F B6 C3 66 0B D0 8B 45 EC 66 89 50 60 8A 45 F3 02 C1
                 88 45 F3 3C 08 72 2E 04 F8 8A C8 88 45 F3 66 D3 EA 8B 4D 08 0F B6 C2 50 }
        $ed9 = { 3A 5A 5C 74 0F 3A 5A 5D 74 0A 3A 5A 58 74 05 3A 5A 59 75 05 FE C1 88 4A 62 }

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
        and filesize < 5MB
        and any of them
}
