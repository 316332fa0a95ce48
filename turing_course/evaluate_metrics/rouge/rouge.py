"""ROUGE-1/2/L F-measure, a wrapper around Google's `rouge-score` package (turing_course, chapter 69)."""
import re
import datasets
import evaluate
from rouge_score import rouge_scorer

_DESCRIPTION = """\
ROUGE counts overlapping units between a prediction and a reference: ROUGE-1 unigrams, ROUGE-2 bigrams, ROUGE-L the
longest common subsequence. We report the F-measure of each, averaged over the predictions. It was built for summaries:
it rewards copying the reference's words, so a paraphrase scores low and a sentence with a wrong fact but the same
words scores high. Tokenisation is rouge-score's default (lower case, non-alphanumerics removed); no stemming unless
`use_stemmer=True`.
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of str): model outputs.
    references (list of str, or list of list of str): one or several references per prediction (the best counts).
    rouge_types (list of str, default ["rouge1", "rouge2", "rougeL"]): any rouge-score type (rougeN, rougeL, rougeLsum).
    use_stemmer (bool, default False): Porter-stem tokens ("reviewing" -> "review") before matching.
Returns:
    one float in [0, 1] per rouge type (mean F-measure), and n (int).
Example:
    >>> rouge = load_metric("rouge")
    >>> rouge.compute(predictions=["review the report"], references=["review the report"])["rougeL"]
    1.0
"""

_CITATION = """\
@inproceedings{lin-2004-rouge,
    title = "{ROUGE}: A Package for Automatic Evaluation of Summaries",
    author = "Lin, Chin-Yew",
    booktitle = "Text Summarization Branches Out",
    year = "2004",
    pages = "74--81",
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Rouge(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation=_CITATION, inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Sequence(datasets.Value("string"))}),
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
            ],
            codebase_urls=["https://github.com/google-research/google-research/tree/master/rouge"],
        )

    def _compute(self, predictions, references, rouge_types=None, use_stemmer=False):
        if not predictions:
            raise ValueError("rouge: no predictions given; pass at least one prediction/reference pair")
        rouge_types = list(rouge_types or ["rouge1", "rouge2", "rougeL"])
        bad = [t for t in rouge_types if not re.fullmatch(r"rouge[1-9]|rougeL|rougeLsum", t)]
        if bad:
            raise ValueError(f"rouge: unknown rouge_types {bad}; use rouge1 ... rouge9, rougeL or rougeLsum")
        scorer = rouge_scorer.RougeScorer(rouge_types, use_stemmer=use_stemmer)
        totals = {t: 0.0 for t in rouge_types}
        for i, (p, refs) in enumerate(zip(predictions, references)):
            refs = [refs] if isinstance(refs, str) else list(refs)
            if not refs:
                raise ValueError(f"rouge: prediction {i} has an empty list of references; give at least one")
            scores = scorer.score_multi(refs, p)
            for t in rouge_types:
                totals[t] += scores[t].fmeasure
        out = {t: v / len(predictions) for t, v in totals.items()}
        out["n"] = len(predictions)
        return out
