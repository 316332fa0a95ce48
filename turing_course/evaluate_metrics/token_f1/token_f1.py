"""Token F1: SQuAD-style bag-of-tokens F1 between a prediction and its reference(s) (turing_course, chapter 69)."""
import datasets
import evaluate
from turing_course.metrics import token_f1_score
from turing_course.metrics import normalize_answer

_DESCRIPTION = """\
Token F1 (as in the SQuAD evaluation script): both strings are normalised (lower case, punctuation and the articles
a/an/the removed, whitespace collapsed), split into tokens, and F1 is computed from the multiset overlap of the tokens.
It gives partial credit ("quarterly budget review" vs "review the quarterly budget" = 1.0) but ignores word order, so
"Alice pays Bob" and "Bob pays Alice" also score 1.0. With several references the best one counts.
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of str): model outputs.
    references (list of str, or list of list of str): one reference, or a list of references, per prediction
        (the same form for every prediction: `evaluate` infers the input type from the first one).
Returns:
    f1 (float in [0, 1], mean over predictions), exact_match (float, mean exact match after normalisation), n (int).
Example:
    >>> f1 = load_metric("token_f1")
    >>> f1.compute(predictions=["review the budget"], references=["Review budget"])
    {'f1': 1.0, 'exact_match': 1.0, 'n': 1}
"""

_CITATION = """\
@inproceedings{rajpurkar-etal-2016-squad,
    title = "{SQ}u{AD}: 100,000+ Questions for Machine Comprehension of Text",
    author = "Rajpurkar, Pranav and Zhang, Jian and Lopyrev, Konstantin and Liang, Percy",
    booktitle = "Proceedings of EMNLP 2016",
    year = "2016",
    pages = "2383--2392",
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class TokenF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation=_CITATION, inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Sequence(datasets.Value("string"))}),
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
            ],
            reference_urls=["https://rajpurkar.github.io/SQuAD-explorer/"],
        )

    def _compute(self, predictions, references):
        if not predictions:
            raise ValueError("token_f1: no predictions given; pass at least one prediction/reference pair")
        f1s, ems = [], []
        for i, (p, refs) in enumerate(zip(predictions, references)):
            refs = [refs] if isinstance(refs, str) else list(refs)
            if not refs:
                raise ValueError(f"token_f1: prediction {i} has an empty list of references; give at least one")
            f1s.append(max(token_f1_score(p, r) for r in refs))
            ems.append(max(float(normalize_answer(p) == normalize_answer(r)) for r in refs))
        return {"f1": sum(f1s) / len(f1s), "exact_match": sum(ems) / len(ems), "n": len(f1s)}
