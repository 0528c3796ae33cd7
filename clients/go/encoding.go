package owtclient

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Call is everything one request can carry. Zero values mean "not sent".
type Call struct {
	// Code is the Python source to run.
	Code string
	// ByDigest sends the code's SHA-256 (code_sha256) instead of the code, for a server
	// that has seen it. A Client does this by itself after a code's first call.
	ByDigest bool
	// CodeSig is the base64 Ed25519 signature of the code (code_sig); a Client with a
	// Signer fills it in.
	CodeSig string
	// Kwargs is any JSON value (anything encoding/json can marshal, or a
	// json.RawMessage). nil, a JSON null and {} mean no kwargs; a value that is not an
	// object arrives on the server as {"__last__": value}.
	Kwargs any
	// FnName is the callable to run (the server's default is "run").
	FnName string
	// Adaptor names an adaptor installed on the server: "module" or "module.function".
	Adaptor     string
	UseCache    bool
	CacheKwargs bool

	// Method overrides the client's method for this call: "GET" or "POST".
	Method string
	// Path is appended to the client's URL path; the adaptor sees it in request.path.
	Path string
}

// Field is one encoded request field. Value is a string, or true for the flags.
type Field struct {
	Name  string
	Value any
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// EncodeFields returns the request fields of a call in canonical order
// (clients/README.md).
func EncodeFields(c Call) ([]Field, error) {
	var fields []Field
	if c.Code != "" && c.ByDigest {
		fields = append(fields, Field{"code_sha256", CodeSHA256(c.Code)})
	} else if c.Code != "" {
		fields = append(fields, Field{"code_b64", b64([]byte(c.Code))})
	}
	if c.CodeSig != "" {
		fields = append(fields, Field{"code_sig", c.CodeSig})
	}
	if c.Kwargs != nil {
		text, err := CompactJSON(c.Kwargs)
		if err != nil {
			return nil, err
		}
		if s := string(text); s != "null" && s != "{}" {
			fields = append(fields, Field{"kwargs_b64", b64(text)})
		}
	}
	if c.FnName != "" {
		fields = append(fields, Field{"fn_name", c.FnName})
	}
	if c.Adaptor != "" {
		fields = append(fields, Field{"adaptor", c.Adaptor})
	}
	if c.UseCache {
		fields = append(fields, Field{"use_cache", true})
	}
	if c.CacheKwargs {
		fields = append(fields, Field{"cache_kwargs", true})
	}
	return fields, nil
}

// QueryFromFields joins fields into a query string (no leading "?"), every value
// percent-encoded over its UTF-8 except the RFC 3986 unreserved characters.
func QueryFromFields(fields []Field) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(f.Name)
		b.WriteByte('=')
		if s, ok := f.Value.(string); ok {
			b.WriteString(PercentEncode(s))
		} else {
			b.WriteString("true")
		}
	}
	return b.String()
}

// BodyFromFields is the JSON body of fields: one object, booleans as JSON true.
func BodyFromFields(fields []Field) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, f.Name)
		b.WriteByte(':')
		if s, ok := f.Value.(string); ok {
			writeJSONString(&b, s)
		} else {
			b.WriteString("true")
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// EncodeQuery is the GET query string of a call.
func EncodeQuery(c Call) (string, error) {
	fields, err := EncodeFields(c)
	if err != nil {
		return "", err
	}
	return QueryFromFields(fields), nil
}

// EncodeBody is the POST JSON body of a call.
func EncodeBody(c Call) ([]byte, error) {
	fields, err := EncodeFields(c)
	if err != nil {
		return nil, err
	}
	return BodyFromFields(fields), nil
}

const upperHex = "0123456789ABCDEF"

// PercentEncode encodes every byte of s except A-Z a-z 0-9 - . _ ~ as %XX.
func PercentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// CompactJSON is the canonical kwargs text of v: what Python's
// json.dumps(v, separators=(",", ":"), ensure_ascii=False) writes. Maps are written
// with sorted keys (encoding/json's order); struct fields in declaration order.
func CompactJSON(v any) ([]byte, error) {
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("owt: kwargs are not JSON: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, bytes.TrimRight(raw.Bytes(), "\n")); err != nil {
		return nil, fmt.Errorf("owt: kwargs are not JSON: %w", err)
	}
	return canonicalEscapes(compact.Bytes()), nil
}

// canonicalEscapes rewrites the string escapes of valid compact JSON text into the
// canonical ones: \uXXXX for a printable character becomes the character itself,
// U+0008 and U+000C become \b and \f, other control characters lowercase \u00xx,
// and \/ becomes /.
func canonicalEscapes(text []byte) []byte {
	if bytes.IndexByte(text, '\\') < 0 {
		return text
	}
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '\\' || i+1 >= len(text) {
			out = append(out, c)
			continue
		}
		next := text[i+1]
		switch {
		case next == '/':
			out = append(out, '/')
			i++
		case next == 'u' && i+5 < len(text):
			r := hexRune(text[i+2 : i+6])
			if r >= 0xd800 && r < 0xe000 && i+11 < len(text) && text[i+6] == '\\' && text[i+7] == 'u' {
				lo := hexRune(text[i+8 : i+12])
				if r < 0xdc00 && lo >= 0xdc00 && lo < 0xe000 {
					out = utf8.AppendRune(out, 0x10000+(r-0xd800)<<10+(lo-0xdc00))
					i += 11
					continue
				}
			}
			if r < 0 || r >= 0xd800 && r < 0xe000 {
				out = append(out, text[i:i+6]...)
			} else {
				out = appendJSONRune(out, r)
			}
			i += 5
		default:
			out = append(out, c, next)
			i++
		}
	}
	return out
}

func hexRune(h []byte) rune {
	var r rune
	for _, c := range h {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return -1
		}
	}
	return r
}

func appendJSONRune(out []byte, r rune) []byte {
	switch r {
	case '"':
		return append(out, '\\', '"')
	case '\\':
		return append(out, '\\', '\\')
	case '\b':
		return append(out, '\\', 'b')
	case '\f':
		return append(out, '\\', 'f')
	case '\n':
		return append(out, '\\', 'n')
	case '\r':
		return append(out, '\\', 'r')
	case '\t':
		return append(out, '\\', 't')
	}
	if r < 0x20 {
		const lowerHex = "0123456789abcdef"
		return append(out, '\\', 'u', '0', '0', lowerHex[r>>4], lowerHex[r&15])
	}
	return utf8.AppendRune(out, r)
}

func writeJSONString(b *bytes.Buffer, s string) {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	for _, r := range s {
		out = appendJSONRune(out, r)
	}
	out = append(out, '"')
	b.Write(out)
}
