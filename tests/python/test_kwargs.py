"""owt._kwargs: the kwargs text → kwargs dict, every row of PROTOCOL §3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from owt._errors import BadRequest
from owt._kwargs import EMPTY, JSON, LITERAL_LIMIT, OTHER, decode


@pytest.mark.parametrize("kind", [None, EMPTY])
def test_empty_text_is_no_kwargs(kind: int | None) -> None:
    assert decode("", kind) == {}
    assert decode(None, kind) == {}


def test_whitespace_and_newlines_only_is_no_kwargs() -> None:
    assert decode("\n", None) == {}
    assert decode("  \r\n", OTHER) == {}


def test_empty_kind_trusts_c() -> None:
    assert decode("   ", EMPTY) == {}


@pytest.mark.parametrize("kind", [None, JSON])
def test_json_object_becomes_the_kwargs(kind: int | None) -> None:
    assert decode('{"name": "owt", "n": [1, 2.5, null]}', kind) == {"name": "owt", "n": [1, 2.5, None]}


def test_json_non_ascii() -> None:
    assert decode('{"ключ":"значение","name":"Grüße, 世界 🌍"}', JSON) == {
        "ключ": "значение",
        "name": "Grüße, 世界 🌍",
    }


@pytest.mark.parametrize("kind", [None, OTHER])
def test_python_literal_dict(kind: int | None) -> None:
    assert decode("{'name': 'owt'}", kind) == {"name": "owt"}


@pytest.mark.parametrize(
    ("text", "value"),
    [("True", True), ("False", False), ("None", None), ("(1, 'a')", (1, "a")), ("{1, 2}", {1, 2})],
)
def test_python_literals_that_are_not_dicts_become_last(text: str, value: object) -> None:
    assert decode(text, OTHER) == {"__last__": value}


@pytest.mark.parametrize(
    ("text", "value"),
    [("42", 42), ("false", False), ("null", None), ('[1, "two", null]', [1, "two", None]), ("[]", []), ("2.5", 2.5)],
)
def test_json_values_that_are_not_objects_become_last(text: str, value: object) -> None:
    assert decode(text, JSON) == {"__last__": value}


def test_json_string_is_decoded_once_more_into_kwargs() -> None:
    inner = json.dumps({"name": "owt"})
    assert decode(json.dumps(inner), JSON) == {"name": "owt"}


def test_json_string_holding_a_python_literal() -> None:
    assert decode(json.dumps("{'a': 1}"), JSON) == {"a": 1}


def test_string_decoded_once_more_into_a_list() -> None:
    assert decode('"[1]"', JSON) == {"__last__": [1]}


def test_string_is_decoded_only_once_more() -> None:
    twice = json.dumps(json.dumps(json.dumps({"a": 1})))
    assert decode(twice, JSON) == {"__last__": json.dumps({"a": 1})}


def test_plain_json_string_stays_a_string() -> None:
    assert decode('"solve AGI"', JSON) == {"__last__": "solve AGI"}


def test_empty_json_string_is_a_value_not_no_kwargs() -> None:
    assert decode('""', JSON) == {"__last__": ""}


def test_literal_string_is_decoded_once_more() -> None:
    assert decode("'42'", OTHER) == {"__last__": 42}


@pytest.mark.parametrize("kind", [None, OTHER])
def test_unparseable_text_is_the_last_value(kind: int | None) -> None:
    assert decode("solve AGI", kind) == {"__last__": "solve AGI"}
    assert decode("{oops", kind) == {"__last__": "{oops"}


def test_trailing_newlines_are_ignored() -> None:
    assert decode("{'name': 'owt'}\n", OTHER) == {"name": "owt"}
    assert decode("solve AGI\r\n\n", OTHER) == {"__last__": "solve AGI"}
    assert decode('{"a": 1}\n', JSON) == {"a": 1}


def test_never_evaluates_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    assert decode(text, OTHER) == {"__last__": text}
    assert not marker.exists()


def test_json_hint_that_python_json_rejects_falls_back_to_literal() -> None:
    assert decode("{'a': 1}", JSON) == {"a": 1}


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        "-" * 200_000 + "1",
        "+0" * 200_000,
        "not " * 100_000 + "1",
        "[1," * 100_000 + "]" * 100_000,
        "()" + "[0]" * 100_000,
    ],
    ids=["brackets", "unary", "binop", "not", "nested-list", "subscripts"],
)
def test_pathological_nesting_is_text_not_a_crash(text: str) -> None:
    assert decode(text, OTHER) == {"__last__": text}
    assert decode(text, None) == {"__last__": text}


def test_deep_json_nesting_is_text() -> None:
    text = "[" * 50_000 + "]" * 50_000
    assert decode(text, JSON) == {"__last__": text}


def test_huge_integer_is_text() -> None:
    text = "9" * 10_000
    assert decode(text, OTHER) == {"__last__": text}


def test_text_over_the_literal_limit_is_refused_clearly() -> None:
    text = "{'a': '" + "x" * LITERAL_LIMIT + "'}"
    with pytest.raises(BadRequest, match="too long.*send the kwargs as JSON") as caught:
        decode(text, OTHER)
    assert caught.value.kind == "bad_request"


def test_large_json_is_fine() -> None:
    value = {"a": "x" * (LITERAL_LIMIT + 10)}
    assert decode(json.dumps(value), JSON) == value
    assert decode(json.dumps(value), None) == value


def test_pathological_input_does_not_kill_the_process() -> None:
    code = (
        "from owt._kwargs import decode, OTHER\n"
        "for t in ['-' * 1_000_000 + '1', '(' * 500_000 + ')' * 500_000, 'not ' * 250_000 + '1']:\n"
        "    assert '__last__' in decode(t, OTHER)\n"
        "print('ok')\n"
    )
    adaptors = str(Path(__file__).resolve().parents[2] / "adaptors")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=adaptors, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
