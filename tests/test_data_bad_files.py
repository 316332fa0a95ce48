"""Bad conversation files: every problem lands in the quarantine with the right line and a reason, nothing is lost."""
import json

import pytest

from turing_course.data.quality import load_rows, validate_rows, write_quarantine, row_to_json
from turing_course.data.synth import generate_conversations


@pytest.fixture(scope="module")
def rows():
    return generate_conversations(6, seed=3)


def line(row) -> str:
    return row_to_json(row)


def write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def jsonl(*lines, end="\n") -> bytes:
    return "".join(l + end for l in lines).encode("utf-8")


def codes(item):
    return [r.split(":")[0] for r in item["reasons"]]


def check_nothing_lost(rep):
    assert rep.read == rep.kept + len(rep.quarantined), rep.summary()


def test_invalid_json_line(tmp_path, rows):
    p = write(tmp_path, "a.jsonl", jsonl(line(rows[0]), '{"id": "x", "messages": [', line(rows[1])))
    rep = load_rows(p)
    check_nothing_lost(rep)
    assert (rep.read, rep.kept) == (3, 2)
    (q,) = rep.quarantined
    assert q["line"] == 2 and codes(q) == ["invalid_json"]
    assert "column" in q["reasons"][0] and q["raw"] == '{"id": "x", "messages": ['
    assert [r["_line"] for r in rep.rows] == [1, 3]


def test_missing_assistant_turn(tmp_path, rows):
    bad = {**rows[1], "messages": rows[1]["messages"][:2]}
    rep = load_rows(write(tmp_path, "a.jsonl", jsonl(line(rows[0]), line(bad))))
    check_nothing_lost(rep)
    (q,) = rep.quarantined
    assert q["line"] == 2 and q["id"] == rows[1]["id"]
    assert codes(q) == ["no_assistant"] and "no assistant turn" in q["reasons"][0]


def test_conversation_ending_with_user_turn(tmp_path, rows):
    bad = {**rows[0], "messages": rows[0]["messages"] + [{"role": "user", "content": "and another?"}]}
    rep = load_rows(write(tmp_path, "a.jsonl", jsonl(line(bad))))
    (q,) = rep.quarantined
    assert codes(q) == ["last_not_assistant"] and "'user'" in q["reasons"][0]


def test_unknown_role(tmp_path, rows):
    msgs = [dict(m) for m in rows[2]["messages"]]
    msgs[1]["role"] = "human"
    rep = load_rows(write(tmp_path, "a.jsonl", jsonl(line(rows[0]), line(rows[1]), line({**rows[2], "messages": msgs}))))
    check_nothing_lost(rep)
    (q,) = rep.quarantined
    assert q["line"] == 3 and codes(q) == ["unknown_role"]
    assert "messages[1].role is 'human'" in q["reasons"][0]


def test_empty_file(tmp_path):
    rep = load_rows(write(tmp_path, "empty.jsonl", b""))
    check_nothing_lost(rep)
    assert (rep.read, rep.kept, rep.quarantined) == (0, 0, [])
    assert any("empty" in w for w in rep.warnings)


def test_only_blank_lines(tmp_path):
    rep = load_rows(write(tmp_path, "blank.jsonl", b"\n  \n\r\n"))
    assert (rep.read, rep.kept, rep.quarantined) == (0, 0, [])
    assert rep.warnings


def test_bom_is_removed(tmp_path, rows):
    rep = load_rows(write(tmp_path, "bom.jsonl", b"\xef\xbb\xbf" + jsonl(line(rows[0]), line(rows[1]))))
    check_nothing_lost(rep)
    assert (rep.kept, rep.quarantined) == (2, [])
    assert rep.rows[0]["id"] == rows[0]["id"]
    assert any("BOM" in w for w in rep.warnings)


def test_crlf_and_blank_lines(tmp_path, rows):
    data = jsonl(line(rows[0]), "", line(rows[1]), "not json", end="\r\n")
    rep = load_rows(write(tmp_path, "crlf.jsonl", data))
    check_nothing_lost(rep)
    assert (rep.read, rep.kept, rep.blank) == (3, 2, 1)
    assert [r["_line"] for r in rep.rows] == [1, 3]
    assert [(q["line"], codes(q)) for q in rep.quarantined] == [(4, ["invalid_json"])]
    assert rep.rows[1]["messages"] == rows[1]["messages"]
    assert any("CRLF" in w for w in rep.warnings)


def test_non_utf8_bytes(tmp_path, rows):
    latin1 = line(rows[1]).replace("Today", "T\xf6day").encode("latin-1")
    data = jsonl(line(rows[0])) + latin1 + b"\n" + jsonl(line(rows[2]))
    rep = load_rows(write(tmp_path, "latin.jsonl", data))
    check_nothing_lost(rep)
    assert rep.kept == 2
    (q,) = rep.quarantined
    assert q["line"] == 2 and codes(q) == ["not_utf8"]
    assert "0xf6" in q["reasons"][0]


