"""The OpenAI-compatible server over a real socket: the tiny base + a tiny LoRA adapter, driven by the official `openai` client.

A second server runs a STUB backend (fixed `<tool_call>` text, no model) to check the wire format of tool calls,
which the tiny random model never produces.
"""
import json, os, tempfile
from concurrent.futures import ThreadPoolExecutor

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("TURING_HOME", tempfile.mkdtemp(prefix="turing-test-serve-"))

import httpx
import openai
import pytest
from openai import OpenAI

from turing_course.models import template_fingerprint
from turing_course.serve import ServedModels, make_serve_config, random_lora_adapter, serve, stub_backend

MSGS = [{"role": "system", "content": "You are TaskMaster."}, {"role": "user", "content": "Add a task to call mom"}]
CREATE_TASK = {"type": "function", "function": {"name": "create_task", "description": "Create a task",
               "parameters": {"type": "object", "properties": {"title": {"type": "string"},
                              "priority": {"type": "string", "enum": ["low", "medium", "high"]}}, "required": ["title"]}}}
STUB_CALL = ('<tool_call>{"name": "create_task", "arguments": {"title": "Call mom", "priority": "high"}}</tool_call>\n'
             '<tool_call>{"name": "create_task", "arguments": {"title": "Buy milk"}}</tool_call>')


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory):
    from turing_course.app import build_chat_ui
    adapter = random_lora_adapter(tmp_path_factory.mktemp("adapters") / "tiny-lora", base="tiny")
    served = ServedModels(make_serve_config("tiny", {"tiny-lora": adapter}, base_id="tiny"), threads=1, max_tokens=16)
    from turing_course.serve import free_port
    port = free_port()
    ui = build_chat_ui(f"http://127.0.0.1:{port}/v1", model="tiny", max_tokens=16)
    handle = serve(served, port=port, ui=ui, block=False)
    handle.ui = ui
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def stub_server():
    handle = serve(stub_backend(STUB_CALL, ids=["stub"]), port=0, block=False)   # STUB backend: fixed text
    yield handle
    handle.stop()


def client(h): return OpenAI(base_url=h.base_url, api_key="x", max_retries=0, timeout=60)


def test_health_and_models(tiny_server):
    h = httpx.get(tiny_server.url + "/health").json()
    assert h["status"] == "ok" and h["template_fingerprint"] == template_fingerprint()
    assert [m.id for m in client(tiny_server).models.list()] == ["tiny", "tiny-lora"]


def test_chat_each_model(tiny_server):
    c = client(tiny_server)
    replies = {}
    for mid in ["tiny", "tiny-lora"]:
        r = c.chat.completions.create(model=mid, messages=MSGS, max_tokens=8, temperature=0)
        assert r.model == mid and r.object == "chat.completion"
        assert r.choices[0].finish_reason in ("stop", "length")
        assert isinstance(r.choices[0].message.content, str) and r.choices[0].message.tool_calls is None
        assert 0 < r.usage.completion_tokens <= 8 and r.usage.prompt_tokens > 10
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
        replies[mid] = r.choices[0].message.content
    assert replies["tiny"] != replies["tiny-lora"]          # the adapter changes the model


def test_stream_equals_non_stream(tiny_server):
    c = client(tiny_server)
    full = c.chat.completions.create(model="tiny-lora", messages=MSGS, max_tokens=10, temperature=0)
    chunks = list(c.chat.completions.create(model="tiny-lora", messages=MSGS, max_tokens=10, temperature=0, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks) == full.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == full.choices[0].finish_reason


def test_unknown_model_is_404(tiny_server):
    with pytest.raises(openai.NotFoundError) as e:
        client(tiny_server).chat.completions.create(model="gpt-4o", messages=MSGS)
    assert "tiny-lora" in str(e.value)
    with pytest.raises(openai.BadRequestError, match="messages.0.role"):
        client(tiny_server).chat.completions.create(model="tiny", messages=[{"role": "robot", "content": "hi"}])


def test_concurrent_requests_are_serialised(tiny_server):
    "Requests on both ids at once (streamed and not) each get exactly their sequential greedy reply: no adapter mix-up."
    c = client(tiny_server)
    ask = lambda mid, **kw: c.chat.completions.create(model=mid, messages=MSGS, max_tokens=12, temperature=0, **kw)
    ref = {mid: ask(mid).choices[0].message.content for mid in ["tiny", "tiny-lora"]}
    def job(i):
        mid = ["tiny", "tiny-lora"][i % 2]
        if i % 3 == 0: return mid, "".join(x.choices[0].delta.content or "" for x in ask(mid, stream=True))
        return mid, ask(mid).choices[0].message.content
    with ThreadPoolExecutor(4) as ex:
        for mid, text in ex.map(job, range(8)): assert text == ref[mid], mid


def test_client_disconnect_frees_the_model(tiny_server):
    with httpx.stream("POST", tiny_server.base_url + "/chat/completions", timeout=30,
                      json={"model": "tiny-lora", "messages": MSGS, "max_tokens": 16, "stream": True}) as r:
        next(r.iter_lines())                                  # read one event, then hang up
    r = client(tiny_server).with_options(timeout=10).chat.completions.create(model="tiny", messages=MSGS, max_tokens=4)
    assert r.usage.completion_tokens > 0


def test_gradio_page_served(tiny_server):
    r = httpx.get(tiny_server.url + "/ui/", follow_redirects=True, timeout=30)
    assert r.status_code == 200 and "gradio" in r.text.lower()
    # the page's chat function talks to the same server over HTTP and shows the model's greedy reply
    from turing_course.data.taskapi import SYSTEM_PROMPT, TOOLS
    shown = list(tiny_server.ui.fn("Add a task to call mom", []))[-1]
    direct = client(tiny_server).chat.completions.create(model="tiny", max_tokens=16, temperature=0, tools=TOOLS,
        messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "Add a task to call mom"}])
    assert shown[-1].content == direct.choices[0].message.content
    # and the same through Gradio's own queue, as a browser would
    from gradio_client import Client
    res = Client(tiny_server.url + "/ui/", verbose=False).predict("Add a task to call mom", api_name="/chat")
    assert res[-1]["content"] == direct.choices[0].message.content


def test_stub_tool_calls(stub_server):
    r = client(stub_server).chat.completions.create(model="stub", messages=MSGS, tools=[CREATE_TASK])
    ch = r.choices[0]
    assert ch.finish_reason == "tool_calls" and ch.message.content is None
    assert [(t.function.name, json.loads(t.function.arguments)) for t in ch.message.tool_calls] == [
        ("create_task", {"title": "Call mom", "priority": "high"}), ("create_task", {"title": "Buy milk"})]
    assert len({t.id for t in ch.message.tool_calls}) == 2


def test_stub_streamed_tool_calls(stub_server):
    c = client(stub_server)
    with c.chat.completions.stream(model="stub", messages=MSGS, tools=[CREATE_TASK]) as s:
        final = s.get_final_completion()
    ch = final.choices[0]
    assert ch.finish_reason == "tool_calls" and not ch.message.content
    assert [json.loads(t.function.arguments)["title"] for t in ch.message.tool_calls] == ["Call mom", "Buy milk"]
    # no raw <tool_call> text leaks into the content deltas
    chunks = list(c.chat.completions.create(model="stub", messages=MSGS, tools=[CREATE_TASK], stream=True))
    assert "".join(x.choices[0].delta.content or "" for x in chunks) == ""
