"""The few sentences the extractive writer adds, in the script's language.

Everything else the writer narrates is the document's own text; these fixed
phrases (a code scene's "Here is an example.", the closing recap and last
line, the "Thank you" and "(continued)" slide titles) follow the script's
language, so a French video never says "That concludes this overview".
Translations were written for the languages of the test corpus and their
neighbours (de, es, fr, it, ja, nl, pl, pt, ru, zh): plain, neutral phrasing
as a presenter would say it. For any other language :func:`phrases` returns
``None`` and the writer leaves the added sentences out (a code scene is then
narrated by its section heading, the closing scene is left out).
"""

from __future__ import annotations

from dataclasses import dataclass

from reelgraph.plugins._language import primary_subtag

__all__ = ["Phrases", "phrases"]


@dataclass(frozen=True)
class Phrases:
    """One language's added sentences; ``{name}``, ``{items}``, ``{title}`` are filled in.

    Attributes:
        example: a code scene without an introduction of its own.
        example_in: the same, naming a programming language (``{name}``).
        covered: the recap of the sections (``{items}``, joined by :meth:`series`).
        concludes: the last line, naming the title (``{title}``).
        concludes_bare: the last line without the title.
        closing_title: the closing slide's title.
        continued: appended to a scene title that goes on from the scene before.
        separator, last_separator: how :meth:`series` joins the items.
    """

    example: str
    example_in: str
    covered: str
    concludes: str
    concludes_bare: str
    closing_title: str
    continued: str
    separator: str
    last_separator: str

    def series(self, items: list[str]) -> str:
        """``A, B and C`` in this language (items with commas are joined with ``; `` in English)."""
        if len(items) == 1:
            return items[0]
        separator, last = self.separator, self.last_separator
        if separator == ", " and any("," in item for item in items):
            separator, last = "; ", last.replace(",", ";")
        return separator.join(items[:-1]) + last + items[-1]


_PHRASES = {
    "en": Phrases(
        example="Here is an example.",
        example_in="Here is {article} {name} example.",
        covered="We covered {items}.",
        concludes="That concludes this overview of {title}.",
        concludes_bare="That concludes this overview.",
        closing_title="Thank you",
        continued=" (continued)",
        separator=", ",
        last_separator=", and ",
    ),
    "de": Phrases(
        example="Hier ist ein Beispiel.",
        example_in="Hier ist ein Beispiel in {name}.",
        covered="Wir haben {items} behandelt.",
        concludes="Damit endet dieser Überblick über {title}.",
        concludes_bare="Damit endet dieser Überblick.",
        closing_title="Vielen Dank",
        continued=" (Fortsetzung)",
        separator=", ",
        last_separator=" und ",
    ),
    "es": Phrases(
        example="Aquí hay un ejemplo.",
        example_in="Aquí hay un ejemplo en {name}.",
        covered="Hemos visto {items}.",
        concludes="Con esto concluye este resumen de {title}.",
        concludes_bare="Con esto concluye este resumen.",
        closing_title="Gracias",
        continued=" (continuación)",
        separator=", ",
        last_separator=" y ",
    ),
    "fr": Phrases(
        example="Voici un exemple.",
        example_in="Voici un exemple en {name}.",
        covered="Nous avons vu {items}.",
        concludes="Ainsi se termine cet aperçu de {title}.",
        concludes_bare="Ainsi se termine cet aperçu.",
        closing_title="Merci",
        continued=" (suite)",
        separator=", ",
        last_separator=" et ",
    ),
    "it": Phrases(
        example="Ecco un esempio.",
        example_in="Ecco un esempio in {name}.",
        covered="Abbiamo visto {items}.",
        concludes="Si conclude così questa panoramica di {title}.",
        concludes_bare="Si conclude così questa panoramica.",
        closing_title="Grazie",
        continued=" (continua)",
        separator=", ",
        last_separator=" e ",
    ),
    "nl": Phrases(
        example="Hier is een voorbeeld.",
        example_in="Hier is een voorbeeld in {name}.",
        covered="We hebben {items} besproken.",
        concludes="Dit was het overzicht van {title}.",
        concludes_bare="Dit was het overzicht.",
        closing_title="Bedankt",
        continued=" (vervolg)",
        separator=", ",
        last_separator=" en ",
    ),
    "pl": Phrases(
        example="Oto przykład.",
        example_in="Oto przykład: {name}.",
        covered="Omówiliśmy: {items}.",
        concludes="To już koniec przeglądu: {title}.",
        concludes_bare="To już koniec przeglądu.",
        closing_title="Dziękuję",
        continued=" (ciąg dalszy)",
        separator=", ",
        last_separator=" i ",
    ),
    "pt": Phrases(
        example="Eis um exemplo.",
        example_in="Eis um exemplo em {name}.",
        covered="Vimos {items}.",
        concludes="Assim termina esta visão geral de {title}.",
        concludes_bare="Assim termina esta visão geral.",
        closing_title="Obrigado",
        continued=" (continuação)",
        separator=", ",
        last_separator=" e ",
    ),
    "ru": Phrases(
        example="Вот пример.",
        example_in="Вот пример на {name}.",
        covered="Мы рассмотрели: {items}.",
        concludes="На этом обзор «{title}» завершён.",
        concludes_bare="На этом обзор завершён.",
        closing_title="Спасибо",
        continued=" (продолжение)",
        separator=", ",
        last_separator=" и ",
    ),
    "zh": Phrases(
        example="下面是一个示例。",
        example_in="下面是一个 {name} 示例。",
        covered="我们介绍了{items}。",
        concludes="关于{title}的概述到此结束。",
        concludes_bare="概述到此结束。",
        closing_title="谢谢",
        continued="（续）",
        separator="、",
        last_separator="和",
    ),
    "ja": Phrases(
        example="例を示します。",
        example_in="{name} の例を示します。",
        covered="{items}について説明しました。",
        concludes="{title}の概要は以上です。",
        concludes_bare="概要は以上です。",
        closing_title="ありがとうございました",
        continued="（続き）",
        separator="、",
        last_separator="、",
    ),
}


def phrases(language: str | None) -> Phrases | None:
    """The added sentences for a BCP 47 ``language`` (``None``: English), or ``None`` when
    no translation exists (the writer then adds none)."""
    primary = primary_subtag(language) if language else "en"
    if primary in ("cmn", "yue", "wuu"):
        primary = "zh"
    return _PHRASES.get(primary)
