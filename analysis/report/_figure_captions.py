"""Captions and notes of the report's figures, for the documents that insert them (Word).

A table kind may give a figure its own caption (``TableOutput.figure_captions[name]``);
the others get one here from the figure's name: its family (``likert_``, ``scree_``,
``cfa_loadings_``...) picks a text of ``texts/<lang>.yaml`` (``figures.<family>``), the
rest of the name a construct or a grouping variable, and the note sends the reader to
the table whose numbers the figure shows.
"""

from __future__ import annotations

__all__ = ["figure_caption", "fill_figure_captions"]

#: Name prefix -> text key and what the rest of the name is (``construct`` or ``by``).
_FAMILIES = (
    ("cfa_loadings_", "cfa_loadings", "construct"),
    ("likert_", "likert", "construct"),
    ("scree_", "scree", "construct"),
    ("loadings_", "loadings", "construct"),
    ("funding_diversity_by_", "funding_diversity_by", "by"),
    ("funding_mix", "funding_mix", None),
    ("coefficients", "coefficients", None),
)


def figure_caption(ctx, name: str, fig=None) -> str:
    """The caption of figure ``name``: a text of its family, else the figure's own title, else its name.

    Examples
    --------
    >>> from analysis.report._texts import load_texts
    >>> class Ctx:
    ...     lang, text = "fr", load_texts("fr")
    ...     def construct_label(self, name): return "Capacités internes"
    >>> figure_caption(Ctx(), "likert_internal_capacity")
    'Distribution des réponses aux items : Capacités internes'
    >>> figure_caption(Ctx(), "mystery_plot")
    'mystery plot'
    """
    for prefix, key, rest in _FAMILIES:
        if name.startswith(prefix):
            tail = name[len(prefix):]
            if rest == "construct":
                return ctx.text(f"figures.{key}", construct=ctx.construct_label(tail))
            if rest == "by":  # the variable's label; its name when the questionnaire lacks the language
                by = ctx.label(tail) if getattr(ctx, "labels_translated", ctx.lang == "fr") else tail.replace("_", " ")
                return ctx.text(f"figures.{key}", by=by[:1].lower() + by[1:])
            return ctx.text(f"figures.{key}")
    title = fig._suptitle.get_text() if fig is not None and fig._suptitle is not None else ""
    return title or name.replace("_", " ")


def fill_figure_captions(ctx, output, table_number: int | None) -> None:
    """Give every figure of ``output`` without one a caption, and a note naming its table to every
    figure whose kind gave only its caption (a ``str`` in ``output.figure_captions``)."""
    for name, fig in output.figures.items():
        given = output.figure_captions.get(name)
        if given is None or isinstance(given, str):  # a kind may give the caption alone
            note = ctx.text("figures.note", table=table_number) if table_number else None
            output.figure_captions[name] = (given or figure_caption(ctx, name, fig), note)
