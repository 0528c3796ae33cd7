package owtclient

import (
	"reflect"
	"testing"
)

const sseStream = "\ufeff: a comment\r\n" +
	"data: one\n\n" +
	"event: tick\r\nid: 7\r\ndata: two\r\ndata:  lines\r\n\r\n" +
	"retry: 100\rdata\r\r" +
	"id\nevent: ignored-without-data\n\n" +
	"data: x\n" +
	"unknown: field\n" +
	"data:y\n\n" +
	"data: unterminated"

var sseExpected = []Event{
	{Type: "message", Data: "one"},
	{Type: "tick", Data: "two\n lines", ID: "7", HasID: true},
	{Type: "message", Data: "", ID: "7", HasID: true},
	{Type: "message", Data: "x\ny", ID: "", HasID: true},
}

func feedAll(pieces ...string) []Event {
	var p SSEParser
	var events []Event
	for _, piece := range pieces {
		events = append(events, p.Feed([]byte(piece))...)
	}
	return append(events, p.Finish()...)
}

func TestSSEWhole(t *testing.T) {
	if got := feedAll(sseStream); !reflect.DeepEqual(got, sseExpected) {
		t.Errorf("got %#v", got)
	}
}

func TestSSEEveryTwoWaySplit(t *testing.T) {
	for i := 0; i <= len(sseStream); i++ {
		if got := feedAll(sseStream[:i], sseStream[i:]); !reflect.DeepEqual(got, sseExpected) {
			t.Fatalf("split at %d: %#v", i, got)
		}
	}
}

func TestSSEOneByteAtATime(t *testing.T) {
	var pieces []string
	for i := 0; i < len(sseStream); i++ {
		pieces = append(pieces, sseStream[i:i+1])
	}
	if got := feedAll(pieces...); !reflect.DeepEqual(got, sseExpected) {
		t.Errorf("got %#v", got)
	}
}

func TestSSETrailingCR(t *testing.T) {
	var p SSEParser
	if got := p.Feed([]byte("data: a\n\r")); len(got) != 0 {
		t.Errorf("early: %#v", got)
	}
	if got := p.Finish(); !reflect.DeepEqual(got, []Event{{Type: "message", Data: "a"}}) {
		t.Errorf("finish: %#v", got)
	}
}

func TestSSEEventAsSoonAsComplete(t *testing.T) {
	var p SSEParser
	if got := p.Feed([]byte("data: a\n")); len(got) != 0 {
		t.Errorf("early: %#v", got)
	}
	if got := p.Feed([]byte("\n")); !reflect.DeepEqual(got, []Event{{Type: "message", Data: "a"}}) {
		t.Errorf("got %#v", got)
	}
}

func TestSSESplitUTF8(t *testing.T) {
	if got := feedAll("data: \xc3", "\xbc\n\n"); !reflect.DeepEqual(got, []Event{{Type: "message", Data: "ü"}}) {
		t.Errorf("got %#v", got)
	}
}
