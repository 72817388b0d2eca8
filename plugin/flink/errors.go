package flink

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/helm-flink/helm-flink/plugin/stacktrace"
)

// APIError is an answer of status 300 or more. Flink's body is {"errors": ["...", ...]}, where an
// entry is often a whole Java stack trace whose real cause sits in a "Caused by:" line far down.
type APIError struct {
	Method     string
	Path       string // with its query
	StatusCode int
	// Errors are Flink's "errors" strings; for a body that is not Flink's JSON, the body itself.
	Errors []string
}

func newAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: status}
	var fe struct {
		Errors []string `json:"errors"`
	}
	if json.Unmarshal(body, &fe) == nil && len(fe.Errors) > 0 {
		e.Errors = fe.Errors
	} else if b := strings.TrimSpace(string(body)); b != "" {
		e.Errors = []string{b}
	}
	return e
}

// Error is "<method> <path>: <status> <text>: <summary>", on one line.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", strings.ToLower(e.Method), e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if s := e.Summary(); s != "" {
		msg += ": " + s
	}
	return msg
}

// Summary is the most useful line of Flink's errors: the innermost cause of the first stack
// trace, e.g. "java.lang.ClassNotFoundException: com.example.Nope" for a wrong entry class, or
// the first plain message. Generic wrappers ("Internal server error.") are skipped.
func (e *APIError) Summary() string {
	for _, chain := range e.causes() {
		if s := summarize(chain); s != "" {
			return s
		}
	}
	return ""
}

// causes parses each meaningful errors string into its exception chain, outermost first.
func (e *APIError) causes() [][]stacktrace.Throwable {
	var out [][]stacktrace.Throwable
	for _, s := range e.Errors {
		s = unwrapServerSide(s)
		if s == "" || isGenericError(s) {
			continue
		}
		if chain := stacktrace.Parse(s); len(chain) > 0 {
			out = append(out, chain)
		}
	}
	return out
}

// unwrapServerSide strips the "<Exception on server side:\n...\nEnd of exception on server side>"
// envelope Flink puts around an internal error's stack trace.
func unwrapServerSide(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "<Exception on server side:"); ok {
		s = strings.TrimSuffix(strings.TrimSpace(rest), "End of exception on server side>")
	}
	return strings.TrimSpace(s)
}

func isGenericError(s string) bool {
	switch strings.TrimSpace(s) {
	case "Internal server error.", "Internal server error":
		return true
	}
	return false
}

// envelopes are exceptions whose message alone says what happened: their class is dropped from
// a summary.
var envelopes = map[string]bool{
	"org.apache.flink.runtime.rest.handler.RestHandlerException": true,
	"org.apache.flink.runtime.rest.NotFoundException":            true,
}

// summarize renders the innermost exception of a chain on one line.
func summarize(chain []stacktrace.Throwable) string {
	if len(chain) == 0 {
		return ""
	}
	t := chain[len(chain)-1]
	if t.Class == "" || (envelopes[t.Class] && t.Message != "") {
		return firstLine(t.Message)
	}
	return firstLine(t.String())
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

// StatusCode is the HTTP status of an *APIError in err's chain, else 0.
func StatusCode(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

// IsNotFound: Flink answered 404 (an unknown job, jar, trigger or path).
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }
