"""Legal boilerplate that a narrated video leaves out: copyright lines and licence notices.

A reader skims past "Copyright 2001, 2006, 2007, ... 2015 g10 Code GmbH" and
"This file is distributed in the hope that it will be useful, but WITHOUT
ANY WARRANTY"; read aloud they take 18 s and say nothing about the subject.
:func:`is_boilerplate` tells such a sentence (or heading) apart from a
sentence *about* licensing, which stays: "Zstandard is dual-licensed under
BSD and GPLv2.", "All packages that are formally part of Debian are free to
redistribute, usually under terms specified by the GNU General Public
License."

What counts (phrases of the notices as published, and their translations
found in real documents: the Debian FAQ's permission notice in its
Portuguese, French, Spanish, Chinese and Japanese translations; the GNU GPL
and the MIT, BSD and Apache licence texts):

- a copyright line: "Copyright", "(C)", "©" or its translations ("版权",
  "製作著作", "著作権") followed within a few words by a year;
- a notice: "Permission is granted to ...", "this permission notice",
  "the copyright notice", "WITHOUT ANY WARRANTY", "is distributed in the
  hope that it will be useful", "free software; you can redistribute it",
  "All rights reserved", "You should have received a copy of the GNU ...",
  "Licensed under the Apache License", "THE SOFTWARE IS PROVIDED "AS IS"",
  and the translations of the permission notice's key phrases.
"""

from __future__ import annotations

import re

__all__ = ["is_boilerplate", "is_front_matter"]

# A copyright line: the word (or sign) and, within 60 characters, a year
# ("Copyright © 1996-2021 SPI", "Copyright Jonathan Hartley and Arnon Yaari,
# 2013-2020", "版权 © 1996-2021", "製作著作 ? 1996-2021" where Shift_JIS lost ©).
_COPYRIGHT = re.compile(
    r"(?:\bcopyright\b|\(c\)|©|版权|版權|製作著作|著作権|авторск\w+ прав\w*)"
    r"[^.!?。]{0,60}?\b(?:1[89]|20)\d\d\b",
    re.IGNORECASE,
)
# Key phrases of licence notices and permission grants, lower case.
_NOTICE = re.compile(
    r"|".join(
        [
            # English: GNU GPL/FDL notices, MIT/BSD/Apache texts, the Debian FAQ notice
            r"permission is (?:hereby )?granted",
            r"permission notice",
            r"copyright notice",
            r"without (?:any )?warranty",
            r"warranty of merchantability",
            r"fitness for a particular purpose",
            r"is distributed in the hope that it will be useful",
            r"you can redistribute it",
            r"is free software; ",
            r"is free; you can",
            r"all rights reserved",
            r"you should have received a copy of",
            r"general public license for more details",
            r"licensed under the apache license",
            r"provided [\"\u201c]?as is[\"\u201d]?",
            r"as a special exception",
            r"unlimited permission to copy",
            r"may be used under the terms of",
            # Portuguese, Spanish, French, German, Italian
            r"é dada permissão",
            r"aviso de permissão",
            r"aviso de copyright",
            r"se (?:concede|otorga) permiso",
            r"aviso de permisos?",
            r"nota de copyright",
            r"notice de (?:copyright|permission)",
            r"il est permis de (?:produire|copier|distribuer)",
            r"avis de (?:copyright|permission)",
            r"genehmigungsvermerk",
            r"copyright-(?:vermerk|hinweis)",
            r"es ist erlaubt, (?:wortgetreue )?kopien",
            r"è concesso il permesso",
            r"avviso di copyright",
            # Chinese, Japanese, Russian
            r"版权声明",
            r"许可声明",
            r"著作権表示",
            r"許諾表示",
            r"разрешается (?:делать|копировать|распространять)",
            r"уведомлени\w+ об авторском праве",
        ]
    ),
    re.IGNORECASE,
)


def is_boilerplate(text: str) -> bool:
    """Whether ``text`` (a sentence or heading) is a copyright line or licence notice.

    >>> is_boilerplate("Copyright 2001, 2006, 2007 g10 Code GmbH")
    True
    >>> is_boilerplate("Zstandard is dual-licensed under BSD and GPLv2.")
    False
    """
    return bool(_COPYRIGHT.search(text) or _NOTICE.search(text))


# A title page's furniture, alone in a sentence: a date ("Januar 2021",
# "2021 年 1 月"), a version line ("Versão 11.0"), or the word for contents or
# abstract (the Debian FAQ's text, Word and PDF editions in eight languages).
_DATE_OR_VERSION = re.compile(
    r"^\W*(?:(?:[^\W\d_]+\.?\s+)?(?:1[89]|20)\d\d(?:\s*年\s*\d{1,2}\s*月)?"
    r"|(?:version|versão|versión|versione|versie|wersja|версия|版本|バージョン)\s*[\d.]+)\W*$",
    re.IGNORECASE,
)
_FURNITURE = frozenset(
    {
        "contents", "table of contents", "abstract", "inhaltsverzeichnis", "inhalt",
        "zusammenfassung", "índice", "indice", "resumo", "resumen", "sumario", "sommaire",
        "table des matières", "résumé", "sommario", "inhoud", "samenvatting", "spis treści",
        "streszczenie", "содержание", "оглавление", "аннотация", "目录", "摘要", "目次",
    }
)  # fmt: skip


def is_front_matter(text: str) -> bool:
    """Whether ``text`` is title-page furniture read alone: a date, a version, "Contents".

    >>> is_front_matter("Januar 2021."), is_front_matter("Versão 11.0"), is_front_matter("目录")
    (True, True, True)
    >>> is_front_matter("Debian 11.0 was released in August 2021.")
    False
    """
    bare = text.strip().rstrip(".。:：").strip().casefold()
    return bool(_DATE_OR_VERSION.match(bare)) or bare in _FURNITURE
