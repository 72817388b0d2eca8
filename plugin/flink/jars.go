package flink

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// UploadJar is POST /jars/upload: the jar from r, as file name (Flink wants a name ending in
// .jar), in the multipart field "jarfile". The answer's "filename" is the jar's path on the
// JobManager; its base name is the jar id that RunJar and DeleteJar take.
func (c *Client) UploadJar(ctx context.Context, name string, r io.Reader) (string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	written := make(chan struct{})
	go func() {
		defer close(written)
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="jarfile"; filename=%q`, filepath.Base(name)))
		h.Set("Content-Type", "application/x-java-archive")
		part, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(part, r)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	var out struct {
		Filename string `json:"filename"`
		Status   string `json:"status"`
	}
	err := c.do(ctx, request{method: http.MethodPost, path: "/jars/upload", body: pr, contentType: mw.FormDataContentType(), long: true}, &out)
	pr.CloseWithError(io.ErrClosedPipe) // stops the writer when the request ended early
	<-written                           // r is not read after UploadJar returns
	if err != nil {
		return "", err
	}
	if out.Filename == "" {
		return "", fmt.Errorf("post /jars/upload: the answer names no file (status %q)", out.Status)
	}
	return jarID(out.Filename), nil
}

// jarID is the base name of the uploaded jar's path on the JobManager.
func jarID(filename string) string {
	if i := strings.LastIndexAny(filename, `/\`); i >= 0 {
		return filename[i+1:]
	}
	return filename
}

// UploadJarFile uploads the jar at path; see UploadJar.
func (c *Client) UploadJarFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("upload jar: %w", err)
	}
	defer f.Close()
	return c.UploadJar(ctx, filepath.Base(path), f)
}

// Jar is one uploaded jar of GET /jars.
type Jar struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Uploaded Timestamp  `json:"uploaded"`
	Entry    []JarEntry `json:"entry"`
}

// JarEntry is a main class Flink found in a jar's manifest.
type JarEntry struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Jars is GET /jars: the jars uploaded to this JobManager.
func (c *Client) Jars(ctx context.Context) ([]Jar, error) {
	return getList[Jar](ctx, c, "/jars", "files")
}

// DeleteJar is DELETE /jars/:jarid. Flink answers 400 (not 404) for a jar it does not have.
func (c *Client) DeleteJar(ctx context.Context, jarID string) error {
	return c.sendJSON(ctx, http.MethodDelete, "/jars/"+escape(jarID), nil, nil)
}

// Claim modes of a restore from a savepoint or checkpoint.
const (
	ClaimModeClaim   = "CLAIM"
	ClaimModeNoClaim = "NO_CLAIM"
	// ClaimModeLegacy is deprecated since Flink 1.20 (still accepted by 2.x, with a warning).
	ClaimModeLegacy = "LEGACY"
)

// RunRequest is what POST /jars/:jarid/run takes. Zero values are left to Flink's defaults.
type RunRequest struct {
	// EntryClass overrides the jar manifest's main class.
	EntryClass string
	// Args are the program's arguments, sent as programArgsList (verbatim; no shell splitting).
	Args []string
	// Parallelism; 0 is the cluster's default.
	Parallelism int
	// JobID fixes the job's id: 32 hex digits.
	JobID string
	// SavepointPath restores the job from a savepoint or retained checkpoint.
	SavepointPath         string
	AllowNonRestoredState bool
	// ClaimMode of the restore: CLAIM, NO_CLAIM or LEGACY; empty is Flink's default (NO_CLAIM).
	// Sent as claimMode to Flink ≥ 1.20 and as restoreMode before.
	ClaimMode string
	// FlinkConfiguration is job configuration, e.g. restart-strategy.type.
	FlinkConfiguration map[string]string
}

// runBody is the wire form of RunRequest.
type runBody struct {
	EntryClass            string            `json:"entryClass,omitempty"`
	ProgramArgsList       []string          `json:"programArgsList,omitempty"`
	Parallelism           int               `json:"parallelism,omitempty"`
	JobID                 string            `json:"jobId,omitempty"`
	SavepointPath         string            `json:"savepointPath,omitempty"`
	AllowNonRestoredState bool              `json:"allowNonRestoredState,omitempty"`
	ClaimMode             string            `json:"claimMode,omitempty"`
	RestoreMode           string            `json:"restoreMode,omitempty"`
	FlinkConfiguration    map[string]string `json:"flinkConfiguration,omitempty"`
}

// validate checks what Flink would only reject with "Request did not match expected format".
func (r RunRequest) validate() error {
	switch strings.ToUpper(r.ClaimMode) {
	case "", ClaimModeClaim, ClaimModeNoClaim, ClaimModeLegacy:
	default:
		return fmt.Errorf("claim mode %q: want CLAIM, NO_CLAIM or LEGACY", r.ClaimMode)
	}
	if r.JobID != "" && !IsJobID(r.JobID) {
		return fmt.Errorf("job id %q: want 32 lower-case hex digits", r.JobID)
	}
	if r.Parallelism < 0 {
		return fmt.Errorf("parallelism %d: want 1 or more (0 for the default)", r.Parallelism)
	}
	return nil
}

// body is the wire form for a cluster of the given version ("" when unknown: then the claim mode
// goes in both fields; every version ignores the field it does not know, and ≥1.20 prefers
// claimMode).
func (r RunRequest) body(version string) runBody {
	b := runBody{
		EntryClass:            r.EntryClass,
		ProgramArgsList:       r.Args,
		Parallelism:           r.Parallelism,
		JobID:                 r.JobID,
		SavepointPath:         r.SavepointPath,
		AllowNonRestoredState: r.AllowNonRestoredState,
		FlinkConfiguration:    r.FlinkConfiguration,
	}
	if mode := strings.ToUpper(r.ClaimMode); mode != "" {
		switch claimModeField(version) {
		case "claimMode":
			b.ClaimMode = mode
		case "restoreMode":
			b.RestoreMode = mode
		default:
			b.ClaimMode, b.RestoreMode = mode, mode
		}
	}
	return b
}

// claimModeField is the run request field that carries the claim mode on a Flink version:
// "claimMode" from 1.20, "restoreMode" before, "" when the version cannot be read.
func claimModeField(version string) string {
	major, minor, ok := parseVersion(version)
	switch {
	case !ok:
		return ""
	case major > 1 || (major == 1 && minor >= 20):
		return "claimMode"
	default:
		return "restoreMode"
	}
}

// parseVersion reads major and minor of "1.20.0", "2.3-SNAPSHOT", "2.1".
func parseVersion(v string) (major, minor int, ok bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minorDigits := parts[1]
	if i := strings.IndexFunc(minorDigits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minorDigits = minorDigits[:i]
	}
	minor, err2 := strconv.Atoi(minorDigits)
	return major, minor, err1 == nil && err2 == nil
}

// IsJobID is the one rule for a job id: 32 lower-case hex digits, a JobID as Flink prints it (and
// as the flink-job chart's schema takes it).
func IsJobID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// RunJar is POST /jars/:jarid/run: runs the jar's main() on the JobManager and returns the id of
// the job it submitted. A failing main() (wrong entry class, bad arguments) is an *APIError whose
// Summary names the cause. With a ClaimMode the cluster's version decides the field (see
// Client.Version).
func (c *Client) RunJar(ctx context.Context, jarID string, req RunRequest) (string, error) {
	path := "/jars/" + escape(jarID) + "/run"
	if err := req.validate(); err != nil {
		return "", fmt.Errorf("post %s: %w", path, err)
	}
	version := ""
	if req.ClaimMode != "" {
		v, err := c.Version(ctx)
		if err != nil {
			return "", fmt.Errorf("post %s: the claim mode's field depends on the Flink version: %w", path, err)
		}
		version = v
	}
	var out struct {
		JobID string `json:"jobid"`
	}
	b, err := jsonBody(req.body(version))
	if err != nil {
		return "", fmt.Errorf("post %s: %w", path, err)
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: path, body: b, contentType: "application/json", long: true}, &out); err != nil {
		return "", err
	}
	if out.JobID == "" {
		return "", fmt.Errorf("post %s: the answer has no jobid", path)
	}
	return out.JobID, nil
}
