"""\"Điều N quy định gì\": an article's clauses, in order."""
from __future__ import annotations

from rag.compose.common import Composed, _enumerate
from rag.evidence import Evidence
from rag.question import ArticleRef, Question
from rag.units import Library, Unit


def article_units(units: list[Unit], ref: ArticleRef) -> list[Unit]:
    """The content of an article (or of one clause, or point): everything under its heading but the heading."""
    out = [u for u in units if u.article == ref.article and u.kind != "heading"]
    if ref.clause is not None:
        out = [u for u in out if u.clause == ref.clause]
    if ref.point is not None:
        out = [u for u in out if u.point == ref.point and u.kind == "point"]
    return out


def compose_article(q: Question, lib: Library, hits: list[Evidence], named: list[str] = ()) -> Composed:
    """"Điều N quy định gì": the article's clauses in order, from the document the question names (`named`: by
    number or by title, as the answerer read them; else by number here), else from the
    best-ranked retrieved document that has the article, else from the one document of the collection that has
    it.  The heading (the article's title) opens the answer, in the answer's words, not as a quote."""
    ref = q.articles[0]
    named = list(named) or lib.named(q.documents)
    candidates = named or list(dict.fromkeys(h.doc_id for h in hits)) + lib.all_ids()
    having = [d for d in dict.fromkeys(candidates) if article_units(lib.units(d), ref)]
    for doc_id in having[:1]:
        units = lib.units(doc_id)
        body = article_units(units, ref)
        if body:
            head = next((u for u in units if u.article == ref.article and u.kind == "heading"), None)
            title = head.text.split(".", 1)[1].strip() if head and "." in head.text else ""
            number = lib.info(doc_id).get("number", "")
            others = [lib.info(d).get("number") or lib.info(d).get("title", "") for d in having[1:]]
            lead = (f"{str(ref)[0].upper()}{str(ref)[1:]}" + (f" ({title})" if title else "")
                    + (f" của văn bản số {number}" if number else "") + " quy định"
                    + (f" (văn bản khác cũng có {ref}: {', '.join(others)}; hãy nêu số văn bản để chọn)"
                       if others else "") + ":")
            return _enumerate(doc_id, body, lib, hits, 1.0, lead, basis="article")
    return Composed("", [])
