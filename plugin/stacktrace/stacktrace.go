// Package stacktrace reads Java stack traces, in Flink's REST answers and in a crashed JVM's log.
//
// Traces are read as Throwable.printStackTrace prints them. Standard library only.
package stacktrace

import (
	"strings"
)

// Throwable is one Java exception of a printed stack trace.
type Throwable struct {
	// Class is the exception's class, e.g. java.lang.ClassNotFoundException.
	Class string
	// Message may span lines; empty when the exception has none.
	Message string
	// Frames are the "at" lines without "at ", e.g. "org.example.Job.main(Job.java:42)".
	Frames []string
	// Omitted is N of a "... N more" line: frames shared with the enclosing exception.
	Omitted int
}

// String is "Class: Message", or the class alone.
func (t Throwable) String() string {
	if t.Message == "" {
		return t.Class
	}
	return t.Class + ": " + t.Message
}

// Parse splits a Java stack trace into the exception and its "Caused by:" chain, outermost
// first. "Suppressed:" blocks are skipped. Text that is no stack trace comes back as one
// Throwable whose Message is that text.
func Parse(s string) []Throwable {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return nil
	}
	var (
		chain      []Throwable
		cur        *Throwable
		inHeader   bool // still reading the (possibly multi-line) message
		suppressed bool // inside a "Suppressed:" block, which belongs to no chain link
	)
	start := func(header string) {
		class, msg := splitHeader(header)
		chain = append(chain, Throwable{Class: class, Message: msg})
		cur, inHeader, suppressed = &chain[len(chain)-1], true, false
	}
	for _, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimLeft(line, "\t ")
		indent := len(line) - len(trimmed)
		switch {
		case cur == nil:
			start(line)
		case strings.HasPrefix(line, "Caused by: "):
			start(strings.TrimPrefix(line, "Caused by: "))
		case indent > 0 && strings.HasPrefix(trimmed, "Suppressed: "):
			suppressed, inHeader = true, false
		case suppressed:
			// frames and causes of a suppressed exception
		case indent > 0 && strings.HasPrefix(trimmed, "at "):
			inHeader = false
			cur.Frames = append(cur.Frames, strings.TrimPrefix(trimmed, "at "))
		case indent > 0 && strings.HasPrefix(trimmed, "... ") && strings.HasSuffix(trimmed, " more"):
			inHeader = false
			n := 0
			for _, r := range strings.TrimSuffix(strings.TrimPrefix(trimmed, "... "), " more") {
				if r < '0' || r > '9' {
					n = 0
					break
				}
				n = n*10 + int(r-'0')
			}
			cur.Omitted = n
		case inHeader:
			cur.Message += "\n" + line
		}
	}
	for i := range chain {
		chain[i].Message = strings.TrimRight(chain[i].Message, "\n ")
	}
	return chain
}

// splitHeader splits "pkg.Class: message" into class and message. A header that does not start
// with a Java class name is all message.
func splitHeader(h string) (class, msg string) {
	h = strings.TrimSpace(h)
	name, rest, found := strings.Cut(h, ": ")
	if !found {
		name, rest = strings.TrimSuffix(h, ":"), ""
	}
	if isClassName(name) {
		return name, rest
	}
	return "", h
}

// isClassName: a dotted Java name with at least one dot (package) — java.io.IOException, a.B$C.
func isClassName(s string) bool {
	if !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, r := range s {
		switch {
		case r == '.' || r == '$' || r == '_':
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

// Last is the last exception a log shows (a line such as "java.io.IOException: …" with its
// frames and "Caused by:" lines), parsed; nil when there is none.
func Last(lines []string) []Throwable {
	start := -1
	for i, l := range lines {
		if class, _ := splitHeader(l); strings.HasPrefix(l, class) && isThrowableName(class) {
			start = i
		}
	}
	if start < 0 {
		return nil
	}
	end := start + 1
	for end < len(lines) && (strings.HasPrefix(lines[end], "Caused by: ") || strings.TrimLeft(lines[end], "\t ") != lines[end]) {
		end++
	}
	return Parse(strings.Join(lines[start:end], "\n"))
}

// isThrowableName: a class name as exceptions are named (…Exception, …Error, …Throwable), so
// that a log line starting with some other dotted name is not taken for one.
func isThrowableName(class string) bool {
	for _, suffix := range []string{"Exception", "Error", "Throwable"} {
		if strings.HasSuffix(class, suffix) {
			return true
		}
	}
	return false
}

// Lines is the chain as a log shows it, one line each: the exception, then "Caused by: …".
func Lines(chain []Throwable) []string {
	out := make([]string, 0, len(chain))
	for i, t := range chain {
		line, _, _ := strings.Cut(t.String(), "\n")
		if i > 0 {
			line = "Caused by: " + line
		}
		out = append(out, line)
	}
	return out
}
