"""owt._jsonify: Flask's jsonify bytes (checked against Debian's python3-flask), the
values ML adaptors return (numpy, torch, dataclasses) and the NaN/Infinity policy."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import os
import sys
import types
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from owt import _jsonify
from owt._coerce import coerce

JSON = [("Content-Type", "application/json")]
TEXT = [("Content-Type", "text/plain; charset=utf-8")]


def _flask() -> Any:
    try:
        import flask
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("python3-flask is not installed (apt-get install python3-flask)")
    return flask


@dataclasses.dataclass
class Point:
    y: int
    x: str
    tags: list[str] = dataclasses.field(default_factory=list)


class Markup:
    def __html__(self) -> str:
        return "<b>safe</b>"


class Obj(dict):  # the seed's test_const_object
    def __init__(self, x: int, y: str) -> None:
        super().__init__()
        self["x"] = x
        self["y"] = y


FLASK_VALUES: list[Any] = [
    {"x": 123, "y": "abc"},
    Obj(123, "abc"),
    {"b": 1, "a": 2, "é": "☃ snow", "emoji": "\U0001f600"},
    [1, "two", {"z": 1, "a": None}, [True, False]],
    [],
    {},
    {"f": 1.5, "big": 1e300, "small": 1e-7, "neg": -0.0, "int": 10**30},
    {2: "int key", 1: "another"},
    {2.5: "float key", -1.0: "another"},
    {True: "bool key", False: "another"},
    {float("nan"): "nan key"},
    {-float("inf"): [1]},
    (1, "tuple"),
    {"nested": {"b": {"d": 1, "c": 2}, "a": [{"z": 0, "y": 1}]}},
    {"html": "</script><b>&amp;'\"", "ctrl": "\x00\x1f\n\t"},
    Point(1, "x", ["t"]),
    {"when": datetime.datetime(2024, 1, 2, 3, 4, 5)},
    {"aware": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))},
    {"day": datetime.date(2024, 2, 29)},
    {"dec": decimal.Decimal("1.50"), "id": uuid.UUID(int=1)},
    {"markup": Markup()},
    "a bare string",
    42,
]


@pytest.mark.parametrize("value", FLASK_VALUES, ids=lambda v: type(v).__name__ + ":" + repr(v)[:30])
def test_body_is_byte_identical_to_flask_jsonify(value: Any) -> None:
    flask = _flask()
    app = flask.Flask("owt-fidelity")
    with app.app_context():
        sent = flask.jsonify(value)
        expected = sent.get_data()
        assert sent.headers["Content-Type"] == "application/json"
    assert _jsonify.body(value) == expected


@pytest.mark.parametrize("value", [{"x": 123, "y": "abc"}, [1, {"b": 2, "a": "é"}]])
def test_a_view_returning_a_dict_or_list_sends_what_coerce_sends(value: Any) -> None:
    """The seed's route returns the adaptor's dict/list; Flask's make_response jsonifies it."""
    flask = _flask()
    app = flask.Flask("owt-fidelity")
    with app.app_context():
        sent = app.make_response(value)
    status, headers, body, chunks = coerce(value)
    assert chunks is None
    assert (status, body) == (sent.status_code, sent.get_data())
    assert headers == [("Content-Type", sent.headers["Content-Type"])]


def test_the_seed_dict_bytes() -> None:
    assert _jsonify.body({"y": "abc", "x": 123}) == b'{"x":123,"y":"abc"}\n'
    assert _jsonify.body({"é": "☃"}) == b'{"\\u00e9":"\\u2603"}\n'


def test_unsortable_keys_go_out_unsorted() -> None:
    assert _jsonify.body({"b": 1, 1: 2}) == b'{"b":1,"1":2}\n'


# ---- NaN and Infinity ----------------------------------------------------------------------


def test_non_finite_floats_become_null() -> None:
    value = {"nan": float("nan"), "inf": float("inf"), "ninf": -float("inf"), "ok": 1.5,
             "deep": [[float("nan")], {"k": (float("inf"),)}]}
    data = _jsonify.body(value)
    assert data == b'{"deep":[[null],{"k":[null]}],"inf":null,"nan":null,"ninf":null,"ok":1.5}\n'
    json.loads(data, parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    raise AssertionError(f"{name} is not JSON")


def test_nan_leaves_the_value_unchanged() -> None:
    value = {"x": [float("nan")]}
    _jsonify.body(value)
    assert value["x"][0] != value["x"][0]


def test_a_bare_nan_is_text_not_json() -> None:
    for nan in (float("nan"), np.float64("nan"), np.float32("nan")):
        assert coerce(nan)[:3] == (200, TEXT, b"nan")
    assert coerce(float("inf"))[:3] == (200, TEXT, b"inf")


def test_nan_inside_a_list_result() -> None:
    assert coerce([1.0, float("nan")])[:3] == (200, JSON, b"[1.0,null]\n")


def test_nan_in_a_streamed_item_is_null() -> None:
    def gen() -> Iterator[Any]:
        yield {"v": float("nan")}

    _, _, _, chunks = coerce(gen())
    assert chunks is not None and list(chunks) == [b'{"v": null}']


def test_circular_values_are_not_json() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert _jsonify.body(loop) is None
    cyclic: dict[str, Any] = {"nan": float("nan")}
    cyclic["self"] = cyclic
    assert _jsonify.body(cyclic) is None


# ---- numpy (Debian's python3-numpy) --------------------------------------------------------


def test_dict_of_numpy_scalars_is_json() -> None:
    value = {"i": np.int64(3), "f": np.float32(1.5), "d": np.float64(0.25), "b": np.bool_(True),
             "u": np.uint8(255), "h": np.float16(0.5)}
    status, headers, body, _ = coerce(value)
    assert (status, headers) == (200, JSON)
    assert body == b'{"b":true,"d":0.25,"f":1.5,"h":0.5,"i":3,"u":255}\n'


def test_numpy_arrays_are_json_lists() -> None:
    assert coerce(np.arange(3))[:3] == (200, JSON, b"[0,1,2]\n")
    assert coerce(np.array([[1.5, 2.0], [3.0, 4.5]], dtype=np.float32))[:3] == (200, JSON, b"[[1.5,2.0],[3.0,4.5]]\n")
    assert coerce({"m": np.eye(2, dtype=int)})[2] == b'{"m":[[1,0],[0,1]]}\n'
    assert coerce(np.array([], dtype=float))[2] == b"[]\n"


def test_numpy_nan_and_inf_in_an_array_are_null() -> None:
    assert coerce(np.array([1.0, np.nan, np.inf, -np.inf]))[2] == b"[1.0,null,null,null]\n"
    assert coerce({"x": np.float64("nan"), "y": np.float32("inf")})[2] == b'{"x":null,"y":null}\n'


def test_numpy_scalars_alone_are_text() -> None:
    assert coerce(np.int64(7))[:3] == (200, TEXT, b"7")
    assert coerce(np.float32(0.5))[:3] == (200, TEXT, b"0.5")
    assert coerce(np.bool_(False))[:3] == (200, TEXT, b"False")
    assert coerce(np.array(5))[:3] == (200, TEXT, b"5")


def test_numpy_keys_and_nested_in_tuples_and_dataclasses() -> None:
    assert _jsonify.body({np.int64(2): "two", "k": (np.int32(1), np.float64(2.5))}) == b'{"2":"two","k":[1,2.5]}\n'


def test_numpy_is_not_imported_for_plain_results() -> None:
    code = (
        "import sys; sys.modules.pop('numpy', None)\n"
        "from owt._coerce import coerce\n"
        "coerce({'a': [1, 2.5, None]}); coerce('x'); coerce(b'y'); coerce(float('nan'))\n"
        "coerce({'nan': float('nan')}); coerce(object())\n"
        "print(sorted(m for m in ('numpy', 'torch', 'dataclasses', 'decimal', 'uuid', 'email.utils') if m in sys.modules))\n"
    )
    import subprocess

    adaptors = os.path.join(os.path.dirname(__file__), "..", "..", "adaptors")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": adaptors})
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.replace("'", '"'))
    assert "numpy" not in loaded and "torch" not in loaded and "email.utils" not in loaded


