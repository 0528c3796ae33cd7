package owtclient

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
)

// UnknownCode is the "error" of the 404 with which a server asks for code in full: it
// does not have the code a request named by code_sha256 (PROTOCOL.md §2).
const UnknownCode = "unknown code_sha256"

// giveUpAfter is how many times in a row a server may forget one code before the
// client stops trying its digest (the server keeps no code store, or too small a one).
const giveUpAfter = 2

// CodeSHA256 is the code_sha256 of code: the lower-case hex SHA-256 of its UTF-8 bytes.
func CodeSHA256(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// IsUnknownCode reports whether a response (status and body) is the server's
// "unknown code_sha256" 404.
func IsUnknownCode(status int, body []byte) bool {
	if status != 404 || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return false
	}
	var v struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(body, &v) == nil && v.Error == UnknownCode
}

// CodeMemory is what a client knows a server has: the digests of code it sent in full.
// Safe for concurrent use; share one between the clients of one server.
type CodeMemory struct {
	mu     sync.Mutex
	known  map[string]bool
	misses map[string]int
}

// NewCodeMemory returns an empty memory.
func NewCodeMemory() *CodeMemory {
	return &CodeMemory{known: map[string]bool{}, misses: map[string]int{}}
}

// Has reports whether the next call of the code with this digest may go by digest.
func (m *CodeMemory) Has(digest string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.known[digest]
}

// Sent records that the code went in full and the server answered 2xx.
func (m *CodeMemory) Sent(digest string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.misses[digest] < giveUpAfter {
		m.known[digest] = true
	}
}

// Worked records that a call by digest was answered: the server keeps this code.
func (m *CodeMemory) Worked(digest string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.misses, digest)
}

// Unknown records the server's "unknown code_sha256": the code goes in full next.
func (m *CodeMemory) Unknown(digest string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.known, digest)
	m.misses[digest]++
}

// Forget forgets everything (e.g. after pointing the client at another server).
func (m *CodeMemory) Forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.known = map[string]bool{}
	m.misses = map[string]int{}
}
