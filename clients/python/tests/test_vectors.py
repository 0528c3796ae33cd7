"""The encoders against clients/vectors.json, byte for byte."""

import json

import pytest

from conftest import load_vectors
from owt_client import encode_json, encode_query
from owt_client.encoding import FIELD_ORDER

VECTORS = load_vectors()


def _inputs(case):
    return dict(
        code=case.get("code"),
        kwargs=case.get("kwargs"),
        fn_name=case.get("fn_name"),
        adaptor=case.get("adaptor"),
        use_cache=case.get("use_cache", False),
        cache_kwargs=case.get("cache_kwargs", False),
        by_digest=case.get("by_digest", False),
        code_sig=case.get("code_sig"),
    )


def _canonical(value):
    return json.dumps(value, sort_keys=True)


def test_vectors_are_well_formed():
    names = [case["name"] for case in VECTORS]
    assert len(names) == len(set(names)) and len(names) >= 20
    allowed = {"name", "code", "kwargs", "fn_name", "adaptor", "use_cache", "cache_kwargs", "by_digest",
               "code_sig", "expected"}
    for case in VECTORS:
        assert set(case) <= allowed, case["name"]
        assert set(case["expected"]) == {"query", "json"}, case["name"]
        assert list(case["expected"]["json"]) == [k for k in FIELD_ORDER if k in case["expected"]["json"]]


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_query(case):
    assert encode_query(**_inputs(case)) == case["expected"]["query"]


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_json(case):
    body = encode_json(**_inputs(case))
    assert _canonical(body) == _canonical(case["expected"]["json"])
    assert list(body) == [k for k in FIELD_ORDER if k in body]


def test_nan_is_refused():
    with pytest.raises(ValueError):
        encode_query("x", {"v": float("nan")})


def test_bytes_code_is_sent_as_is():
    assert encode_json(b"\xff") == {"code_b64": "/w=="}