def test_duplicate_ids(tmp_path, rows):
    rep = load_rows(write(tmp_path, "dup.jsonl", jsonl(line(rows[0]), line(rows[1]), line(rows[0]))))
    check_nothing_lost(rep)
    (q,) = rep.quarantined
    assert q["line"] == 3 and codes(q) == ["duplicate_id"]
    assert f"{rows[0]['id']!r} already used on line 1" in q["reasons"][0]
    assert [r[0].split(":")[0] if r else None for r in validate_rows([rows[0], rows[1], rows[0]])] == [None, None, "duplicate_id"]


def tool_row(rows):
    return next(r for r in rows if any(m.get("tool_calls") for m in r["messages"]))


@pytest.mark.parametrize("arguments,code", [('{"title": "Call mom"', "arguments_not_json"),
                                            ("title=Call mom", "arguments_not_json"),
                                            ("[1, 2]", "arguments_not_object")])
def test_tool_call_with_bad_arguments(tmp_path, rows, arguments, code):
    r = json.loads(line(tool_row(rows)))
    next(m for m in r["messages"] if m.get("tool_calls"))["tool_calls"][0]["function"]["arguments"] = arguments
    rep = load_rows(write(tmp_path, "args.jsonl", jsonl(line(rows[0]), json.dumps(r))))
    check_nothing_lost(rep)
    (q,) = rep.quarantined
    assert q["line"] == 2 and codes(q) == [code]
    assert "tool_calls[0].arguments" in q["reasons"][0]


def test_tool_call_naming_unknown_tool_and_missing_name(tmp_path, rows):
    r1, r2 = json.loads(line(tool_row(rows))), json.loads(line(tool_row(rows)))
    next(m for m in r1["messages"] if m.get("tool_calls"))["tool_calls"][0]["function"]["name"] = "book_flight"
    next(m for m in r2["messages"] if m.get("tool_calls"))["tool_calls"][0]["function"]["name"] = ""
    r2["id"] = "other"
    rep = load_rows(write(tmp_path, "tools.jsonl", jsonl(json.dumps(r1), json.dumps(r2))))
    check_nothing_lost(rep)
    assert [(q["line"], codes(q)) for q in rep.quarantined] == [(1, ["unknown_tool"]), (2, ["tool_call_no_name"])]
    assert "'book_flight'" in rep.quarantined[0]["reasons"][0]


def test_not_an_object_and_no_messages(tmp_path, rows):
    rep = load_rows(write(tmp_path, "odd.jsonl", jsonl("[1, 2]", '{"id": "a"}', '{"id": "b", "messages": []}', line(rows[0]))))
    check_nothing_lost(rep)
    assert [(q["line"], codes(q)) for q in rep.quarantined] == [(1, ["not_object"]), (2, ["missing_messages"]),
                                                               (3, ["empty_messages"])]


def test_json_array_file_line_numbers(tmp_path, rows):
    a, b = json.dumps(rows[0], indent=1), json.dumps({**rows[1], "messages": rows[1]["messages"][:2]}, indent=1)
    p = write(tmp_path, "rows.json", ("[\n" + a + ",\n" + b + "\n]\n").encode("utf-8"))
    rep = load_rows(p)
    check_nothing_lost(rep)
    assert rep.rows[0]["_line"] == 2
    (q,) = rep.quarantined
    assert q["line"] == 2 + len(a.splitlines()) and codes(q) == ["no_assistant"]


def test_everything_at_once_and_quarantine_file(tmp_path, rows):
    bad_role = {**rows[3], "messages": [{**rows[3]["messages"][0], "role": "robot"}, *rows[3]["messages"][1:]]}
    data = (b"\xef\xbb\xbf" + jsonl(line(rows[0]), "", "{oops", end="\r\n") + b"\xff\xfe\r\n"
            + jsonl(line(bad_role), line(rows[0]), line(rows[4]), end="\r\n"))
    rep = load_rows(write(tmp_path, "all.jsonl", data))
    check_nothing_lost(rep)
    assert (rep.read, rep.kept, len(rep.quarantined), rep.blank) == (6, 2, 4, 1)
    assert [(q["line"], codes(q)[0]) for q in rep.quarantined] == [(3, "invalid_json"), (4, "not_utf8"),
                                                                  (5, "unknown_role"), (6, "duplicate_id")]
    n = write_quarantine(tmp_path / "out" / "quarantine.jsonl", rep.quarantined)
    back = [json.loads(l) for l in (tmp_path / "out" / "quarantine.jsonl").read_text(encoding="utf-8").splitlines()]
    assert n == 4 and [b["line"] for b in back] == [3, 4, 5, 6] and all(b["reasons"] for b in back)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_rows(tmp_path / "nope.jsonl")
