"""chrF / chrF++ on a 0-1 scale, a wrapper around `sacrebleu` (turing_course, chapter 69)."""
import datasets
import evaluate
import sacrebleu

_DESCRIPTION = """\
chrF is the F-score (beta = 2, recall weighted twice as much as precision) of character n-grams (n = 1..6) between
the predictions and the references, computed over the corpus (sacrebleu). `word_order=2` gives chrF++, which adds
word unigrams and bigrams. Because it works on characters it gives partial credit for inflections
("reviewing" vs "review") where BLEU gives none, but it still measures surface overlap, not meaning.
Reported on a 0-1 scale (sacrebleu prints 0-100).
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of str): model outputs.
    references (list of str, or list of list of str): one or several references per prediction (the same number each).
    char_order (int, default 6), word_order (int, default 0; 2 = chrF++), beta (int, default 2),
    lowercase (bool, default False), whitespace (bool, default False: spaces are not part of character n-grams).
Returns:
    chrf (float in [0, 1]), char_order, word_order, beta, n.
Example:
    >>> chrf = load_metric("chrf")
    >>> chrf.compute(predictions=["review the report"], references=["review the report"])["chrf"]
    1.0
"""

_CITATION = """\
@inproceedings{popovic-2015-chrf,
    title = "chr{F}: character n-gram {F}-score for automatic {MT} evaluation",
    author = "Popovi{\\'c}, Maja",
    booktitle = "Proceedings of the Tenth Workshop on Statistical Machine Translation",
    year = "2015",
    pages = "392--395",
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Chrf(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation=_CITATION, inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Sequence(datasets.Value("string"))}),
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
            ],
            codebase_urls=["https://github.com/mjpost/sacrebleu"],
        )

    def _compute(self, predictions, references, char_order=6, word_order=0, beta=2, lowercase=False, whitespace=False):
        if not predictions:
            raise ValueError("chrf: no predictions given; pass at least one prediction/reference pair")
        refs = [[r] if isinstance(r, str) else list(r) for r in references]
        counts = sorted({len(r) for r in refs})
        if counts[0] == 0 or len(counts) > 1:
            raise ValueError(f"chrf: every prediction needs the same (non-zero) number of references; counts found {counts}")
        metric = sacrebleu.CHRF(char_order=char_order, word_order=word_order, beta=beta, lowercase=lowercase, whitespace=whitespace)
        s = metric.corpus_score(list(predictions), [list(x) for x in zip(*refs)])
        return {"chrf": s.score / 100, "char_order": char_order, "word_order": word_order, "beta": beta, "n": len(predictions)}
