"""LanceDB filter expressions for index queries (word forms, document ids), quoted safely."""

from __future__ import annotations

from collections.abc import Sequence

from contextvec.errors import InvalidInputError


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def where_clause(words: Sequence[str] | None, inflect: bool, doc_ids: Sequence[str] | None) -> str:
    parts = []
    if words is not None:
        from contextvec.analysis.occurrences import surface_forms

        if not words:
            raise InvalidInputError("give at least one word to filter on.")
        forms = sorted(surface_forms(words, inflect))  # keys folded by text.fold_word, as the rows' word_norm
        parts.append(f"word_norm IN ({', '.join(map(_quote, forms))})")
    elif inflect:
        raise InvalidInputError(
            "inflect=True (--inflect) adds -s/-ed/-ing forms of the query's word, but any_word=True (--any-word) "
            "searches every word already; leave one of them out."
        )
    if doc_ids is not None:
        if isinstance(doc_ids, str) or not doc_ids:
            raise InvalidInputError(
                f"doc_ids={doc_ids!r}: give a list of one or more document ids (e.g. ['a', 'b']), or None to search "
                "every document."
            )
        parts.append(f"doc_id IN ({', '.join(_quote(d) for d in doc_ids)})")
    return " AND ".join(parts)
