"""Which sentence of a passage answers the question, which passages say the same, and
whether a passage's answer holds what the question asks for.

The highlighted sentence is what the reader sees first, so it is chosen on more than the
encoder's word: the question's words it holds, the kind of answer asked for (a number, a person,
a year: :mod:`bot.slots`), the direction asked about, and for a follow-up the sentence the
previous answer highlighted. Near-duplicate passages (overlapping cuts of one paragraph, the same
text in two documents) are shown once.
"""
from __future__ import annotations

import numpy as np

from . import slots
from .hits import Hit, RetrievalSettings
from .index import SearchIndex
from .lexical import passage_tokens


class Highlighter:
    """Chooses and checks the answering sentence of one index's passages (what it reads of a
    passage or a document is computed once and kept)."""

    def __init__(self, index: SearchIndex, settings: RetrievalSettings) -> None:
        self.index = index
        self.settings = settings
        self._sentence_token_cache: dict[int, list[set[str]]] = {}
        self._names_cache: dict[str, frozenset[str]] = {}
        self._doc_rows: dict[str, list[int]] | None = None

    def sentence(self, query: str, row: int, cosines: np.ndarray, focus: str | None = None,
                 after: str = "", previous: str = "") -> int:
        """The sentence of passage ``row`` that answers ``query``: closest in meaning, with the
        question's words (found directly or through the lexicon), and ``focus``'s once more, as
        evidence. For follow-ups the focus takes 0.72 → 0.80 of highlights to the answering
        sentence (156 follow-up dialogues of the eight sets)."""
        if cosines.size <= 1:
            return 0
        p = self.index.passages[row]
        texts = [p.text[s:e].strip() for s, e in p.sentences] if after or previous else []
        if after and after in texts[:-1]:
            return texts.index(after) + 1
        tokens = self._sentence_token_cache.get(row)
        if tokens is None:
            tokens = self._sentence_token_cache[row] = [passage_tokens(p.text[s:e], p.language)
                                                        for s, e in p.sentences]
        words = self.index.lexical.coverages(query, tokens)
        if focus and focus != query:
            words = words + self.index.lexical.coverages(focus, tokens)
        score = cosines + self.settings.w_highlight_words * words
        if previous and self.settings.w_parallel_highlight:
            other = np.array([t != previous for t in texts], dtype=np.float32)  # itself gets no bonus
            score = score + self.settings.w_parallel_highlight * self.index.lexical.coverages(previous, tokens) * other
        asked = focus or query
        if self.settings.w_slot_highlight and slots.asks_for(asked):
            names = self.names(p.doc_id)
            score = score - self.settings.w_slot_highlight * np.array(
                [slots.missing_slot(asked, p.text[s:e], names) for s, e in p.sentences], dtype=np.float32)
        return int(np.argmax(score))

    def duplicate(self, a: int, a_sentence: int, b: int) -> bool:
        """Is passage ``a`` (answering with sentence ``a_sentence``) a near-duplicate of ``b``?

        Overlapping cuts of one paragraph, a highlight the reader already sees in ``b``, or
        nearly identical vectors (the same text in two documents) all count.
        """
        pa, pb = self.index.passages[a], self.index.passages[b]
        if pa.doc_id == pb.doc_id:
            overlap = min(pa.end, pb.end) - max(pa.start, pb.start)
            if overlap > 0.5 * min(pa.end - pa.start, pb.end - pb.start):
                return True
            if pa.sentences:
                s, e = pa.sentences[a_sentence]
                if pb.start <= pa.start + s and pa.start + e <= pb.end:
                    return True
        return float(self.index.vectors[a] @ self.index.vectors[b]) >= self.settings.duplicate_cosine

    def slot_missing(self, question: str, hit: Hit) -> float:
        """:func:`~bot.slots.missing_slot` on the hit's highlighted sentence."""
        p = self.index.passages[hit.row]
        s, e = p.sentences[hit.sentence] if p.sentences else (0, len(p.text))
        return slots.missing_slot(question, p.text[s:e], self.names(p.doc_id))

    def year_missing(self, question: str, hit: Hit, sentence_only: bool = False) -> float:
        """:func:`~bot.slots.missing_year` on the hit's passage, or only on its highlighted sentence."""
        p = self.index.passages[hit.row]
        s, e = p.sentences[hit.sentence] if sentence_only and p.sentences else (0, len(p.text))
        return slots.missing_year(question, p.text[s:e], p.section, self.document_date(p.doc_id))

    def document_date(self, doc_id: str) -> str:
        """The date its metadata gives the document ("" when none): what a passage naming no
        year speaks of (:func:`~bot.slots.missing_year`)."""
        return str((self.index.documents.get(doc_id) or {}).get("date") or "")

    def names(self, doc_id: str) -> frozenset[str]:
        """:func:`~bot.slots.person_names` of one document, computed once: a surname alone
        ("Vasiulis’ term ...") names a person that its document names in full elsewhere."""
        names = self._names_cache.get(doc_id)
        if names is None:
            if self._doc_rows is None:
                rows: dict[str, list[int]] = {}
                for i, p in enumerate(self.index.passages):
                    rows.setdefault(p.doc_id, []).append(i)
                self._doc_rows = rows
            passages = self.index.passages
            names = self._names_cache[doc_id] = slots.person_names(
                passages[i].text for i in self._doc_rows.get(doc_id, ()))
        return names
