"""Corpus BLEU on a 0-1 scale, a wrapper around `sacrebleu` (turing_course, chapter 69)."""
import datasets
import evaluate
import sacrebleu

_DESCRIPTION = """\
BLEU is the geometric mean of the modified 1- to 4-gram precisions of the predictions against the references,
times a brevity penalty, computed over the whole corpus (sacrebleu, tokenizer 13a). We report it on a 0-1 scale
(sacrebleu prints 0-100). Without smoothing, a single sentence with no matching 4-gram scores exactly 0 however close
its meaning; `smooth_method="exp"` (sacrebleu's default) or "floor"/"add-k" soften that. BLEU measures n-gram overlap,
not meaning: a paraphrase scores low, a sentence with one wrong fact scores high.
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of str): model outputs.
    references (list of str, or list of list of str): one or several references per prediction; with several, every
        prediction needs the same number of references.
    smooth_method (str, default "exp"): "none", "floor", "add-k" or "exp" (sacrebleu).
    lowercase (bool, default False): case-insensitive BLEU.
    tokenize (str, default "13a"): sacrebleu tokenizer ("13a", "intl", "char", "none", ...).
Returns:
    bleu (float in [0, 1]), precisions (list of 4 floats in [0, 1]), brevity_penalty, length_ratio,
    translation_length, reference_length, n.
Example:
    >>> bleu = load_metric("bleu")
    >>> bleu.compute(predictions=["the cat sat on the mat"], references=["the cat sat on the mat"])["bleu"]
    1.0
"""

_CITATION = """\
@inproceedings{papineni-etal-2002-bleu,
    title = "{B}leu: a Method for Automatic Evaluation of Machine Translation",
    author = "Papineni, Kishore and Roukos, Salim and Ward, Todd and Zhu, Wei-Jing",
    booktitle = "Proceedings of ACL 2002",
    year = "2002",
    pages = "311--318",
}
@inproceedings{post-2018-call,
    title = "A Call for Clarity in Reporting {BLEU} Scores",
    author = "Post, Matt",
    booktitle = "Proceedings of the Third Conference on Machine Translation",
    year = "2018",
    pages = "186--191",
}
"""


def reference_streams(references, metric):
    "sacrebleu wants one list per reference position; check every prediction has the same number of references."
    refs = [[r] if isinstance(r, str) else list(r) for r in references]
    counts = sorted({len(r) for r in refs})
    if counts[0] == 0 or len(counts) > 1:
        bad = [i for i, r in enumerate(refs) if len(r) != len(refs[0]) or not r][:5]
        raise ValueError(f"{metric}: every prediction needs the same (non-zero) number of references; "
                         f"counts found {counts}, first differing predictions {bad}")
    return [list(x) for x in zip(*refs)]


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Bleu(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation=_CITATION, inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Sequence(datasets.Value("string"))}),
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
            ],
            codebase_urls=["https://github.com/mjpost/sacrebleu"],
        )

    def _compute(self, predictions, references, smooth_method="exp", lowercase=False, tokenize="13a"):
        if not predictions:
            raise ValueError("bleu: no predictions given; pass at least one prediction/reference pair")
        if smooth_method not in ("none", "floor", "add-k", "exp"):
            raise ValueError(f"bleu: smooth_method {smooth_method!r} unknown; use 'none', 'floor', 'add-k' or 'exp'")
        s = sacrebleu.corpus_bleu(list(predictions), reference_streams(references, "bleu"),
                                  smooth_method=smooth_method, lowercase=lowercase, tokenize=tokenize)
        return {"bleu": s.score / 100, "precisions": [p / 100 for p in s.precisions], "brevity_penalty": s.bp,
                "length_ratio": s.ratio, "translation_length": s.sys_len, "reference_length": s.ref_len, "n": len(predictions)}
