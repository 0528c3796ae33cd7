// Package owtclient calls an owt server: it ships Python code and kwargs in one HTTP
// request and turns the response back into a Go value. Standard library only.
//
//	owt := owtclient.NewClient("http://localhost:9876/owt", nil)
//	answer, err := owt.Run("f(sota.hard_task)", "solve AGI") // "AGI solved!"
package owtclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// UserAgent is sent with every request unless Options.Header sets another.
const UserAgent = "owt-client-go/0.1"

// Options configure a Client; a nil *Options means the defaults.
type Options struct {
	// User and Password, when User is not empty, are sent as Basic auth.
	User, Password string
	// Method is the default for every call: "POST" (a JSON body, the default) or
	// "GET" (a query string).
	Method string
	// Header holds extra headers for every request.
	Header http.Header
	// HTTPClient sends the requests (default: a client without a timeout, so that
	// streams can last; bound calls with a context instead).
	HTTPClient *http.Client
	// NoDigest makes every call send its code in full. By default a code goes in full on
	// its first call and by its SHA-256 (code_sha256) afterwards; when the server answers
	// that it does not have it (404 "unknown code_sha256"), the call is sent again in
	// full, once.
	NoDigest bool
	// Codes is what the client knows the server has (default: its own); share one
	// between the clients of one server.
	Codes *CodeMemory
	// Signer signs every code sent (code_sig), for servers run with --require-signed.
	Signer Signer
}

// Client calls one owt endpoint URL; its path is what the adaptor sees as request.path.
type Client struct {
	URL   string
	opts  Options
	http  *http.Client
	codes *CodeMemory
}

// NewClient returns a client for url.
func NewClient(url string, opts *Options) *Client {
	c := &Client{URL: url, http: http.DefaultClient}
	if opts != nil {
		c.opts = *opts
		if opts.HTTPClient != nil {
			c.http = opts.HTTPClient
		}
	}
	c.codes = c.opts.Codes
	if c.codes == nil {
		c.codes = NewCodeMemory()
	}
	return c
}

// Codes is what the client knows the server has.
func (c *Client) Codes() *CodeMemory { return c.codes }

// OwtError is a call that did not succeed. Status is the HTTP status (0 when no
// response arrived; the stream's own status, usually 200, for an "event: error"
// frame) and Message the server's text, e.g.
// "Error executing code: ValueError: boom".
type OwtError struct {
	Status  int
	Message string
	Body    []byte
	Header  http.Header
	// Err is the transport error when no response arrived.
	Err error
}

func (e *OwtError) Error() string {
	if e.Status == 0 {
		return "owt: " + e.Message
	}
	return fmt.Sprintf("owt: HTTP %d: %s", e.Status, e.Message)
}

func (e *OwtError) Unwrap() error { return e.Err }

// Run runs code with kwargs (any JSON value, nil for none). The result is a string
// for text/*, the decoded JSON (map[string]any, []any, string, float64, bool or
// nil) for application/json, []byte for anything else, nil for an empty body
// without a Content-Type. Failures are *OwtError.
func (c *Client) Run(code string, kwargs any) (any, error) {
	return c.Call(context.Background(), Call{Code: code, Kwargs: kwargs})
}

// Adaptor calls a named adaptor on the server ("module" or "module.function").
func (c *Client) Adaptor(name string, kwargs any) (any, error) {
	return c.Call(context.Background(), Call{Adaptor: name, Kwargs: kwargs})
}

// Stream runs code with kwargs and returns its response to read as it arrives.
func (c *Client) Stream(code string, kwargs any) (*Stream, error) {
	return c.CallStream(context.Background(), Call{Code: code, Kwargs: kwargs})
}

// Call makes one call with every input; its result is as Run's.
func (c *Client) Call(ctx context.Context, call Call) (any, error) {
	resp, err := c.Open(ctx, call)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &OwtError{Message: "reading the response: " + err.Error(), Err: err}
	}
	return DecodeBody(resp.Header, body)
}

// CallStream makes one call and returns the open response as a Stream.
func (c *Client) CallStream(ctx context.Context, call Call) (*Stream, error) {
	resp, err := c.Open(ctx, call)
	if err != nil {
		return nil, err
	}
	return newStream(resp), nil
}