# ---- torch, through a stand-in registered as sys.modules["torch"] ---------------------------


class _FakeTensor:
    """What the conversion uses of a torch.Tensor: detach(), cpu(), tolist()."""

    def __init__(self, data: Any, device: str = "cuda:0", grad: bool = True) -> None:
        self.data, self.device, self.requires_grad = data, device, grad
        self.calls: list[str] = []

    def detach(self) -> "_FakeTensor":
        self.calls.append("detach")
        out = _FakeTensor(self.data, self.device, False)
        out.calls = self.calls
        return out

    def cpu(self) -> "_FakeTensor":
        self.calls.append("cpu")
        out = _FakeTensor(self.data, "cpu", self.requires_grad)
        out.calls = self.calls
        return out

    def tolist(self) -> Any:
        assert self.device == "cpu" and not self.requires_grad, "tolist() before detach().cpu()"
        self.calls.append("tolist")
        return self.data

    def __iter__(self) -> Iterator[Any]:
        raise AssertionError("a tensor must not be streamed element by element")


@pytest.fixture
def fake_torch(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("torch")
    module.Tensor = _FakeTensor  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", module)
    return module


def test_torch_tensor_result_is_json(fake_torch: types.ModuleType) -> None:
    tensor = _FakeTensor([[1.0, 2.5], [float("nan"), 4.0]])
    status, headers, body, chunks = coerce(tensor)
    assert (status, headers, body, chunks) == (200, JSON, b"[[1.0,2.5],[null,4.0]]\n", None)
    assert tensor.calls == ["detach", "cpu", "tolist"]


def test_torch_tensors_inside_a_dict(fake_torch: types.ModuleType) -> None:
    value = {"logits": _FakeTensor([0.5, 1.5]), "label": _FakeTensor(3)}
    assert coerce(value)[:3] == (200, JSON, b'{"label":3,"logits":[0.5,1.5]}\n')


def test_torch_scalar_tensor_alone_is_text(fake_torch: types.ModuleType) -> None:
    assert coerce(_FakeTensor(0.75))[:3] == (200, TEXT, b"0.75")


def test_without_torch_imported_a_tensor_like_is_not_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)

    class Tensor:  # has no tolist(): nothing to convert it with
        def __str__(self) -> str:
            return "tensor(1)"

    assert _jsonify.native(Tensor()) is _jsonify.NOT_NATIVE
    assert coerce(Tensor())[:3] == (200, TEXT, b"tensor(1)")


# ---- dataclasses -----------------------------------------------------------------------------


def test_dataclass_result_is_json() -> None:
    assert coerce(Point(2, "a", ["t"]))[:3] == (200, JSON, b'{"tags":["t"],"x":"a","y":2}\n')


def test_nested_dataclasses_with_numpy() -> None:
    @dataclasses.dataclass
    class Prediction:
        label: str
        score: Any
        box: Any

    value = [Prediction("cat", np.float32(0.5), np.array([1, 2]))]
    assert coerce(value)[2] == b'[{"box":[1,2],"label":"cat","score":0.5}]\n'


def test_a_dataclass_class_is_not_an_instance() -> None:
    assert _jsonify.native(Point) is _jsonify.NOT_NATIVE


def test_not_json_at_all_is_its_str() -> None:
    assert coerce({"a": {1, 2}})[:2] == (200, TEXT)
    assert _jsonify.body({"a": object()}) is None
