package owtclient

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

type vector struct {
	Name        string
	Code        string
	Kwargs      any
	FnName      string
	Adaptor     string
	UseCache    bool
	CacheKwargs bool
	ByDigest    bool
	CodeSig     string
	Query       string
	JSON        json.RawMessage
}

// decodeJSON reads JSON keeping numbers as their text, so that kwargs are written
// back exactly as vectors.json spells them.
func decodeJSON(t *testing.T, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile("../vectors.json")
	if err != nil {
		t.Fatalf("reading vectors: %v", err)
	}
	var cases []map[string]json.RawMessage
	decodeJSON(t, raw, &cases)
	if len(cases) == 0 {
		t.Fatal("no vectors")
	}
	var out []vector
	for _, c := range cases {
		var v vector
		str := func(key string, dst *string) {
			if r, ok := c[key]; ok {
				decodeJSON(t, r, dst)
			}
		}
		flag := func(key string, dst *bool) {
			if r, ok := c[key]; ok {
				decodeJSON(t, r, dst)
			}
		}
		str("name", &v.Name)
		str("code", &v.Code)
		str("fn_name", &v.FnName)
		str("adaptor", &v.Adaptor)
		flag("use_cache", &v.UseCache)
		flag("cache_kwargs", &v.CacheKwargs)
		flag("by_digest", &v.ByDigest)
		str("code_sig", &v.CodeSig)
		if r, ok := c["kwargs"]; ok {
			decodeJSON(t, r, &v.Kwargs)
		}
		var expected struct {
			Query string          `json:"query"`
			JSON  json.RawMessage `json:"json"`
		}
		decodeJSON(t, c["expected"], &expected)
		v.Query, v.JSON = expected.Query, expected.JSON
		out = append(out, v)
	}
	return out
}

func (v vector) call() Call {
	return Call{Code: v.Code, Kwargs: v.Kwargs, FnName: v.FnName, Adaptor: v.Adaptor,
		UseCache: v.UseCache, CacheKwargs: v.CacheKwargs, ByDigest: v.ByDigest, CodeSig: v.CodeSig}
}

func TestVectorsQuery(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			got, err := EncodeQuery(v.call())
			if err != nil {
				t.Fatal(err)
			}
			if got != v.Query {
				t.Errorf("query\n got: %s\nwant: %s", got, v.Query)
			}
		})
	}
}

func TestVectorsJSONBody(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			body, err := EncodeBody(v.call())
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			decodeJSON(t, body, &got)
			decodeJSON(t, v.JSON, &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("json body\n got: %s\nwant: %s", body, v.JSON)
			}
		})
	}
}

func TestVectorsCover(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range loadVectors(t) {
		if seen[v.Name] {
			t.Errorf("duplicate vector %q", v.Name)
		}
		seen[v.Name] = true
	}
	for _, name := range []string{"kwargs-json-escapes", "kwargs-bare-string", "all-fields-order", "kwargs-null-omitted"} {
		if !seen[name] {
			t.Errorf("vector %q missing", name)
		}
	}
}

func TestCompactJSON(t *testing.T) {
	type ordered struct {
		Z string `json:"z"`
		A int    `json:"a"`
	}
	cases := []struct {
		in   any
		want string
	}{
		{"solve AGI", `"solve AGI"`},
		{map[string]any{"b": 1, "a": []any{true, nil}}, `{"a":[true,null],"b":1}`},
		{ordered{"x", 2}, `{"z":"x","a":2}`},
		{"<&>/\u2028\u2029\u007f", "\"<&>/\u2028\u2029\u007f\""},
		{"\b\f\n\r\t\x00\x1f\"\\", `"\b\f\n\r\t\u0000\u001f\"\\"`},
		{"\\u2028 \\b", `"\\u2028 \\b"`},
		{"Grüße, 世界 🌍", `"Grüße, 世界 🌍"`},
		{json.RawMessage(`{ "s" : "\u00e9\/\ud83c\udf0d\u2028\u0008\u001F" }`), "{\"s\":\"é/🌍\u2028\\b\\u001f\"}"},
		{2.5, `2.5`},
		{-0.25, `-0.25`},
		{[]int{}, `[]`},
		{"", `""`},
		{false, `false`},
	}
	for _, c := range cases {
		got, err := CompactJSON(c.in)
		if err != nil {
			t.Errorf("%#v: %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%#v\n got: %s\nwant: %s", c.in, got, c.want)
		}
	}
	if _, err := CompactJSON(make(chan int)); err == nil {
		t.Error("a channel encoded as kwargs")
	}
}

func TestOmittedKwargs(t *testing.T) {
	for _, kw := range []any{nil, map[string]any{}, json.RawMessage("null"), json.RawMessage(" { } ")} {
		q, err := EncodeQuery(Call{Code: "x", Kwargs: kw})
		if err != nil || q != "code_b64=eA%3D%3D" {
			t.Errorf("%#v: %q %v", kw, q, err)
		}
	}
}

func TestPercentEncode(t *testing.T) {
	got := PercentEncode("aZ09-._~ +/=?&%ü")
	want := "aZ09-._~%20%2B%2F%3D%3F%26%25%C3%BC"
	if got != want {
		t.Errorf("got %s want %s", got, want)
	}
}
