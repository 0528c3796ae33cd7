package owtclient

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
)

// Code by digest against the fake server: the first call of a code sends it, later calls
// its SHA-256; the 404 "unknown code_sha256" brings one resend in full; a server that
// keeps nothing stops the digests; other errors are not resent.

const codeTwice = "def run(n):\n    return n * 2\n"

// mode is how the fake says the code arrived: mode(t)(c.Run(...)).
func mode(t *testing.T) func(any, error) string {
	return func(v any, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("not an object: %#v", v)
		}
		return m["mode"].(string)
	}
}

func TestFirstCallInFullThenByDigest(t *testing.T) {
	for _, method := range []string{"POST", "GET"} {
		t.Run(method, func(t *testing.T) {
			f := newFake(t)
			c := NewClient(f.URL+"/store", &Options{Method: method})
			v, err := c.Run(codeTwice, map[string]any{"n": 1})
			if got := v.(map[string]any); err != nil || got["mode"] != "full" ||
				!reflect.DeepEqual(got["fields"], []any{"code_b64", "kwargs_b64"}) {
				t.Fatalf("%#v %v", v, err)
			}
			v, err = c.Run(codeTwice, map[string]any{"n": 2})
			if got := v.(map[string]any); err != nil || got["mode"] != "digest" ||
				!reflect.DeepEqual(got["fields"], []any{"code_sha256", "kwargs_b64"}) {
				t.Fatalf("%#v %v", v, err)
			}
			if m := mode(t)(c.Run(codeTwice+"\n", nil)); m != "full" {
				t.Errorf("another code went %s", m)
			}
		})
	}
}

func TestUnknownCodeIsSentAgainOnce(t *testing.T) {
	f := newFake(t)
	c := NewClient(f.URL+"/store", nil)
	mode(t)(c.Run(codeTwice, nil))
	f.mu.Lock()
	f.codes = map[string]bool{} // the server forgot it
	f.mu.Unlock()
	if m := mode(t)(c.Run(codeTwice, nil)); m != "full" {
		t.Fatal(m)
	}
	if m := mode(t)(c.Run(codeTwice, nil)); m != "digest" {
		t.Fatal(m)
	}
	if want := []string{"full", "digest", "full", "digest"}; !reflect.DeepEqual(f.sent(), want) {
		t.Errorf("sent %v, want %v", f.sent(), want)
	}
}

func TestAServerThatKeepsNothingStopsTheDigests(t *testing.T) {
	f := newFake(t)
	c := NewClient(f.URL+"/nostore", nil)
	for i := 0; i < 5; i++ {
		if m := mode(t)(c.Run(codeTwice, nil)); m != "full" {
			t.Fatal(m)
		}
	}
	want := []string{"full", "digest", "full", "digest", "full", "full", "full"}
	if !reflect.DeepEqual(f.sent(), want) {
		t.Errorf("sent %v, want %v", f.sent(), want)
	}
}

func TestOtherErrorsAreNotResent(t *testing.T) {
	for _, route := range []string{"/404-empty", "/500"} {
		f := newFake(t)
		codes := NewCodeMemory()
		codes.Sent(CodeSHA256("1"))
		_, err := NewClient(f.URL+route, &Options{Codes: codes}).Run("1", nil)
		var owtErr *OwtError
		if !errors.As(err, &owtErr) || IsUnknownCode(owtErr.Status, owtErr.Body) {
			t.Fatalf("%s: %v", route, err)
		}
		if !codes.Has(CodeSHA256("1")) {
			t.Errorf("%s: the memory changed on another error", route)
		}
	}
}

func TestNoDigestAndSharedMemory(t *testing.T) {
	f := newFake(t)
	c := NewClient(f.URL+"/store", &Options{NoDigest: true})
	for i := 0; i < 3; i++ {
		if m := mode(t)(c.Run(codeTwice, nil)); m != "full" {
			t.Fatal(m)
		}
	}
	codes := NewCodeMemory()
	mode(t)(NewClient(f.URL+"/store", &Options{Codes: codes}).Run(codeTwice, nil))
	if m := mode(t)(NewClient(f.URL+"/store?x=1", &Options{Codes: codes, Method: "GET"}).Run(codeTwice, nil)); m != "digest" {
		t.Error(m)
	}
}

func TestStreamsGoByDigest(t *testing.T) {
	f := newFake(t)
	c := NewClient(f.URL+"/store/stream", nil)
	var got []string
	for i := 0; i < 2; i++ {
		st, err := c.Stream(codeTwice, nil)
		if err != nil {
			t.Fatal(err)
		}
		for st.Next() {
			got = append(got, st.Data())
		}
		if st.Err() != nil {
			t.Fatal(st.Err())
		}
	}
	if !reflect.DeepEqual(got, []string{"full", "digest"}) {
		t.Errorf("%v", got)
	}
}

func TestConcurrentCallsShareOneClient(t *testing.T) {
	f := newFake(t)
	c := NewClient(f.URL+"/store", nil)
	mode(t)(c.Run(codeTwice, nil))
	var wg sync.WaitGroup
	modes := make([]string, 8)
	for i := range modes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := c.Call(context.Background(), Call{Code: codeTwice})
			if err == nil {
				modes[i], _ = v.(map[string]any)["mode"].(string)
			}
		}(i)
	}
	wg.Wait()
	for _, m := range modes {
		if m != "digest" {
			t.Fatalf("%v", modes)
		}
	}
}

func TestIsUnknownCode(t *testing.T) {
	body := []byte(`{"error": "unknown code_sha256", "code_sha256": "00"}`)
	if !IsUnknownCode(404, body) || IsUnknownCode(400, body) || IsUnknownCode(404, []byte("no such adaptor")) ||
		IsUnknownCode(404, []byte(`{"error": "other"}`)) || IsUnknownCode(404, []byte("{not json")) {
		t.Error("IsUnknownCode")
	}
	if CodeSHA256("abc") != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Error("CodeSHA256")
	}
}
