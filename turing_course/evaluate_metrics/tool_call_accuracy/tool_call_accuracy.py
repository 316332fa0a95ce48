"""Tool-call accuracy of Hermes-style `<tool_call>{json}</tool_call>` replies against the expected calls (turing_course, chapter 69)."""
import json
import datasets
import evaluate
from turing_course.evals import ToolCase
from turing_course.evals import score_reply
from turing_course.evals import summarize

_DESCRIPTION = """\
Scores model replies that call tools in the Hermes form the course template uses
(`<tool_call>{"name": ..., "arguments": {...}}</tool_call>`, parsed by `turing_course.tools.parse_tool_calls`)
against the expected calls of each case, exactly as chapter 69's evaluation does (`turing_course.evals.score_reply`):
- json_validity: on cases that expect a call, the reply holds readable calls and no broken block;
- tool_name_accuracy: the sequence of called tool names equals the expected one;
- argument_accuracy: names and every argument value equal the expected ones (exact, after JSON parsing);
- no_call_accuracy: on cases that expect no call, the reply makes none;
- accuracy: share of all cases fully right (argument-correct, or correctly no call).
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of str): model replies (text with zero or more <tool_call> blocks).
    references (list of str): per case, the expected calls as a JSON list [{"name": str, "arguments": {...}}];
        "[]" means the case expects a plain answer without a call.
Returns:
    json_validity, tool_name_accuracy, argument_accuracy (over call cases, None if there are none), no_call_accuracy
    (over no-call cases, None if none), accuracy (over all cases), n_call_cases, n_no_call_cases, n.
Example:
    >>> m = load_metric("tool_call_accuracy")
    >>> m.compute(predictions=['<tool_call>{"name": "list_tasks", "arguments": {}}</tool_call>'],
    ...           references=['[{"name": "list_tasks", "arguments": {}}]'])["argument_accuracy"]
    1.0
"""

_CITATION = ""


def _expected(i, ref):
    try:
        calls = json.loads(ref)
    except json.JSONDecodeError as e:
        raise ValueError(f"tool_call_accuracy: references[{i}] is not JSON ({e}); pass json.dumps(expected_calls)") from None
    if not isinstance(calls, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in calls):
        raise ValueError(f"tool_call_accuracy: references[{i}] must be a JSON list of {{'name': str, 'arguments': {{...}}}}, got {ref[:80]!r}")
    return [{"name": c["name"], "arguments": json.loads(c["arguments"]) if isinstance(c.get("arguments"), str) else dict(c.get("arguments") or {})}
            for c in calls]


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ToolCallAccuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation=_CITATION, inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references):
        if not predictions:
            raise ValueError("tool_call_accuracy: no predictions given")
        records = [score_reply(ToolCase(str(i), "", [], [], _expected(i, ref)), text)
                   for i, (text, ref) in enumerate(zip(predictions, references))]
        out = summarize(records)
        right = [r.get("args_correct", r.get("no_call_correct")) for r in records]
        out["accuracy"] = round(sum(right) / len(right), 4)
        out["n"] = len(records)
        return out