// GetURL is the GET URL of a call, for a browser, an EventSource or curl.
func (c *Client) GetURL(call Call) (string, error) {
	q, err := EncodeQuery(call)
	if err != nil {
		return "", err
	}
	return withQuery(c.urlFor(call.Path), q), nil
}

// Request builds the HTTP request of a call.
func (c *Client) Request(ctx context.Context, call Call) (*http.Request, error) {
	fields, err := EncodeFields(call)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(call.Method)
	if method == "" {
		method = strings.ToUpper(c.opts.Method)
	}
	if method == "" {
		method = http.MethodPost
	}
	url := c.urlFor(call.Path)
	var body io.Reader
	if method == http.MethodGet {
		url = withQuery(url, QueryFromFields(fields))
	} else {
		body = bytes.NewReader(BodyFromFields(fields))
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, &OwtError{Message: err.Error(), Err: err}
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "*/*")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range c.opts.Header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.opts.User != "" {
		req.SetBasicAuth(c.opts.User, c.opts.Password)
	}
	return req, nil
}

// Open sends a call and returns the response once its headers are in. A status
// other than 2xx is an *OwtError carrying the server's message. The code goes by digest
// when the server has it (see Options.NoDigest), signed when the client has a Signer.
func (c *Client) Open(ctx context.Context, call Call) (*http.Response, error) {
	if call.Code == "" {
		return c.send(ctx, call)
	}
	if c.opts.Signer != nil && call.CodeSig == "" {
		sig, err := c.opts.Signer([]byte(call.Code))
		if err != nil {
			return nil, &OwtError{Message: "signing the code: " + err.Error(), Err: err}
		}
		call.CodeSig = sig
	}
	if c.opts.NoDigest || call.ByDigest {
		return c.send(ctx, call)
	}
	digest := CodeSHA256(call.Code)
	if c.codes.Has(digest) {
		byDigest := call
		byDigest.ByDigest = true
		resp, err := c.send(ctx, byDigest)
		if err == nil {
			c.codes.Worked(digest)
			return resp, nil
		}
		var owtErr *OwtError
		if !errors.As(err, &owtErr) || !IsUnknownCode(owtErr.Status, owtErr.Body) {
			return nil, err
		}
		c.codes.Unknown(digest)
	}
	resp, err := c.send(ctx, call)
	if err == nil {
		c.codes.Sent(digest)
	}
	return resp, err
}

