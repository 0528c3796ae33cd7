package owtclient

// Live tests against a running owt server (PROTOCOL.md). OWT_URL names a server
// without auth; OWT_AUTH_URL, OWT_AUTH_USER and OWT_AUTH_PASSWORD a server with auth.
// Without them these tests skip, unless CI is set: then they fail.

import (
	"context"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	liveHello    = "def run(name):\n    return f\"Hello, {name}!\"\n"
	liveNonASCII = "Gr\u00fc\u00dfe, \u4e16\u754c \U0001f30d \u2014 \"quoted\" \\ <&>"
	liveTicks    = `import time

def run(n=3, pause=0.4):
    def ticks():
        for i in range(n):
            yield "data: %d\n\n" % i
            time.sleep(pause)
        yield "data: [DONE]\n\n"
    return ticks(), {"Content-Type": "text/event-stream"}
`
	liveFailingStream = `def run():
    def events():
        yield "data: first\n\n"
        raise RuntimeError("late failure")
    return events(), {"Content-Type": "text/event-stream"}
`
	liveTimeout = 30 * time.Second
)

func liveEnv(t *testing.T, names ...string) []string {
	t.Helper()
	var values, missing []string
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			missing = append(missing, n)
		}
		values = append(values, v)
	}
	if len(missing) > 0 {
		msg := "live tests need " + strings.Join(missing, ", ")
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (required when CI is set)")
		}
		t.Skip(msg)
	}
	return values
}

func liveHTTP() *http.Client { return &http.Client{Timeout: liveTimeout} }

// live runs body once over POST and once over GET against OWT_URL.
func live(t *testing.T, body func(t *testing.T, owt *Client, url string)) {
	for _, method := range []string{"POST", "GET"} {
		method := method
		t.Run(method, func(t *testing.T) {
			url := liveEnv(t, "OWT_URL")[0]
			body(t, NewClient(url, &Options{Method: method, HTTPClient: liveHTTP()}), url)
		})
	}
}

func TestLiveHello(t *testing.T) {
	live(t, func(t *testing.T, owt *Client, _ string) {
		v, err := owt.Run(liveHello, map[string]any{"name": "owt"})
		if err != nil || v != "Hello, owt!" {
			t.Fatalf("%#v %v", v, err)
		}
	})
}

func TestLiveSeedSnippet(t *testing.T) {
	live(t, func(t *testing.T, owt *Client, _ string) {
		v, err := owt.Run("f(sota.hard_task)", "solve AGI")
		if err != nil || v != "AGI solved!" {
			t.Fatalf("%#v %v", v, err)
		}
		v, err = owt.Adaptor("sota.hard_task", "solve AGI")
		if err != nil || v != "AGI solved!" {
			t.Fatalf("adaptor: %#v %v", v, err)
		}
	})
}

func TestLiveHelloOnAPath(t *testing.T) {
	live(t, func(t *testing.T, owt *Client, _ string) {
		v, err := owt.Call(context.Background(), Call{Code: "def run():\n    return request.path\n", Path: "hello"})
		if err != nil || v != "/hello" {
			t.Fatalf("%#v %v", v, err)
		}
	})
}

func TestLiveNonASCIIKwargs(t *testing.T) {
	live(t, func(t *testing.T, owt *Client, _ string) {
		v, err := owt.Run(liveHello, map[string]any{"name": liveNonASCII})
		if err != nil || v != "Hello, "+liveNonASCII+"!" {
			t.Fatalf("%#v %v", v, err)
		}
		kwargs := map[string]any{
			"text":   liveNonASCII,
			"nested": map[string]any{"\u043a\u043b\u044e\u0447": []any{liveNonASCII, 1.0, nil}},
		}
		v, err = owt.Run("def run(**kw):\n    return kw\n", kwargs)
		if err != nil || !reflect.DeepEqual(v, kwargs) {
			t.Fatalf("%#v %v", v, err)
		}
	})
}

func TestLiveBinaryResult(t *testing.T) {
	live(t, func(t *testing.T, owt *Client, _ string) {
		v, err := owt.Run("def run(times):\n    return bytes(range(256)) * times\n", map[string]any{"times": 4})
		if err != nil {
			t.Fatal(err)
		}
		b, ok := v.([]byte)
		if !ok || len(b) != 1024 {
			t.Fatalf("%T %d", v, len(b))
		}
		for i, c := range b {
			if c != byte(i%256) {
				t.Fatalf("byte %d is %d", i, c)
			}
		}
	})
}

