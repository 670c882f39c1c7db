/*
 * antibody built-in pack apt29-2020: WellMail (Go ELF tool, APT29, 2020).
 *
 * Written by the antibody project from the public facts cited in README.md (no public rule text
 * copied). ELF header check: uint32(0) == 0x464C457F.
 */

rule APT29_WellMail_Unique_Strings
{
    meta:
        description = "WellMail Go ELF: 3 of its build paths, hard-coded tokens, zip function and command-parsing regex text"
        author = "antibody"
        reference = "NCSC/CSE/NSA/CISA advisory 'APT29 targets COVID-19 vaccine development' (16 Jul 2020), https://www.ncsc.gov.uk/news/advisory-apt29-targets-covid-19-vaccine-development; CISA MAR-10296782-3.v1 WellMail (AR20-198C), https://us-cert.cisa.gov/ncas/analysis-reports/ar20-198c"
        date = "2026-11-25"
        family = "WellMail"
        score = 85
        confidence = "high"

    strings:
        // NCSC
        $path_win = "C:\\Server\\Mail\\App_Data\\Temp\\agent.sh\\src" ascii
        $path_go  = "C:/Server/Mail/App_Data/Temp/agent.sh/src/main.go" ascii
        $token    = "HgQdbx4qRNv" ascii
        $hexid    = "042a51567eea19d5aca71050b4535d33d2ed43ba" ascii
        $zipit    = "main.zipit" ascii
        // CISA; literal text: @[^\s]+?\s(?P<tar>.*?)\s'
        $tar_re   = "@[^\\s]+?\\s(?P<tar>.*?)\\s'" ascii

    condition:
        uint32(0) == 0x464C457F
        and filesize < 20MB
        and 3 of them
}