// send sends the call's fields as they are.
func (c *Client) send(ctx context.Context, call Call) (*http.Response, error) {
	req, err := c.Request(ctx, call)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &OwtError{Message: fmt.Sprintf("cannot reach %s: %v", c.urlFor(call.Path), err), Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		msg := strings.TrimSpace(decodeText(resp.Header, body))
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		if msg == "" {
			msg = fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		return nil, &OwtError{Status: resp.StatusCode, Message: msg, Body: body, Header: resp.Header}
	}
	return resp, nil
}

func (c *Client) urlFor(path string) string {
	if path == "" {
		return c.URL
	}
	base, query := c.URL, ""
	if i := strings.IndexByte(c.URL, '?'); i >= 0 {
		base, query = c.URL[:i], c.URL[i:]
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/") + query
}

func withQuery(url, query string) string {
	if query == "" {
		return url
	}
	if strings.Contains(url, "?") {
		return url + "&" + query
	}
	return url + "?" + query
}

// mediaType is the lower-cased media type ("" when there is no Content-Type) and
// the charset parameter of a header.
func mediaType(h http.Header) (string, string) {
	raw := h.Get("Content-Type")
	if raw == "" {
		return "", ""
	}
	media, params, err := mime.ParseMediaType(raw)
	if err != nil {
		media = strings.ToLower(strings.TrimSpace(strings.SplitN(raw, ";", 2)[0]))
	}
	return media, strings.ToLower(params["charset"])
}

func isJSON(media string) bool {
	return media == "application/json" || strings.HasSuffix(media, "+json")
}

// decodeText is body as text: Latin-1 when the charset says so, else UTF-8 (invalid
// bytes replaced).
func decodeText(h http.Header, body []byte) string {
	_, charset := mediaType(h)
	switch charset {
	case "iso-8859-1", "latin1", "latin-1", "l1", "iso_8859-1":
		runes := make([]rune, len(body))
		for i, b := range body {
			runes[i] = rune(b)
		}
		return string(runes)
	}
	if utf8.Valid(body) {
		return string(body)
	}
	return strings.ToValidUTF8(string(body), "\uFFFD")
}

// DecodeBody turns a response body into a value by its Content-Type, as Run does.
func DecodeBody(h http.Header, body []byte) (any, error) {
	media, _ := mediaType(h)
	switch {
	case media == "":
		if len(body) == 0 {
			return nil, nil
		}
		return body, nil
	case strings.HasPrefix(media, "text/"):
		return decodeText(h, body), nil
	case isJSON(media):
		if len(body) == 0 {
			return nil, nil
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, &OwtError{Status: 200, Message: "the response is not JSON: " + err.Error(), Body: body, Header: h, Err: err}
		}
		return v, nil
	default:
		return body, nil
	}
}

// Stream is an open streamed response, read as it arrives. For text/event-stream
// each Next is one event (Event, Data); for anything else one chunk of the body
// (Bytes). An "event: error" frame ends the stream with an *OwtError from Err.
//
//	for st.Next() { fmt.Println(st.Data()) }
//	if err := st.Err(); err != nil { ... }
type Stream struct {
	Status int
	Header http.Header
	// IsEventStream is true for a text/event-stream response.
	IsEventStream bool

	resp    *http.Response
	parser  SSEParser
	pending []Event
	eof     bool
	event   Event
	chunk   []byte
	buf     []byte
	err     error
	readErr error
	done    bool
}

func newStream(resp *http.Response) *Stream {
	media, _ := mediaType(resp.Header)
	return &Stream{
		Status:        resp.StatusCode,
		Header:        resp.Header,
		IsEventStream: media == "text/event-stream",
		resp:          resp,
		buf:           make([]byte, 32*1024),
	}
}

// Next advances to the next event or chunk, waiting for it to arrive. It returns
// false at the end of the stream or on an error (see Err); the response is closed then.
func (s *Stream) Next() bool {
	if s.done {
		return false
	}
	if s.IsEventStream {
		return s.nextEvent()
	}
	if s.readErr != nil {
		s.finish(s.readErr)
		return false
	}
	for {
		n, err := s.resp.Body.Read(s.buf)
		if n > 0 {
			s.chunk = append([]byte(nil), s.buf[:n]...)
			s.readErr = err
			return true
		}
		if err != nil {
			s.finish(err)
			return false
		}
	}
}

func (s *Stream) nextEvent() bool {
	for len(s.pending) == 0 {
		if s.eof {
			s.finish(nil)
			return false
		}
		n, err := s.resp.Body.Read(s.buf)
		if n > 0 {
			s.pending = append(s.pending, s.parser.Feed(s.buf[:n])...)
		}
		if err != nil {
			s.pending = append(s.pending, s.parser.Finish()...)
			s.eof = true
			if err != io.EOF {
				s.err = &OwtError{Status: s.Status, Message: "reading the stream: " + err.Error(), Header: s.Header, Err: err}
			}
		}
	}
	ev := s.pending[0]
	s.pending = s.pending[1:]
	if ev.Type == "error" {
		s.finish(&OwtError{Status: s.Status, Message: ev.Data, Body: []byte(ev.Data), Header: s.Header})
		return false
	}
	s.event = ev
	s.chunk = []byte(ev.Data)
	return true
}

func (s *Stream) finish(err error) {
	s.done = true
	if err != nil && err != io.EOF && s.err == nil {
		var owtErr *OwtError
		if errors.As(err, &owtErr) {
			s.err = err
		} else {
			s.err = &OwtError{Status: s.Status, Message: "reading the stream: " + err.Error(), Header: s.Header, Err: err}
		}
	}
	s.resp.Body.Close()
}

// Event is the current event (event streams only).
func (s *Stream) Event() Event { return s.event }

// Data is the current event's data (event streams), or the current chunk as text.
func (s *Stream) Data() string {
	if s.IsEventStream {
		return s.event.Data
	}
	return string(s.chunk)
}

// Bytes is the current chunk (or the current event's data as bytes).
func (s *Stream) Bytes() []byte { return s.chunk }

// Err is the error that ended the stream, nil after a clean end.
func (s *Stream) Err() error { return s.err }

// Close drops the connection; call it when leaving the loop early.
func (s *Stream) Close() error {
	if !s.done {
		s.done = true
		return s.resp.Body.Close()
	}
	return nil
}
