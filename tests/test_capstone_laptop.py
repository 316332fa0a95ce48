"""The real capstone on SmolLM2 (slow: about 15 minutes on 2 cores), then `turing serve` answering the official
openai client with a tool call. Run with `make test-slow`."""
import json, os, subprocess, sys, time
from pathlib import Path
import httpx, pytest

ROOT = Path(__file__).resolve().parent.parent
TURING = Path(sys.executable).parent/"turing"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def laptop_run(tmp_path_factory):
    out = Path(os.environ.get("TURING_LAPTOP_RUN") or tmp_path_factory.mktemp("laptop")/"run")
    r = subprocess.run([str(TURING), "capstone", "--profile", "laptop", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=3600)
    assert r.returncode in (0, 1), r.stderr[-4000:]
    return out


def test_tuned_beats_base_on_all_three(laptop_run):
    ev = json.loads((laptop_run/"evaluate"/"stage.json").read_text())["metrics"]
    for m in ("json_validity", "tool_name_accuracy", "argument_accuracy"):
        assert ev["tuned"][m] >= ev["base"][m] + 0.25, (m, ev["base"][m], ev["tuned"][m])


def test_serve_answers_openai_client_with_tool_call(laptop_run):
    from openai import OpenAI
    from turing_course.serve import free_port
    from turing_course.data.taskapi import TOOLS, SYSTEM_PROMPT
    port = free_port()
    proc = subprocess.Popen([str(TURING), "serve", "--run", str(laptop_run), "--port", str(port), "--no-ui"], cwd=ROOT)
    try:
        for _ in range(120):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200: break
            except httpx.HTTPError: time.sleep(1)
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="local")
        r = client.chat.completions.create(model="taskmaster", tools=TOOLS, temperature=0, max_tokens=64,
            messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "Mark task 1852 as done"}])
        call = r.choices[0].message.tool_calls[0]
        assert r.choices[0].finish_reason == "tool_calls"
        assert call.function.name == "complete_task" and json.loads(call.function.arguments) == {"task_id": 1852}
    finally:
        proc.terminate(); proc.wait(30)
