package owtclient

import (
	"bytes"
	"strings"
)

// Event is one dispatched server-sent event.
type Event struct {
	// Type is the event type: "message" unless an "event:" field said otherwise.
	Type string
	Data string
	// ID is the last event id seen so far ("" when none); HasID tells them apart.
	ID    string
	HasID bool
}

// SSEParser is an incremental text/event-stream parser (HTML living standard).
// Feed it the body in chunks of any size; it returns each event as soon as the
// blank line that ends it has arrived.
type SSEParser struct {
	buf       []byte
	data      []string
	hasData   bool
	eventType string
	lastID    string
	hasID     bool
	started   bool
}

var bom = []byte("\xef\xbb\xbf")

// Feed consumes bytes and returns the events they completed.
func (p *SSEParser) Feed(chunk []byte) []Event {
	p.buf = append(p.buf, chunk...)
	if !p.started {
		if len(p.buf) < len(bom) && bytes.HasPrefix(bom, p.buf) {
			return nil
		}
		p.started = true
		p.buf = bytes.TrimPrefix(p.buf, bom)
	}
	var events []Event
	pos := 0
	for {
		i := bytes.IndexAny(p.buf[pos:], "\r\n")
		if i < 0 {
			break
		}
		end := pos + i
		next := end + 1
		if p.buf[end] == '\r' {
			if next == len(p.buf) {
				break // maybe half of \r\n
			}
			if p.buf[next] == '\n' {
				next++
			}
		}
		events = p.line(p.buf[pos:end], events)
		pos = next
	}
	p.buf = append(p.buf[:0], p.buf[pos:]...)
	return events
}

// Finish ends the stream: a trailing \r ends its line; an unterminated event is dropped.
func (p *SSEParser) Finish() []Event {
	var events []Event
	if n := len(p.buf); n > 0 && p.buf[n-1] == '\r' {
		events = p.line(p.buf[:n-1], events)
	}
	p.buf = nil
	p.data = nil
	p.hasData = false
	p.eventType = ""
	return events
}

func (p *SSEParser) line(raw []byte, events []Event) []Event {
	line := strings.ToValidUTF8(string(raw), "\uFFFD")
	if line == "" {
		if p.hasData {
			typ := p.eventType
			if typ == "" {
				typ = "message"
			}
			events = append(events, Event{Type: typ, Data: strings.Join(p.data, "\n"), ID: p.lastID, HasID: p.hasID})
		}
		p.data = nil
		p.hasData = false
		p.eventType = ""
		return events
	}
	if line[0] == ':' {
		return events
	}
	name, value := line, ""
	if i := strings.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		value = strings.TrimPrefix(value, " ")
	}
	switch name {
	case "data":
		p.data = append(p.data, value)
		p.hasData = true
	case "event":
		p.eventType = value
	case "id":
		if !strings.ContainsRune(value, 0) {
			p.lastID = value
			p.hasID = true
		}
	}
	return events
}
