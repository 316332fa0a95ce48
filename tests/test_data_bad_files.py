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


# --- added with chapter 63's formats and cleaning (issue 4) ---

def test_ten_megabyte_line(tmp_path, rows):
    "A 10 MB line (valid JSON or not) is quarantined without being parsed; the rows around it are kept."
    huge = {**rows[1], "messages": [{"role": "user", "content": "x" * 10_000_000}, {"role": "assistant", "content": "ok"}]}
    data = jsonl(line(rows[0]), json.dumps(huge), "{" + "y" * 10_000_000, line(rows[2]))
    rep = load_rows(write(tmp_path, "big.jsonl", data))
    check_nothing_lost(rep)
    assert (rep.read, rep.kept) == (4, 2)
    assert [(q["line"], codes(q)) for q in rep.quarantined] == [(2, ["line_too_long"]), (3, ["line_too_long"])]
    assert "10.0 MB" in rep.quarantined[0]["reasons"][0] and "max_line_bytes" in rep.quarantined[0]["reasons"][0]
    assert len(rep.quarantined[0]["raw"]) < 3000           # the quarantine keeps a prefix, the line number finds the rest
    assert [r["_line"] for r in rep.rows] == [1, 4]


def test_empty_content(tmp_path, rows):
    r1 = json.loads(line(rows[0])); r1["messages"][1]["content"] = ""
    r2 = json.loads(line(rows[1])); r2["messages"][1]["content"] = "   "
    r3 = json.loads(line(rows[2])); r3["messages"][-1]["content"] = ""
    rep = load_rows(write(tmp_path, "empty_content.jsonl", jsonl(json.dumps(r1), json.dumps(r2), json.dumps(r3), line(rows[3]))))
    check_nothing_lost(rep)
    assert rep.kept == 1
    assert [(q["line"], codes(q)) for q in rep.quarantined] == [(1, ["empty_content"]), (2, ["empty_content"]), (3, ["empty_assistant"])]
    assert "messages[1] (user) has empty content" in rep.quarantined[0]["reasons"][0]


def test_mixed_formats_in_one_file(tmp_path, rows):
    from turing_course.data.formats import convert
    alpaca = {"instruction": "Say hi", "input": "", "output": "Hi!"}
    sharegpt = convert(rows[2], "sharegpt")
    data = jsonl(line(rows[0]), json.dumps(alpaca), line(rows[1]), json.dumps(sharegpt), line(rows[3]))
    rep = load_rows(write(tmp_path, "mixed.jsonl", data))
    check_nothing_lost(rep)
    assert rep.format == "messages" and rep.formats == {"messages": 3, "alpaca": 1, "sharegpt": 1}
    assert [(q["line"], codes(q)) for q in rep.quarantined] == [(2, ["mixed_format"]), (4, ["mixed_format"])]
    assert "line 2 is alpaca but this file is messages (3 of 5 rows)" in rep.quarantined[0]["reasons"][0]
    assert any("mixed formats" in w for w in rep.warnings)


def test_other_formats_are_converted_and_their_errors_named(tmp_path):
    good = [{"instruction": f"Say hi {i}", "input": "", "output": f"Hi {i}!"} for i in range(3)]
    bad = {"instruction": "Summarise", "input": "", "output": "  "}
    rep = load_rows(write(tmp_path, "alpaca.jsonl", jsonl(*map(json.dumps, good[:2]), json.dumps(bad), json.dumps(good[2]))))
    check_nothing_lost(rep)
    assert rep.format == "alpaca" and rep.kept == 3
    assert rep.rows[0]["messages"] == [{"role": "user", "content": "Say hi 0"}, {"role": "assistant", "content": "Hi 0!"}]
    (q,) = rep.quarantined
    assert q["line"] == 3 and codes(q) == ["invalid_alpaca"] and "output: must not be empty" in q["reasons"][0]


def test_bad_function_call_in_sharegpt(tmp_path):
    ok = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    bad = {"conversations": [{"from": "human", "value": "weather?"}, {"from": "function_call", "value": "{name: get_weather}"},
                             {"from": "observation", "value": "{}"}, {"from": "gpt", "value": "sunny"}]}
    rep = load_rows(write(tmp_path, "sg.jsonl", jsonl(json.dumps(ok), json.dumps(bad))))
    check_nothing_lost(rep)
    (q,) = rep.quarantined
    assert q["line"] == 2 and codes(q) == ["invalid_sharegpt"] and "function_call value is not valid JSON" in q["reasons"][0]


def test_csv_with_bom_crlf_bad_field_count_and_latin1(tmp_path):
    body = ('instruction,input,output\r\n"Say ""hi""",,Hi!\r\nTwo,"multi\r\nline input",Out\r\nonly,two\r\n').encode("utf-8")
    body += "Caf\xe9,,ok\r\n".encode("latin-1") + b"Last,,Done\r\n"
    rep = load_rows(write(tmp_path, "a.csv", b"\xef\xbb\xbf" + body))
    check_nothing_lost(rep)
    assert rep.format == "alpaca" and [r["_line"] for r in rep.rows] == [2, 3, 7]
    assert rep.rows[1]["messages"][0]["content"] == "Two\n\nContext: multi\r\nline input"
    assert [(q["line"], codes(q)) for q in rep.quarantined] == [(5, ["bad_csv_row"]), (6, ["bad_csv_row"])]
    assert "2 fields but the header has 3" in rep.quarantined[0]["reasons"][0]
    assert "not valid UTF-8" in rep.quarantined[1]["reasons"][0]
    assert any("BOM" in w for w in rep.warnings) and any("CRLF" in w for w in rep.warnings)


def test_parquet_and_empty_csv(tmp_path, rows):
    from turing_course.data.formats import write_table
    write_table(tmp_path / "rows.parquet", rows)
    rep = load_rows(tmp_path / "rows.parquet")
    check_nothing_lost(rep)
    assert rep.kept == len(rows) and [r["id"] for r in rep.rows] == [r["id"] for r in rows]
    assert rep.rows[0]["messages"] == rows[0]["messages"] and rep.rows[0]["tools"] == rows[0]["tools"]
    empty = load_rows(write(tmp_path, "e.csv", b""))
    assert (empty.read, empty.kept) == (0, 0) and empty.warnings
