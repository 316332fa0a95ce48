"""JSON format compliance: does each output parse as JSON, and does it satisfy a JSON Schema? (turing_course, chapter 69)."""
import json
import datasets
import evaluate
import jsonschema
from jsonschema.exceptions import best_match

_DESCRIPTION = """\
Format compliance for structured outputs, in two steps per prediction: `json.loads` (failure = parse error), then
JSON Schema validation (failure = schema error: valid JSON of the wrong shape, e.g. a missing required field or a value
outside an enum). The two failure kinds need different fixes (a parse error is usually truncation or chatter around
the JSON; a schema error is a model that learned the wrong fields), so they are counted separately and every failure
is listed with its index and message. The parse is strict: text around the JSON or a Markdown code fence is a parse error.
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of str): model outputs that should be JSON documents.
    schema (dict, required): the JSON Schema (any draft jsonschema knows; `$schema` picks it, default the latest).
Returns:
    json_valid_rate (parsed / n), schema_valid_rate (parsed and valid / n), valid, parse_errors, schema_errors (counts),
    n, and errors: [{"index", "kind": "parse_error" | "schema_error", "message"}] for every failing prediction.
Example:
    >>> m = load_metric("json_schema_validity")
    >>> m.compute(predictions=['{"action": "list"}', 'oops'], schema={"type": "object", "required": ["action"]})["schema_valid_rate"]
    0.5
"""

_CITATION = ""


def _where(err):
    path = "/".join(str(p) for p in err.absolute_path)
    return f"at '{path}'" if path else "at the top level"


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class JsonSchemaValidity(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation=_CITATION, inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string")}),
            reference_urls=["https://json-schema.org/"],
        )

    def _compute(self, predictions, schema=None):
        if schema is None:
            raise ValueError("json_schema_validity: pass schema=<a JSON Schema dict> to compute(); there is no default schema")
        if not predictions:
            raise ValueError("json_schema_validity: no predictions given")
        cls = jsonschema.validators.validator_for(schema)
        try:
            cls.check_schema(schema)
        except jsonschema.SchemaError as e:
            raise ValueError(f"json_schema_validity: the schema itself is invalid ({e.message}); fix it before scoring") from None
        validator = cls(schema)
        errors, parsed, valid = [], 0, 0
        for i, text in enumerate(predictions):
            try:
                obj = json.loads(text)
            except (json.JSONDecodeError, TypeError) as e:
                errors.append({"index": i, "kind": "parse_error", "message": f"not JSON: {e}"})
                continue
            parsed += 1
            err = best_match(validator.iter_errors(obj))
            if err is None:
                valid += 1
            else:
                errors.append({"index": i, "kind": "schema_error", "message": f"{_where(err)}: {err.message}"})
        n = len(predictions)
        return {"json_valid_rate": parsed / n, "schema_valid_rate": valid / n, "valid": valid,
                "parse_errors": n - parsed, "schema_errors": parsed - valid, "n": n, "errors": errors}
