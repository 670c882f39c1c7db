/*
 * antibody built-in pack apt29-2020: SoreFang (32-bit PE first-stage downloader, APT29, 2020).
 *
 * Written by the antibody project from the public facts cited in README.md (no public rule text
 * copied). Every rule requires a 32-bit PE (no modules needed):
 *   uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
 *   and uint16(uint32(0x3C) + 4) == 0x014C          (COFF Machine = i386)
 */

rule APT29_SoreFang_Key_String
{
    meta:
        description = "SoreFang: hard-coded key string in a 32-bit PE"
        author = "antibody"
        reference = "NCSC advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020) SoreFang rules, https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development"
        date = "2026-11-25"
        family = "SoreFang"
        score = 80
        confidence = "high"

    strings:
        $key = "2b6233eb3e872ff78988f4a8f3f6a3ba" ascii

    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 and uint16(uint32(0x3C) + 4) == 0x014C
        and filesize < 5MB
        and $key
}

rule APT29_SoreFang_Directory_Listing
{
    meta:
        description = "SoreFang: host-survey directory listing headers, original misspelling included (2 of 3 in a 32-bit PE)"
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
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 and uint16(uint32(0x3C) + 4) == 0x014C
        and filesize < 5MB
        and 2 of them
}

rule APT29_SoreFang_HTTP_Traits
{
    meta:
        description = "SoreFang: HTTP traits - <Command> element, _ga cookie, multipart boundary (2 of 3), or the _ga form-data field with the Sangfor update file name, in a 32-bit PE"
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
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 and uint16(uint32(0x3C) + 4) == 0x014C
        and filesize < 5MB
        and (2 of ($h_*) or all of ($c_*))
}

rule APT29_SoreFang_Disk_Enumeration
{
    meta:
        description = "SoreFang: host-survey disk enumeration output strings, original misspelling included (all 8 in a 32-bit PE)"
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
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 and uint16(uint32(0x3C) + 4) == 0x014C
        and filesize < 5MB
        and all of them
}

rule APT29_SoreFang_RC6_Key_Schedule
{
    meta:
        description = "SoreFang: RC6-family key schedule code (P32 = 0xB7E15163 stored, Q32 = 0x61C88647 subtracted in a loop) in a 32-bit PE"
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
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 and uint16(uint32(0x3C) + 4) == 0x014C
        and filesize < 5MB
        and $rc6_ks
}

rule APT29_SoreFang_Char_Remover_Loops
{
    meta:
        description = "SoreFang: the three character-remover loops (',' '.' and ' ') used on survey output (all three in a 32-bit PE)"
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
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 and uint16(uint32(0x3C) + 4) == 0x014C
        and filesize < 5MB
        and all of them
}

rule APT29_SoreFang_Alphabet_Setup
{
    meta:
        description = "SoreFang: custom alphabet/context setup code (push 0x36 ; push 0x71 and zeroed fields) in a 32-bit PE"
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
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550 and uint16(uint32(0x3C) + 4) == 0x014C
        and filesize < 5MB
        and $alphabet
}
