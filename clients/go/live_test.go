package owtclient

// Live tests against a running owt server (PROTOCOL.md). OWT_URL names a server
// without auth; OWT_AUTH_URL, OWT_AUTH_USER and OWT_AUTH_PASSWORD a server with auth.
// Without them these tests skip, unless CI is set: then they fail.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
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

// ---- code by digest and signed code (OWT_URL's server keeps a small --code-store) --------

// recorder is an http.RoundTripper that records how each request carried the code.
type recorder struct {
	mu    sync.Mutex
	modes []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	fields := map[string]any{}
	if req.Body != nil {
		body, _ := io.ReadAll(req.Body)
		req.Body.Close()
		json.Unmarshal(body, &fields)
		req.Body = io.NopCloser(bytes.NewReader(body))
	} else {
		for k, v := range req.URL.Query() {
			fields[k] = v[0]
		}
	}
	m := ""
	if _, ok := fields["code_b64"]; ok {
		m = "full"
	} else if _, ok := fields["code_sha256"]; ok {
		m = "digest"
	}
	r.mu.Lock()
	r.modes = append(r.modes, m)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.modes...)
}

func uniqueCode(tag string) string {
	return fmt.Sprintf("def run(x=1):\n    return \"%s %%d\" %% x  # %d\n", tag, time.Now().UnixNano())
}

// serverHas asks the server itself whether a bare code_sha256 for code runs.
func serverHas(t *testing.T, url, code string) bool {
	t.Helper()
	resp, err := liveHTTP().Post(url, "application/json",
		strings.NewReader(`{"code_sha256": "`+CodeSHA256(code)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 404 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode == 200
}

func TestLiveByDigestAfterTheFirstCall(t *testing.T) {
	for _, method := range []string{"POST", "GET"} {
		t.Run(method, func(t *testing.T) {
			url := liveEnv(t, "OWT_URL")[0]
			rec := &recorder{}
			owt := NewClient(url, &Options{Method: method, HTTPClient: &http.Client{Transport: rec, Timeout: liveTimeout}})
			code := uniqueCode("digest")
			for x := 1; x <= 2; x++ {
				if v, err := owt.Run(code, map[string]any{"x": x}); err != nil || v != fmt.Sprintf("digest %d", x) {
					t.Fatalf("%#v %v", v, err)
				}
			}
			st, err := owt.Stream(code, map[string]any{"x": 3})
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			for st.Next() {
				got = append(got, st.Bytes()...)
			}
			if st.Err() != nil || string(got) != "digest 3" {
				t.Fatalf("%q %v", got, st.Err())
			}
			if want := []string{"full", "digest", "digest"}; !reflect.DeepEqual(rec.sent(), want) {
				t.Errorf("sent %v, want %v", rec.sent(), want)
			}
			if !serverHas(t, url, code) {
				t.Error("the server does not have the code")
			}
		})
	}
}

func TestLiveEvictedCodeIsSentAgain(t *testing.T) {
	url := liveEnv(t, "OWT_URL")[0]
	rec := &recorder{}
	owt := NewClient(url, &Options{HTTPClient: &http.Client{Transport: rec, Timeout: liveTimeout}})
	code := uniqueCode("evicted")
	if v, err := owt.Run(code, nil); err != nil || v != "evicted 1" {
		t.Fatalf("%#v %v", v, err)
	}
	filler := NewClient(url, &Options{NoDigest: true, HTTPClient: liveHTTP()})
	for i := 0; i < 12 && serverHas(t, url, code); i++ {
		if v, err := filler.Run(uniqueCode("filler")+strings.Repeat("#", 30000)+"\n", nil); err != nil || v != "filler 1" {
			t.Fatalf("%#v %v", v, err)
		}
	}
	if serverHas(t, url, code) {
		t.Fatal("the server kept the code: is its --code-store-max-bytes small?")
	}
	if v, err := owt.Run(code, map[string]any{"x": 2}); err != nil || v != "evicted 2" {
		t.Fatalf("%#v %v", v, err)
	}
	if v, err := owt.Run(code, map[string]any{"x": 3}); err != nil || v != "evicted 3" {
		t.Fatalf("%#v %v", v, err)
	}
	if want := []string{"full", "digest", "full", "digest"}; !reflect.DeepEqual(rec.sent(), want) {
		t.Errorf("sent %v, want %v", rec.sent(), want)
	}
}

func TestLiveSignedCode(t *testing.T) {
	for _, method := range []string{"POST", "GET"} {
		t.Run(method, func(t *testing.T) {
			env := liveEnv(t, "OWT_SIGNED_URL", "OWT_SIGN_KEY")
			url, key := env[0], env[1]
			signer, err := Ed25519SignerFile(key)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			owt := NewClient(url, &Options{Method: method, Signer: signer,
				HTTPClient: &http.Client{Transport: rec, Timeout: liveTimeout}})
			code := uniqueCode("signed")
			for x := 1; x <= 2; x++ {
				if v, err := owt.Run(code, map[string]any{"x": x}); err != nil || v != fmt.Sprintf("signed %d", x) {
					t.Fatalf("%#v %v", v, err)
				}
			}
			if want := []string{"full", "digest"}; !reflect.DeepEqual(rec.sent(), want) {
				t.Errorf("sent %v, want %v", rec.sent(), want)
			}
			_, err = NewClient(url, &Options{Method: method, HTTPClient: liveHTTP()}).Run(uniqueCode("unsigned"), nil)
			var owtErr *OwtError
			if !errors.As(err, &owtErr) || owtErr.Status != 403 || !strings.Contains(owtErr.Message, "--require-signed") {
				t.Errorf("unsigned code: %v", err)
			}
		})
	}
}
