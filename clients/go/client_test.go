package owtclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	fakeUser     = "ada"
	fakePassword = "s3cr\u00eat"
	gateTimeout  = 5 * time.Second
)

// fake answers like owt would, by path, and echoes what it saw on /echo.
type fake struct {
	*httptest.Server
	gate     chan struct{}
	gateOnce sync.Once
	mu       sync.Mutex
	timedOut bool
	codes    map[string]bool // code_sha256 of code sent to /store
	modes    []string        // how each request to /store or /nostore carried the code
}

type seen struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func newFake(t *testing.T) *fake {
	f := &fake{gate: make(chan struct{}), codes: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(func() {
		f.open()
		f.Server.Close()
	})
	return f
}

func (f *fake) open() { f.gateOnce.Do(func() { close(f.gate) }) }

func (f *fake) gateTimedOut() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.timedOut
}

func (f *fake) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := r.URL.Path
	if strings.HasPrefix(path, "/auth") {
		user, password, ok := r.BasicAuth()
		if !ok || user != fakeUser || password != fakePassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="owt"`)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(401)
			io.WriteString(w, "Unauthorized\n")
			return
		}
		path = strings.TrimPrefix(path, "/auth")
	}
	send := func(status int, ctype string, b []byte) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		w.Write(b)
	}
	stream := func(ctype string, pieces ...string) {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(200)
		flusher := w.(http.Flusher)
		flusher.Flush()
		for _, p := range pieces {
			if p == "GATE" {
				select {
				case <-f.gate:
				case <-time.After(gateTimeout):
					f.mu.Lock()
					f.timedOut = true
					f.mu.Unlock()
				}
				continue
			}
			io.WriteString(w, p)
			flusher.Flush()
		}
	}
	if strings.HasPrefix(path, "/store") || strings.HasPrefix(path, "/nostore") {
		f.codeStore(w, r, path, body, stream)
		return
	}
	switch path {
	case "/echo", "/":
		headers := map[string]string{}
		for k := range r.Header {
			headers[strings.ToLower(k)] = r.Header.Get(k)
		}
		out, _ := json.Marshal(seen{r.Method, r.URL.Path, r.URL.RawQuery, headers, string(body)})
		send(200, "application/json", out)
	case "/text":
		send(200, "text/plain; charset=utf-8", []byte("h\u00e9llo \U0001f30d"))
	case "/latin1":
		send(200, "text/plain; charset=ISO-8859-1", []byte("caf\xe9"))
	case "/html":
		send(200, "text/html; charset=utf-8", []byte("<p>hi</p>"))
	case "/json":
		send(200, "application/json", []byte(`{"a":[1,2],"\u00fc":null}`))
	case "/bytes":
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		send(200, "application/octet-stream", b)
	case "/empty":
		w.Header()["Content-Type"] = nil
		send(200, "", nil)
	case "/500":
		send(500, "text/plain; charset=utf-8", []byte("Error executing code: ValueError: boom \xc3\xbc\n"))
	case "/404-empty":
		w.Header()["Content-Type"] = nil
		send(404, "", nil)
	case "/sse":
		stream("text/event-stream", ": comment\n\ndata: one\n\n", "GATE",
			"event: tick\r\nid: 7\r\ndata: two\r\ndata: lines\r\n\r\n",
			"data: \xc3", "\xbc\n\n", "data: [DONE]\n\n")
	case "/sse-error":
		stream("text/event-stream", "data: before\n\n",
			"event: error\ndata: Error executing code: RuntimeError: late\n\n", "data: after\n\n")
	case "/chunks":
		stream("application/octet-stream", "\x00\x01", "GATE", "\x02", "\xff\xff\xff")
	default:
		send(404, "text/plain", []byte("no such fake route: "+path))
	}
}

func echo(t *testing.T) func(any, error) seen {
	return func(v any, err error) seen {
		t.Helper()
		return decodeSeen(t, v, err)
	}
}

func decodeSeen(t *testing.T, v any, err error) seen {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not a JSON object: %#v", v)
	}
	raw, _ := json.Marshal(m)
	var s seen
	json.Unmarshal(raw, &s)
	return s
}

func vectorNamed(t *testing.T, name string) vector {
	for _, v := range loadVectors(t) {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no vector %q", name)
	return vector{}
}

func jsonEqual(t *testing.T, got string, want json.RawMessage) bool {
	var g, w any
	decodeJSON(t, []byte(got), &g)
	decodeJSON(t, want, &w)
	return reflect.DeepEqual(g, w)
}

func TestPostSendsTheVectorBody(t *testing.T) {
	f := newFake(t)
	hello := vectorNamed(t, "hello-kwargs")
	s := echo(t)(NewClient(f.URL+"/echo", nil).Run(hello.Code, hello.Kwargs))
	if s.Method != "POST" || s.Headers["content-type"] != "application/json" || s.Query != "" {
		t.Errorf("%+v", s)
	}
	if !jsonEqual(t, s.Body, hello.JSON) {
		t.Errorf("body %s", s.Body)
	}
	if s.Headers["user-agent"] != UserAgent {
		t.Errorf("user agent %q", s.Headers["user-agent"])
	}
}

func TestGetSendsTheVectorQuery(t *testing.T) {
	f := newFake(t)
	hello := vectorNamed(t, "hello-kwargs")
	s := echo(t)(NewClient(f.URL+"/echo", &Options{Method: "GET"}).Run(hello.Code, hello.Kwargs))
	if s.Method != "GET" || s.Query != hello.Query || s.Body != "" {
		t.Errorf("%+v", s)
	}
}

func TestEveryVectorOverTheWire(t *testing.T) {
	f := newFake(t)
	client := NewClient(f.URL+"/echo", &Options{NoDigest: true}) // each call sends the code itself
	ctx := context.Background()
	for _, v := range loadVectors(t) {
		call := v.call()
		call.Method = "GET"
		s := echo(t)(client.Call(ctx, call))
		if s.Query != v.Query {
			t.Errorf("%s: query %s", v.Name, s.Query)
		}
		s = echo(t)(client.Call(ctx, v.call()))
		if !jsonEqual(t, s.Body, v.JSON) {
			t.Errorf("%s: body %s", v.Name, s.Body)
		}
	}
}

func TestGetURLAndPaths(t *testing.T) {
	f := newFake(t)
	client := NewClient(f.URL+"/?x=1", nil)
	if u, _ := client.GetURL(Call{Code: "1"}); u != f.URL+"/?x=1&code_b64=MQ%3D%3D" {
		t.Errorf("url %s", u)
	}
	if u, _ := client.GetURL(Call{Code: "1", Path: "/echo"}); u != f.URL+"/echo?x=1&code_b64=MQ%3D%3D" {
		t.Errorf("url %s", u)
	}
	s := echo(t)(client.Call(context.Background(), Call{Code: "1", Path: "echo", Method: "get"}))
	if s.Path != "/echo" || s.Query != "x=1&code_b64=MQ%3D%3D" {
		t.Errorf("%+v", s)
	}
}

func TestAdaptorBareKwargsAndOptions(t *testing.T) {
	f := newFake(t)
	client := NewClient(f.URL+"/echo", nil)
	s := echo(t)(client.Adaptor("sota.hard_task", "solve AGI"))
	if !jsonEqual(t, s.Body, json.RawMessage(`{"kwargs_b64":"InNvbHZlIEFHSSI=","adaptor":"sota.hard_task"}`)) {
		t.Errorf("body %s", s.Body)
	}
	s = echo(t)(client.Call(context.Background(), Call{Adaptor: "sota.hard_task", Kwargs: "solve AGI", UseCache: true, FnName: "f"}))
	if !jsonEqual(t, s.Body, json.RawMessage(`{"kwargs_b64":"InNvbHZlIEFHSSI=","fn_name":"f","adaptor":"sota.hard_task","use_cache":true}`)) {
		t.Errorf("body %s", s.Body)
	}
}

func TestResultsByContentType(t *testing.T) {
	f := newFake(t)
	client := NewClient(f.URL, nil)
	run := func(path string) any {
		v, err := client.Call(context.Background(), Call{Code: "x", Path: path})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return v
	}
	if v := run("text"); v != "h\u00e9llo \U0001f30d" {
		t.Errorf("text %#v", v)
	}
	if v := run("latin1"); v != "caf\u00e9" {
		t.Errorf("latin1 %#v", v)
	}
	if v := run("html"); v != "<p>hi</p>" {
		t.Errorf("html %#v", v)
	}
	if v := run("json"); !reflect.DeepEqual(v, map[string]any{"a": []any{1.0, 2.0}, "\u00fc": nil}) {
		t.Errorf("json %#v", v)
	}
	want := make([]byte, 256)
	for i := range want {
		want[i] = byte(i)
	}
	if v, ok := run("bytes").([]byte); !ok || !bytes.Equal(v, want) {
		t.Errorf("bytes %#v", v)
	}
	if v := run("empty"); v != nil {
		t.Errorf("empty %#v", v)
	}
}

func TestA500CarriesTheServerMessage(t *testing.T) {
	f := newFake(t)
	_, err := NewClient(f.URL+"/500", nil).Run("x", nil)
	var e *OwtError
	if !errors.As(err, &e) || e.Status != 500 || e.Message != "Error executing code: ValueError: boom \u00fc" {
		t.Fatalf("%#v", err)
	}
	if err.Error() != "owt: HTTP 500: Error executing code: ValueError: boom \u00fc" {
		t.Errorf("%s", err)
	}
}

func TestAnErrorWithoutABodyUsesTheStatusText(t *testing.T) {
	f := newFake(t)
	_, err := NewClient(f.URL+"/404-empty", nil).Run("x", nil)
	var e *OwtError
	if !errors.As(err, &e) || e.Status != 404 || e.Message != "Not Found" {
		t.Fatalf("%#v", err)
	}
}

func TestAuth(t *testing.T) {
	f := newFake(t)
	_, err := NewClient(f.URL+"/auth/text", nil).Run("x", nil)
	var e *OwtError
	if !errors.As(err, &e) || e.Status != 401 || e.Header.Get("WWW-Authenticate") != `Basic realm="owt"` {
		t.Fatalf("%#v", err)
	}
	v, err := NewClient(f.URL+"/auth/text", &Options{User: fakeUser, Password: fakePassword}).Run("x", nil)
	if err != nil || v != "h\u00e9llo \U0001f30d" {
		t.Errorf("%#v %v", v, err)
	}
	_, err = NewClient(f.URL+"/auth/text", &Options{User: fakeUser, Password: "wrong"}).Run("x", nil)
	if !errors.As(err, &e) || e.Status != 401 {
		t.Errorf("%#v", err)
	}
}

func TestAnUnreachableServer(t *testing.T) {
	_, err := NewClient("http://127.0.0.1:9/", nil).Run("x", nil)
	var e *OwtError
	if !errors.As(err, &e) || e.Status != 0 || !strings.Contains(e.Message, "cannot reach") || e.Err == nil {
		t.Fatalf("%#v", err)
	}
}

func TestSSEIsReadEventByEvent(t *testing.T) {
	f := newFake(t)
	st, err := NewClient(f.URL+"/sse", nil).Stream("x", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !st.IsEventStream || !st.Next() || st.Data() != "one" {
		t.Fatalf("first event: %#v %v", st.Event(), st.Err())
	}
	f.open()
	var events []Event
	for st.Next() {
		events = append(events, st.Event())
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Type: "tick", Data: "two\nlines", ID: "7", HasID: true},
		{Type: "message", Data: "\u00fc", ID: "7", HasID: true},
		{Type: "message", Data: "[DONE]", ID: "7", HasID: true},
	}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("%#v", events)
	}
	if f.gateTimedOut() {
		t.Error("the client waited for the whole body")
	}
	if st.Next() {
		t.Error("Next after the end")
	}
}

func TestAnErrorEventEndsTheStreamWithAnError(t *testing.T) {
	f := newFake(t)
	st, err := NewClient(f.URL+"/sse-error", nil).Stream("x", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for st.Next() {
		got = append(got, st.Data())
	}
	if !reflect.DeepEqual(got, []string{"before"}) {
		t.Errorf("%#v", got)
	}
	var e *OwtError
	if !errors.As(st.Err(), &e) || e.Status != 200 || e.Message != "Error executing code: RuntimeError: late" {
		t.Fatalf("%#v", st.Err())
	}
}

func TestRawChunksArriveIncrementally(t *testing.T) {
	f := newFake(t)
	st, err := NewClient(f.URL+"/chunks", nil).Stream("x", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.IsEventStream || !st.Next() || !bytes.Equal(st.Bytes(), []byte{0, 1}) {
		t.Fatalf("first chunk %v %v", st.Bytes(), st.Err())
	}
	f.open()
	var rest []byte
	for st.Next() {
		rest = append(rest, st.Bytes()...)
	}
	if st.Err() != nil || !bytes.Equal(rest, []byte{2, 255, 255, 255}) {
		t.Errorf("%v %v", rest, st.Err())
	}
	if f.gateTimedOut() {
		t.Error("the client waited for the whole body")
	}
}

func TestClosingAStreamEarly(t *testing.T) {
	f := newFake(t)
	st, err := NewClient(f.URL+"/sse", nil).Stream("x", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Next() || st.Data() != "one" {
		t.Fatal("no first event")
	}
	if err := st.Close(); err != nil {
		t.Error(err)
	}
	if st.Next() {
		t.Error("Next after Close")
	}
}

func TestStreamErrorsComeBeforeAnyItem(t *testing.T) {
	f := newFake(t)
	_, err := NewClient(f.URL+"/500", nil).Stream("x", nil)
	var e *OwtError
	if !errors.As(err, &e) || e.Status != 500 {
		t.Fatalf("%#v", err)
	}
}

func TestContextCancels(t *testing.T) {
	f := newFake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := NewClient(f.URL+"/sse", nil).Call(ctx, Call{Code: "x"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%#v", err)
	}
}

// codeStore answers like an owt server with a code store: code sent is kept by its
// SHA-256, a known code_sha256 runs, an unknown one is the 404 with the JSON body.
// Under /nostore nothing is kept. The answer says how the code arrived.
func (f *fake) codeStore(w http.ResponseWriter, r *http.Request, path string, body []byte,
	stream func(string, ...string)) {
	fields := map[string]any{}
	if len(body) > 0 {
		json.Unmarshal(body, &fields)
	} else {
		for k, v := range r.URL.Query() {
			fields[k] = v[0]
		}
	}
	f.mu.Lock()
	mode := ""
	if b64, ok := fields["code_b64"].(string); ok {
		code, _ := base64.StdEncoding.DecodeString(b64)
		if strings.HasPrefix(path, "/store") {
			f.codes[CodeSHA256(string(code))] = true
		}
		mode = "full"
	} else if digest, _ := fields["code_sha256"].(string); f.codes[digest] {
		mode = "digest"
	}
	if mode == "" {
		f.modes = append(f.modes, "digest") // an unknown digest
	} else {
		f.modes = append(f.modes, mode)
	}
	f.mu.Unlock()
	if mode == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		out, _ := json.Marshal(map[string]any{"error": UnknownCode, "code_sha256": fields["code_sha256"]})
		w.Write(out)
		return
	}
	if strings.HasSuffix(path, "/stream") {
		stream("text/event-stream", "data: "+mode+"\n\n")
		return
	}
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	out, _ := json.Marshal(map[string]any{"mode": mode, "fields": names})
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

func (f *fake) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.modes...)
}
