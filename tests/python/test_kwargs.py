"""owt._kwargs: the kwargs text → kwargs dict, every row of PROTOCOL §3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from owt._errors import BadRequest
from owt._kwargs import EMPTY, JSON, LITERAL_DEPTH, LITERAL_LIMIT, OTHER, NotALiteral, decode, literal


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
    assert decode("(1, 2", kind) == {"__last__": "(1, 2"}
    assert decode("'unterminated", kind) == {"__last__": "'unterminated"}


@pytest.mark.parametrize("kind", [None, OTHER, JSON])
@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("{'name': 'owt'", "a dict"),
        ("{oops", "a dict"),
        ('  {"a": 1,}}', "a dict"),
        ("{'a': os.system('id')}", "a dict"),
        ("{'a': x}", "a dict"),
        ("{**other}", "a dict"),
        ("{'a': [1]}[0]", "a dict"),
        ("[1, 2", "a list"),
        ("[citation needed]", "a list"),
        ("[1] + [2]", "a list"),
    ],
)
def test_text_that_looks_like_a_dict_or_list_but_does_not_parse_is_refused(
    kind: int | None, text: str, shape: str
) -> None:
    with pytest.raises(BadRequest, match=f"starts like {shape} but is neither JSON nor a Python literal") as caught:
        decode(text, kind)
    assert caught.value.kind == "bad_request"


def test_the_refusal_says_where_the_parse_failed() -> None:
    with pytest.raises(BadRequest, match="'{' was never closed"):
        decode("{'name': 'owt'", OTHER)
    with pytest.raises(BadRequest, match="the name 'x' is not a value"):
        decode("{'a': x}", OTHER)
    with pytest.raises(BadRequest, match="a call is not a value"):
        decode("{'a': f(1)}", OTHER)


def test_a_string_value_that_looks_like_a_list_stays_a_string() -> None:
    # Only the kwargs text itself must parse; a JSON string holding "[..." is a value.
    assert decode('"[citation needed]"', JSON) == {"__last__": "[citation needed]"}
    assert decode("'{oops'", OTHER) == {"__last__": "{oops"}


@pytest.mark.parametrize("kind", [None, OTHER, JSON])
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a":True,"b":null}', {"a": True, "b": None}),
        ('{"a": true, "b": None, "c": false, "d": False}', {"a": True, "b": None, "c": False, "d": False}),
        ("{'xs': [true, null, (1, false)], 'n': -2.5, 'p': +3}", {"xs": [True, None, (1, False)], "n": -2.5, "p": 3}),
        ("{'s': {1, 2}, 'b': b'raw', 'e': ()}", {"s": {1, 2}, "b": b"raw", "e": ()}),
    ],
)
def test_mixed_json_and_python_spellings(kind: int | None, text: str, value: dict[str, object]) -> None:
    assert decode(text, kind) == value


@pytest.mark.parametrize(("text", "value"), [("[true, None]", [True, None]), ("(null,)", (None,))])
def test_mixed_spellings_outside_a_dict_become_last(text: str, value: object) -> None:
    assert decode(text, OTHER) == {"__last__": value}


@pytest.mark.parametrize("kind", [None, OTHER])
@pytest.mark.parametrize("text", ["{1: 2}", "{'a': 1, (1, 2): 3}", "{None: 1}", "{true: 1}", '"{1: 2}"'])
def test_keys_must_be_strings(kind: int | None, text: str) -> None:
    with pytest.raises(BadRequest, match="keys must be strings") as caught:
        decode(text, kind)
    assert caught.value.kind == "bad_request"


def test_nested_dicts_may_have_any_keys() -> None:
    assert decode("{'table': {1: 'one', (2, 3): true}}", OTHER) == {"table": {1: "one", (2, 3): True}}


@pytest.mark.parametrize("text", ["{[1]: 2}", "{'a': {[1]}}", "{'a': {{}: 1}}"])
def test_unhashable_keys_and_set_members_are_refused(text: str) -> None:
    with pytest.raises(BadRequest, match="cannot be"):
        decode(text, OTHER)


@pytest.mark.parametrize("text", ["-True", "--1", "-'a'", "not 1", "1 + 2j", "x", "f()", "a.b", "'a'.upper()"])
def test_only_whitelisted_nodes_are_values(text: str) -> None:
    assert decode(text, OTHER) == {"__last__": text}
    with pytest.raises(NotALiteral):
        literal(text)


def test_literal_depth_is_bounded() -> None:
    ok = "(" * LITERAL_DEPTH + ")" * LITERAL_DEPTH
    assert literal(ok) == ()
    deep = "[" * (LITERAL_DEPTH + 2) + "]" * (LITERAL_DEPTH + 2)
    with pytest.raises(NotALiteral, match=f"deeper than {LITERAL_DEPTH}"):
        literal(deep)
    with pytest.raises(BadRequest, match=f"deeper than {LITERAL_DEPTH}"):
        decode("{'a': " + deep + "}", OTHER)


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
        "-" * 200_000 + "1",
        "+0" * 200_000,
        "not " * 100_000 + "1",
        "(" * 100_000 + ")" * 100_000,
        "()" + "[0]" * 100_000,
    ],
    ids=["unary", "binop", "not", "parens", "subscripts"],
)
def test_pathological_nesting_is_text_not_a_crash(text: str) -> None:
    assert decode(text, OTHER) == {"__last__": text}
    assert decode(text, None) == {"__last__": text}
    assert decode(text, JSON) == {"__last__": text}


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, "[1," * 100_000 + "]" * 100_000, "{'a': " * 100_000 + "1" + "}" * 100_000],
    ids=["brackets", "nested-list", "nested-dict"],
)
def test_pathological_nesting_in_a_list_or_dict_is_refused_not_a_crash(text: str) -> None:
    for kind in (OTHER, None, JSON):
        with pytest.raises(BadRequest, match="neither JSON nor a Python literal"):
            decode(text, kind)


def test_deep_json_nesting_is_refused() -> None:
    text = "[" * 50_000 + "]" * 50_000
    with pytest.raises(BadRequest, match="starts like a list"):
        decode(text, JSON)


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
        "from owt._errors import BadRequest\n"
        "for t in ['-' * 1_000_000 + '1', '(' * 500_000 + ')' * 500_000, 'not ' * 250_000 + '1']:\n"
        "    assert '__last__' in decode(t, OTHER)\n"
        "for t in ['[' * 500_000 + ']' * 500_000, '{1:' * 300_000 + '1' + '}' * 300_000]:\n"
        "    try:\n"
        "        decode(t, OTHER)\n"
        "    except BadRequest:\n"
        "        pass\n"
        "    else:\n"
        "        raise AssertionError('not refused')\n"
        "print('ok')\n"
    )
    adaptors = str(Path(__file__).resolve().parents[2] / "adaptors")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=adaptors, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "owt"}',
        ' {"a": 1} ',
        '\n\t{"a": 1}',
        '{"a": 1}\r\n',
        '{"a": 1, "a": 2}',
        '{"big": 123456789012345678901234567890, "f": 1.0, "e": -1.5e3, "z": -0}',
        '{"n": NaN, "i": Infinity, "m": -Infinity}',
        '{"s": "caf\\u00e9 \\ud83d\\ude00 \\ud800", "esc": "\\"\\\\\\/\\b\\f\\n\\r\\t"}',
        '{"nested": {"list": [1, [2, [3, {"x": null}]]], "t": true, "f": false}}',
        '"{\\"a\\": 1}"',
        "[1, 2]",
        "42",
        "{}",
    ],
)
def test_json_is_decoded_exactly_as_json_loads_does(text: str) -> None:
    """C sends every text but blanks as JSON (1): json's own scanner reads it, the
    values json.loads gives, whitespace around it and all."""
    want = json.loads(text)
    if isinstance(want, str):
        want = json.loads(want)
    if not isinstance(want, dict):
        want = {"__last__": want}
    got = decode(text, JSON)
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    assert [type(v) for v in got.values()] == [type(v) for v in want.values()]


@pytest.mark.parametrize("text", ['{"a": 1} x', '{"a": 1}{}', '{"a": 1', "[1] [2]"])
def test_json_with_more_after_it_or_cut_short_is_refused(text: str) -> None:
    with pytest.raises(BadRequest, match="neither JSON nor a Python literal"):
        decode(text, JSON)


def test_a_scan_that_stops_early_is_not_taken_for_json() -> None:
    assert decode("42 43", JSON) == {"__last__": "42 43"}
    assert decode("{'a': 1}", JSON) == {"a": 1}