func TestLiveSSEReadEventByEvent(t *testing.T) {
	live(t, func(t *testing.T, owt *Client, _ string) {
		st, err := owt.Stream(liveTicks, map[string]any{"n": 3, "pause": 0.4})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if !st.IsEventStream {
			t.Errorf("Content-Type %q", st.Header.Get("Content-Type"))
		}
		var data []string
		var at []time.Time
		for st.Next() {
			data = append(data, st.Data())
			at = append(at, time.Now())
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(data, []string{"0", "1", "2", "[DONE]"}) {
			t.Fatalf("%#v", data)
		}
		if spread := at[3].Sub(at[0]); spread < 600*time.Millisecond {
			t.Errorf("events arrived together (%v apart): the response was buffered", spread)
		}
	})
}

func TestLiveSSEErrorEvent(t *testing.T) {
	live(t, func(t *testing.T, owt *Client, _ string) {
		st, err := owt.Stream(liveFailingStream, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for st.Next() {
			got = append(got, st.Data())
		}
		if !reflect.DeepEqual(got, []string{"first"}) {
			t.Errorf("%#v", got)
		}
		var e *OwtError
		if !errors.As(st.Err(), &e) || !strings.Contains(e.Message, "late failure") {
			t.Fatalf("%#v", st.Err())
		}
	})
}

func TestLive500CarriesTheServerMessage(t *testing.T) {
	live(t, func(t *testing.T, owt *Client, _ string) {
		_, err := owt.Run("def run(word):\n    raise ValueError(\"boom \" + word)\n", map[string]any{"word": "\u00fc"})
		var e *OwtError
		if !errors.As(err, &e) || e.Status != 500 {
			t.Fatalf("%#v", err)
		}
		if !strings.HasPrefix(e.Message, "Error executing code: ValueError: boom \u00fc") {
			t.Errorf("%q", e.Message)
		}
	})
}

func TestLiveUnknownAdaptorIs404(t *testing.T) {
	live(t, func(t *testing.T, owt *Client, _ string) {
		_, err := owt.Adaptor("no_such_adaptor_owt_client_test", nil)
		var e *OwtError
		if !errors.As(err, &e) || e.Status != 404 {
			t.Fatalf("%#v", err)
		}
	})
}

func TestLiveVectors(t *testing.T) {
	cases := map[string]vector{}
	for _, v := range loadVectors(t) {
		cases[v.Name] = v
	}
	expect := map[string]any{
		"code-only":                     "Hello, owt!",
		"hello-kwargs":                  "Hello, owt!",
		"kwargs-non-ascii":              "Hello, Gr\u00fc\u00dfe, \u4e16\u754c \U0001f30d (de)!",
		"kwargs-json-escapes":           cases["kwargs-json-escapes"].Kwargs.(map[string]any)["s"],
		"code-non-ascii":                "na\u00efve",
		"code-crlf-no-trailing-newline": "1",
		"code-base64-plus-slash":        "?>~~~>>>???",
		"code-long-not-wrapped":         "NO LINE BREAKS IN BASE64",
		"fn-name":                       "Hi owt",
		"fn-name-run-explicit":          "Hello, owt!",
		"cache-flags-false-omitted":     "Hello, owt!",
		"kwargs-bare-string":            "AGI solved!",
		"adaptor-function-bare-kwargs":  "AGI solved!",
		"adaptor-module":                "AGI solved!",
	}
	live(t, func(t *testing.T, owt *Client, _ string) {
		for name, want := range expect {
			v, err := owt.Call(context.Background(), cases[name].call())
			if err != nil || !reflect.DeepEqual(v, want) {
				t.Errorf("%s: %#v %v", name, v, err)
			}
		}
	})
}

func TestLive401WithoutAuth(t *testing.T) {
	env := liveEnv(t, "OWT_AUTH_URL", "OWT_AUTH_USER", "OWT_AUTH_PASSWORD")
	url, user, password := env[0], env[1], env[2]
	hello := map[string]any{"name": "owt"}
	_, err := NewClient(url, &Options{HTTPClient: liveHTTP()}).Run(liveHello, hello)
	var e *OwtError
	if !errors.As(err, &e) || e.Status != 401 || !strings.HasPrefix(e.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("%#v", err)
	}
	_, err = NewClient(url, &Options{User: user, Password: password + "-wrong", HTTPClient: liveHTTP()}).Run(liveHello, hello)
	if !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("%#v", err)
	}
	for _, method := range []string{"POST", "GET"} {
		v, err := NewClient(url, &Options{User: user, Password: password, Method: method, HTTPClient: liveHTTP()}).Run(liveHello, hello)
		if err != nil || v != "Hello, owt!" {
			t.Fatalf("%s: %#v %v", method, v, err)
		}
	}
	st, err := NewClient(url, &Options{User: user, Password: password, HTTPClient: liveHTTP()}).Stream(liveTicks, map[string]any{"n": 1, "pause": 0})
	if err != nil {
		t.Fatal(err)
	}
	var data []string
	for st.Next() {
		data = append(data, st.Data())
	}
	if st.Err() != nil || !reflect.DeepEqual(data, []string{"0", "[DONE]"}) {
		t.Fatalf("%#v %v", data, st.Err())
	}
}
