"""owt._runtime: configure() and handle() as C calls them."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ADAPTORS, digest, read

from owt import _log
from owt._alarm import Timeout
from owt._errors import AdaptorError, AdaptorTimeout, BadRequest, Forbidden, NotFound, OwtError

VECTORS = json.loads((ADAPTORS.parent / "clients" / "vectors.json").read_text())


def test_hello(handle: Any) -> None:
    status, headers, body, chunks = handle("def run(name):\n    return f'Hello, {name}!'\n", "{'name': 'owt'}", kind=2)
    assert (status, body, chunks) == (200, b"Hello, owt!", None)
    assert list(headers) == [("Content-Type", "text/plain; charset=utf-8")]


def test_kwargs_kinds(handle: Any) -> None:
    code = "def run(**kw):\n    return kw\n"
    assert json.loads(handle(code, '{"a": 1}', kind=1)[2]) == {"a": 1}
    assert json.loads(handle(code, "", kind=0)[2]) == {}
    assert json.loads(handle(code, "solve AGI", kind=2)[2]) == {"__last__": "solve AGI"}


@pytest.mark.parametrize(
    "text, kwargs",
    [
        ('{"a": 1}', {"a": 1}),
        (' {"a": 1}', {"a": 1}),
        ('"{\\"a\\": 1}"', {"a": 1}),
        ("[1, 2]", {"__last__": [1, 2]}),
        ("{'a': True}", {"a": True}),
        ("solve AGI", {"__last__": "solve AGI"}),
    ],
)
def test_kwargs_text_as_c_sends_it(handle: Any, text: str, kwargs: dict[str, Any]) -> None:
    """C sends kind 1 for all text but blanks: decode() gives what PROTOCOL §3 says
    (json's scanner first)."""
    code = "def run(**kw):\n    return kw\n"
    assert json.loads(handle(code, text, kind=1)[2]) == kwargs


def test_seed_echo_example_reports_the_server(handle: Any) -> None:
    code = (
        "from owt.server import Server\n\n"
        "def run(name=None):\n"
        '    return f"Hello, {name}, from {Server.sing().address}:{Server.sing().port}!"\n'
    )
    environ = {"SERVER_ADDR": "0.0.0.0", "SERVER_PORT": "9876"}
    assert handle(code, "{'name': 'owt'}\n", environ=environ)[2] == b"Hello, owt, from 0.0.0.0:9876!"


def test_server_global_resolves_per_request(handle: Any) -> None:
    code = "def run():\n    global _SERVER\n    return _SERVER.port + 1\n"
    assert handle(code, environ={"SERVER_PORT": "9876"})[2] == b"9877"
    assert handle(code, environ={"SERVER_PORT": "8080"})[2] == b"8081"


def test_request_proxy_inside_the_call(handle: Any) -> None:
    code = (
        "def run():\n"
        "    return {'method': request.method, 'path': request.path, 'q': request.args.getlist('q'),\n"
        "            'json': request.json, 'ua': request.headers['user-agent'], 'url': request.url}\n"
    )
    environ = {
        "REQUEST_METHOD": "POST",
        "QUERY_STRING": "q=1&q=2",
        "CONTENT_TYPE": "application/json",
        "HTTP_USER_AGENT": "curl/8",
        "HTTP_HOST": "localhost:9876",
    }
    body = handle(code, environ=environ, body=b'{"k": [1]}', path="/hello")[2]
    assert json.loads(body) == {
        "method": "POST",
        "path": "/hello",
        "q": ["1", "2"],
        "json": {"k": [1]},
        "ua": "curl/8",
        "url": "http://localhost:9876/hello?q=1&q=2",
    }


def test_request_is_unbound_after_the_call(handle: Any) -> None:
    from owt.request import current_or_none

    handle("lambda: request.path")
    assert current_or_none() is None


def test_request_inside_a_streamed_generator(handle: Any) -> None:
    code = (
        "def run():\n"
        "    def gen():\n"
        "        yield request.path\n"
        "        yield request.args['x']\n"
        "    return gen()\n"
    )
    _, _, body, chunks = handle(code, environ={"QUERY_STRING": "x=y"}, path="/p")
    assert body is None
    assert read(chunks) == b"/py"


def test_module_state_survives_between_requests(handle: Any) -> None:
    code = "count = 0\ndef run():\n    global count\n    count += 1\n    return count\n"
    assert [handle(code)[2] for _ in range(3)] == [b"1", b"2", b"3"]


def test_same_code_other_fn_name_is_another_adaptor(handle: Any) -> None:
    code = "n = []\ndef run():\n    n.append(1)\n    return len(n)\ndef go():\n    n.append(1)\n    return -len(n)\n"
    assert handle(code)[2] == b"1"
    assert handle(code, fn_name="go")[2] == b"-1"


def test_lru_bound_and_eviction_reruns_module_code(runtime: Any, handle: Any) -> None:
    first = "count = 0\ndef run():\n    global count\n    count += 1\n    return count\n"
    assert handle(first)[2] == b"1"
    assert handle(first)[2] == b"2"
    for i in range(8):
        handle(f"def run():\n    return {i}\n")
    assert runtime.stats()["warm_adaptors"] == 8
    assert handle(first)[2] == b"1"


def test_lru_keeps_recently_used(runtime: Any, handle: Any) -> None:
    keep = "count = 0\ndef run():\n    global count\n    count += 1\n    return count\n"
    handle(keep)
    for i in range(20):
        handle(keep)
        handle(f"def run():\n    return {i}\n")
    assert handle(keep)[2] == b"22"


def test_warm_adaptor_is_not_recompiled(runtime: Any, handle: Any) -> None:
    before = runtime.stats()["compiled"]
    for _ in range(5):
        handle("lambda: 'warm'")
    assert runtime.stats()["compiled"] == before + 1


def test_missing_digest_is_computed(runtime: Any) -> None:
    code = "n = []\ndef run():\n    n.append(1)\n    return len(n)\n"
    for expected in (b"1", b"2"):
        assert runtime.handle(code, None, "run", "", 0, None, {}, b"", "/")[2] == expected
    assert runtime.handle(code, None, "run", "", 0, digest(code), {}, b"", "/")[2] == b"3"


def test_all_zero_digest_keys_on_the_code(runtime: Any) -> None:
    zero = bytes(32)
    assert runtime.handle("lambda: 'one'", None, "run", "", 0, zero, {}, b"", "/")[2] == b"one"
    assert runtime.handle("lambda: 'two'", None, "run", "", 0, zero, {}, b"", "/")[2] == b"two"


def test_adaptor_exception_is_a_500_with_message_and_traceback(handle: Any) -> None:
    with pytest.raises(AdaptorError) as caught:
        handle("def run():\n    return 1 / 0\n")
    err = caught.value
    assert err.kind == "adaptor"
    assert err.message == "Error executing code: ZeroDivisionError: division by zero"
    assert "return 1 / 0" in err.traceback
    assert "_runtime.py" not in err.traceback


def test_kwargs_that_do_not_fit_the_signature_are_a_bad_request(handle: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        handle("def run():\n    return 1\n", '{"x": 1}', kind=1)
    assert caught.value.message == "run() got an unexpected keyword argument 'x'"
    with pytest.raises(BadRequest) as caught:
        handle("def run(name: str):\n    return name\n", "{'nam': 'owt'}")
    assert caught.value.message == (
        "run(name: str) got an unexpected keyword argument 'nam'; missing a required argument: 'name'"
    )
    with pytest.raises(BadRequest, match=r"^run\(name: str\) missing a required argument: 'name'$"):
        handle("def run(name: str):\n    return name\n", "")
    assert handle("def run(name: str):\n    return name\n", "{'name': 'fits'}")[2] == b"fits"


def test_a_type_error_inside_the_adaptor_stays_an_adaptor_error(handle: Any) -> None:
    code = "def run(name):\n    return len(name)\n"
    with pytest.raises(AdaptorError, match="TypeError: object of type 'int' has no len"):
        handle(code, '{"name": 5}', kind=1)
    inner = "def helper(a):\n    return a\ndef run():\n    return helper(b=1)\n"
    with pytest.raises(AdaptorError, match="TypeError: helper\\(\\) got an unexpected keyword argument 'b'"):
        handle(inner)


def test_a_named_adaptor_called_with_the_wrong_kwargs_is_a_bad_request(handle: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        handle(adaptor="sota.hard_task", kwargs="{'promt': 'solve AGI'}")
    assert caught.value.message == (
        "hard_task(prompt: str) got an unexpected keyword argument 'promt'; missing a required argument: 'prompt'"
    )


def test_bare_value_goes_positionally_when_the_function_cannot_take_last(handle: Any) -> None:
    assert handle("def run(prompt):\n    return prompt[::-1]\n", '"abc"', kind=1)[2] == b"cba"
    assert handle("def run(**kw):\n    return kw\n", '"abc"', kind=1)[2] == b'{"__last__":"abc"}\n'
    assert handle("def run(__last__):\n    return __last__\n", "7", kind=1)[2] == b"7"


def test_system_exit_does_not_end_the_worker(handle: Any) -> None:
    with pytest.raises(AdaptorError, match="SystemExit: 3"):
        handle("import sys\ndef run():\n    sys.exit(3)\n")


def test_adaptor_may_raise_an_owt_error(handle: Any) -> None:
    with pytest.raises(NotFound, match="no such thing"):
        handle("from owt._runtime import NotFound\ndef run():\n    raise NotFound('no such thing')\n")


def test_exception_carrying_owt_status_maps_to_its_kind(handle: Any) -> None:
    code = "class Gone(Exception):\n    owt_status = 404\ndef run():\n    raise Gone('file.wav')\n"
    with pytest.raises(NotFound) as caught:
        handle(code)
    assert caught.value.message == "Error executing code: Gone: file.wav"


def test_no_code_and_no_adaptor_is_a_bad_request(handle: Any) -> None:
    with pytest.raises(BadRequest, match="no code"):
        handle(None)


def test_syntax_error_is_a_bad_request_and_the_next_request_works(handle: Any) -> None:
    with pytest.raises(BadRequest, match="SyntaxError"):
        handle("def run(:\n")
    assert handle("lambda: 'fine'")[2] == b"fine"


def test_no_code_config_refuses_shipped_code(runtime: Any, handle: Any, adaptor_dir: Path) -> None:
    runtime.configure({"adaptor_dirs": [str(adaptor_dir), str(ADAPTORS)], "no_code": True, "redirect_stdio": False})
    with pytest.raises(Forbidden) as caught:
        handle("lambda: 1")
    assert caught.value.kind == "forbidden"
    assert handle(adaptor="sota.hard_task", kwargs='"solve AGI"', kind=1)[2] == b"AGI solved!"


def test_event_stream_result(handle: Any) -> None:
    code = (
        "def run(n=2):\n"
        "    def gen():\n"
        "        for i in range(n):\n"
        "            yield stream.event(i=i)\n"
        "        yield stream.done()\n"
        "    return stream.response(gen())\n"
    )
    status, headers, body, chunks = handle(code, '{"n": 2}', kind=1)
    assert headers == [("Content-Type", "text/event-stream")]
    assert read(chunks) == b'data: {"i": 0}\n\ndata: {"i": 1}\n\ndata: [DONE]\n\n'


def test_bad_header_from_the_adaptor_is_an_adaptor_error(handle: Any) -> None:
    with pytest.raises(AdaptorError, match="CR, LF"):
        handle("lambda: ('x', {'X-A': 'a\\r\\nb'})")


def test_coroutine_adaptor(handle: Any) -> None:
    code = "import asyncio\nasync def run(x):\n    await asyncio.sleep(0)\n    return {'x': request.path, 'v': x}\n"
    assert json.loads(handle(code, "{'x': 1}", path="/a")[2]) == {"x": "/a", "v": 1}


def test_adaptor_modules_are_importable_by_bare_name(runtime: Any, handle: Any, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_lazy.py").write_text("LOADED = True\ndef twice(__last__):\n    return __last__ * 2\n")
    runtime.configure({"adaptor_dirs": [str(adaptor_dir), str(ADAPTORS)], "redirect_stdio": False})
    assert "owt_test_lazy" not in sys.modules
    assert handle("f(owt_test_lazy.twice)", "21", kind=1)[2] == b"42"
    assert handle("def run():\n    import owt_test_lazy\n    return owt_test_lazy.LOADED\n")[2] == b"True"


def test_adaptor_modules_never_shadow_builtins(runtime: Any, handle: Any, adaptor_dir: Path) -> None:
    (adaptor_dir / "open.py").write_text("X = 1\n")
    runtime.configure({"adaptor_dirs": [str(adaptor_dir), str(ADAPTORS)], "redirect_stdio": False})
    assert handle("lambda: open is __builtins__['open'] if isinstance(__builtins__, dict) else open is __builtins__.open")[2] == b"True"


def test_seed_sota_example(handle: Any) -> None:
    assert handle("f(sota.hard_task)", '"solve AGI"', kind=1)[2] == b"AGI solved!"


def test_named_adaptor_module_and_function(handle: Any, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_named.py").write_text(
        "calls = []\n"
        "def run(name='x'):\n    calls.append(name)\n    return f'run {name} {len(calls)}'\n"
        "def other(**kw):\n    return kw\n"
    )
    assert handle(adaptor="owt_test_named", kwargs="{'name': 'a'}")[2] == b"run a 1"
    assert handle(adaptor="owt_test_named", kwargs="{'name': 'b'}")[2] == b"run b 2"
    assert handle(adaptor="owt_test_named.other", kwargs='{"k": 1}', kind=1)[2] == b'{"k":1}\n'
    assert handle(adaptor="owt_test_named", fn_name="other")[2] == b"{}\n"


def test_named_adaptor_in_a_package(handle: Any, adaptor_dir: Path) -> None:
    pkg = adaptor_dir / "owt_test_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "sub.py").write_text("def run():\n    return 'sub run'\ndef fn():\n    return 'sub fn'\n")
    assert handle(adaptor="owt_test_pkg.sub")[2] == b"sub run"
    assert handle(adaptor="owt_test_pkg.sub.fn")[2] == b"sub fn"


@pytest.mark.parametrize(
    "name",
    [
        "os.system",
        "os",
        "subprocess.run",
        "owt._runtime.configure",
        "owt.server.main",
        "owt_test_missing",
        "owt_test_named.nope",
        "owt_test_named.helper_module",
        "owt_test_named.imported_run",
        "owt_test_named._private",
        "owt_test_named.__class__",
        "owt_test_named.CONSTANT",
        "../etc/passwd",
        "owt_test_named.",
        ".owt_test_named",
        "owt_test_named;rm",
        "",
    ],
)
def test_named_adaptor_not_found(handle: Any, adaptor_dir: Path, name: str) -> None:
    (adaptor_dir / "owt_test_named.py").write_text(
        "import os as helper_module\n"
        "from subprocess import run as imported_run\n"
        "CONSTANT = 3\n"
        "def _private():\n    return 1\n"
    )
    if not name:
        with pytest.raises(BadRequest):
            handle(adaptor=name)
        return
    with pytest.raises(NotFound) as caught:
        handle(adaptor=name)
    assert caught.value.kind == "not_found"


def test_named_adaptor_shadowed_by_another_module_is_not_found(handle: Any, adaptor_dir: Path) -> None:
    (adaptor_dir / "json.py").write_text("def run():\n    return 'shadow'\n")
    with pytest.raises(NotFound):
        handle(adaptor="json")


def test_named_adaptor_that_fails_to_import_is_an_adaptor_error(handle: Any, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_broken.py").write_text("import owt_test_no_such_dependency\ndef run():\n    return 1\n")
    with pytest.raises(AdaptorError, match="No module named 'owt_test_no_such_dependency'"):
        handle(adaptor="owt_test_broken")


def test_named_adaptor_pipe_is_finished(handle: Any, adaptor_dir: Path) -> None:
    (adaptor_dir / "owt_test_piped.py").write_text("from owt import pipe\nrun = pipe().kwarg('x').f(str.upper)\n")
    assert handle(adaptor="owt_test_piped", kwargs='{"x": "a"}', kind=1)[2] == b"A"


def test_timeout_interrupts_the_adaptor(handle: Any) -> None:
    code = (
        "def run():\n"
        "    while True:\n"
        "        try:\n"
        "            sum(range(1000))\n"
        "        except Exception:\n"
        "            pass\n"
    )
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    try:
        with pytest.raises(AdaptorTimeout) as caught:
            handle(code)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    assert caught.value.kind == "timeout"
    assert "sum(range(1000))" in caught.value.traceback or "while True" in caught.value.traceback
    assert handle("lambda: 'after'")[2] == b"after"


def test_timeout_interrupts_a_stream(handle: Any) -> None:
    code = "import time\ndef run():\n    def gen():\n        yield 'a'\n        time.sleep(5)\n        yield 'b'\n    return gen()\n"
    _, _, _, chunks = handle(code)
    assert next(chunks) == b"a"
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    try:
        with pytest.raises(AdaptorTimeout):
            next(chunks)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def test_timeout_in_an_event_stream_sends_an_error_frame(handle: Any) -> None:
    code = "import time\ndef run():\n    def gen():\n        yield 'data: 1\\n\\n'\n        time.sleep(5)\n    return stream.response(gen())\n"
    _, _, _, chunks = handle(code)
    assert next(chunks) == b"data: 1\n\n"
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    try:
        frame = next(chunks)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    assert frame == b"event: error\ndata: Timeout: the adaptor ran past its 30s timeout\n\n"
    assert isinstance(chunks.error, AdaptorTimeout)
    with pytest.raises(AdaptorTimeout, match="Error executing code: Timeout: the adaptor ran past its 30s timeout"):
        next(chunks)


def test_alarm_outside_a_request_is_ignored(runtime: Any) -> None:
    handler = signal.getsignal(signal.SIGALRM)
    assert callable(handler)
    handler(signal.SIGALRM, None)


def test_alarm_inside_adaptor_code_raises_timeout(runtime: Any) -> None:
    from owt import _alarm

    _alarm.enter()
    try:
        with pytest.raises(Timeout):
            signal.getsignal(signal.SIGALRM)(signal.SIGALRM, None)  # type: ignore[operator]
    finally:
        _alarm.leave()


def test_timeout_is_not_an_exception() -> None:
    assert issubclass(Timeout, BaseException) and not issubclass(Timeout, Exception)
    assert issubclass(AdaptorTimeout, OwtError)


def test_print_goes_to_the_log_not_the_response(restore_process: None, capfd: pytest.CaptureFixture[str], adaptor_dir: Path) -> None:
    import owt._runtime as rt

    rt.configure({"adaptor_dirs": [str(adaptor_dir)]})
    status, _, body, _ = rt.handle(
        "import sys\ndef run():\n    print('hello from the adaptor')\n    sys.stderr.write('to stderr\\n')\n    return 'body'\n",
        None, "run", "", 0, None, {}, b"", "/",
    )
    assert body == b"body"
    err = capfd.readouterr().err
    assert "OUTPUT hello from the adaptor" in err
    assert "OUTPUT to stderr" in err


def test_print_goes_through_owt_module_when_present(
    monkeypatch: pytest.MonkeyPatch, restore_process: None, adaptor_dir: Path
) -> None:
    import owt._runtime as rt

    lines: list[tuple[int, str]] = []

    class FakeOwt:
        @staticmethod
        def log(level: int, message: str) -> None:
            lines.append((level, message))

    monkeypatch.setattr(_log, "_owt", FakeOwt)
    rt.configure({"adaptor_dirs": [str(adaptor_dir)]})
    rt.handle("def run():\n    print('via _owt')\n    return 1\n", None, "run", "", 0, None, {}, b"", "/")
    assert lines == [(_log.OUTPUT, "via _owt")]


def test_errors_raised_to_c_are_left_for_c_to_log(monkeypatch: pytest.MonkeyPatch, handle: Any) -> None:
    logged: list[str] = []
    monkeypatch.setattr(_log, "log", lambda level, message: logged.append(message))
    with pytest.raises(AdaptorError):
        handle("def run():\n    raise ValueError('for C')\n")
    assert logged == []


def test_python_executable(restore_process: None) -> None:
    import multiprocessing.spawn

    import owt._runtime as rt

    before = multiprocessing.spawn.get_executable()
    try:
        rt.configure({"python_executable": "/usr/bin/python3.11", "redirect_stdio": False})
        assert sys.executable == "/usr/bin/python3.11"
        assert os.fsdecode(multiprocessing.spawn.get_executable()) == "/usr/bin/python3.11"
    finally:
        multiprocessing.spawn.set_executable(before)


def test_current_config(runtime: Any) -> None:
    config = runtime.current_config()
    assert config["max_adaptors"] == 8
    assert config["allow_shell"] is False


RUNNABLE_VECTORS = {
    "code-only": b"Hello, owt!",
    "hello-kwargs": b"Hello, owt!",
    "kwargs-non-ascii-key": json.dumps({"ключ": "значение"}, separators=(",", ":")).encode() + b"\n",
    "kwargs-nested": b'{"a":[1,2.5,-3],"b":{"c":null,"d":true,"e":false},"f":"","g":[]}\n',
    "kwargs-bare-string": b"AGI solved!",
    "code-non-ascii": "naïve".encode(),
    "code-crlf-no-trailing-newline": b"1",
    "code-base64-plus-slash": b"?>~~~>>>???",
    "implicit-expression": b"hello",
    "terse-pipe": b"1",
    "fn-name": b"Hi owt",
    "fn-name-run-explicit": b"Hello, owt!",
    "fn-name-non-ascii": b"servus",
    "adaptor-module": b"AGI solved!",
    "adaptor-function-bare-kwargs": b"AGI solved!",
    "use-cache": b"icon",
}


@pytest.mark.parametrize("name", sorted(RUNNABLE_VECTORS))
def test_client_vectors_run(handle: Any, name: str) -> None:
    case = next(c for c in VECTORS if c["name"] == name)
    fields = case["expected"]["json"]
    code = _b64(fields["code_b64"]) if "code_b64" in fields else None
    kwargs = _b64(fields["kwargs_b64"]) if "kwargs_b64" in fields else ""
    kind = 0 if not kwargs else (1 if _is_json(kwargs) else 2)
    status, _, body, _ = handle(code, kwargs, fields.get("fn_name", "run"), fields.get("adaptor"), kind, path="/owt/hello")
    assert (status, body) == (200, RUNNABLE_VECTORS[name])


def _b64(text: str) -> str:
    return base64.b64decode(text).decode("utf-8")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_the_request_object_is_built_only_when_read(handle: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm path binds the request to the thread as raw parts: a Request is built
    the first time something reads owt.request, once per request."""
    import owt.request as request_module

    built: list[Any] = []
    real_init = request_module.Request.__init__

    def counting_init(self: Any, *args: Any, **kw: Any) -> None:
        built.append(self)
        real_init(self, *args, **kw)

    monkeypatch.setattr(request_module.Request, "__init__", counting_init)
    assert handle("def run(name):\n    return f'Hello, {name}!'\n", '{"name": "owt"}', kind=1)[2] == b"Hello, owt!"
    assert built == []
    code = "def run():\n    return request.path + ' ' + request.method + ' ' + str(request is request)\n"
    assert handle(code, path="/p", environ={"REQUEST_METHOD": "PUT"})[2] == b"/p PUT True"
    assert len(built) == 1
    code = "import owt.request as r\ndef run():\n    return r.current() is r.current()\n"
    assert handle(code)[2] == b"True"
    assert len(built) == 2


def test_the_request_is_unbound_after_the_call(handle: Any) -> None:
    import owt.request as request_module

    code = "kept = []\ndef run():\n    kept.append(request)\n    return request.path\n"
    assert handle(code, path="/first")[2] == b"/first"
    assert request_module.current_or_none() is None
    with pytest.raises(request_module.RequestUnavailable):
        request_module.current()


def test_a_thread_the_adaptor_starts_has_no_request(handle: Any) -> None:
    code = (
        "import threading\n"
        "def run():\n"
        "    seen = []\n"
        "    def look():\n"
        "        try:\n"
        "            seen.append(request.path)\n"
        "        except RuntimeError as e:\n"
        "            seen.append(type(e).__name__)\n"
        "    t = threading.Thread(target=look)\n"
        "    t.start()\n"
        "    t.join()\n"
        "    return seen[0] + ' ' + request.path\n"
    )
    assert handle(code, path="/mine")[2] == b"RequestUnavailable /mine"


def test_a_coroutine_on_the_shared_loop_sees_its_request(runtime: Any, handle: Any) -> None:
    """Threaded workers run coroutines on one loop thread: they see the request through
    the context they are started from, not through the request thread."""
    from owt import _aio

    was = _aio._enabled
    _aio.enable()
    try:
        code = "import asyncio\nasync def run(x):\n    await asyncio.sleep(0)\n    return {'x': request.path, 'v': x}\n"
        assert json.loads(handle(code, "{'x': 1}", path="/a")[2]) == {"x": "/a", "v": 1}
        code = (
            "import asyncio\n"
            "async def run():\n"
            "    for i in range(2):\n"
            "        await asyncio.sleep(0)\n"
            "        yield f'{request.path} {i}\\n'\n"
        )
        status, _, body, chunks = handle(code, path="/s")
        assert b"".join(chunks) == b"/s 0\n/s 1\n"
    finally:
        _aio._enabled = was


def test_kwargs_c_built_are_used_as_they_are(runtime: Any) -> None:
    """Kind 3: C parsed a flat JSON object and passes the dict itself."""
    code = "def run(**kw):\n    return kw\n"
    key = hashlib.sha256(b"run\0" + code.encode()).digest()
    status, _, body, _ = runtime.handle(code, None, "run", {"a": 1, "b": "x"}, 3, key, {}, b"", "/")
    assert (status, json.loads(body)) == (200, {"a": 1, "b": "x"})
