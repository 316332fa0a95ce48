"""Exact match: the share of predictions equal to their reference (turing_course, chapter 69)."""
import re
import string
import datasets
import evaluate

_DESCRIPTION = """\
Exact match is the share of predictions that are identical to their reference after optional normalisation.
By default both strings are only stripped of leading/trailing whitespace (the course's `output.strip() == expected.strip()`).
It is the right metric for closed answers (a label, an action name, a date) and far too strict for free text:
one changed comma makes an answer wrong.
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of str): model outputs.
    references (list of str): expected outputs, one per prediction.
    ignore_case (bool, default False): compare lower-cased strings.
    ignore_punctuation (bool, default False): drop ASCII punctuation before comparing.
    ignore_whitespace (bool, default False): collapse runs of whitespace to one space before comparing.
Returns:
    exact_match (float in [0, 1]), matches (int), n (int).
Example:
    >>> em = load_metric("exact_match")
    >>> em.compute(predictions=["create", "List "], references=["create", "list"], ignore_case=True)
    {'exact_match': 1.0, 'matches': 2, 'n': 2}
"""

_CITATION = ""

_PUNCT = str.maketrans("", "", string.punctuation)


def _norm(s, ignore_case, ignore_punctuation, ignore_whitespace):
    s = (s or "").strip()
    if ignore_case:
        s = s.lower()
    if ignore_punctuation:
        s = s.translate(_PUNCT)
    if ignore_whitespace:
        s = re.sub(r"\s+", " ", s).strip()
    return s


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ExactMatch(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation=_CITATION, inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references, ignore_case=False, ignore_punctuation=False, ignore_whitespace=False):
        if not predictions:
            raise ValueError("exact_match: no predictions given; pass at least one prediction/reference pair")
        opts = (ignore_case, ignore_punctuation, ignore_whitespace)
        matches = sum(_norm(p, *opts) == _norm(r, *opts) for p, r in zip(predictions, references))
        return {"exact_match": matches / len(predictions), "matches": int(matches), "n": len(predictions)}
