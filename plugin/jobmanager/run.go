package jobmanager

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
)

// Spec is a job to run: a jar and how to run it.
type Spec struct {
	// Jar is a local path or an http(s) URL (downloaded here, then uploaded).
	Jar                   string
	EntryClass            string
	Args                  []string
	Parallelism           int
	Savepoint             string
	AllowNonRestoredState bool
	// KeepJar leaves the uploaded jar in the JobManager's upload dir, to run it again later.
	KeepJar bool
	// JarID runs a jar already in the upload dir (GET /jars) instead of uploading Jar.
	JarID string
}

// IsURL says whether a --jar value is a URL rather than a file.
func IsURL(jar string) bool {
	u, err := url.Parse(jar)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Submit uploads the jar (unless s.JarID names one uploaded before) and runs it, and returns the
// new job's id and the id of the jar, which stays in the upload dir with s.KeepJar or s.JarID;
// any other uploaded jar is deleted again, also when running fails. A jar that does not run is
// the job's failure (exit 3).
func (jm *JobManager) Submit(ctx context.Context, s Spec) (jobID, jarID string, err error) {
	jarID = s.JarID
	if jarID == "" {
		if jarID, err = jm.upload(ctx, s.Jar); err != nil {
			return "", "", err
		}
		defer func(id string) {
			if s.KeepJar && err == nil {
				return
			}
			// The jar is in the JobManager's upload dir only to be run once (or it did not run):
			// do not leave it behind, not even when ctx has ended.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = jm.REST.DeleteJar(dctx, id)
		}(jarID)
	}
	name := s.Jar
	if name == "" {
		name = jarID
	}
	jobID, err = jm.REST.RunJar(ctx, jarID, flink.RunRequest{
		EntryClass:            s.EntryClass,
		Args:                  s.Args,
		Parallelism:           s.Parallelism,
		SavepointPath:         s.Savepoint,
		AllowNonRestoredState: s.AllowNonRestoredState,
	})
	if err != nil {
		return "", "", exit.With(exit.JobFailed, fmt.Errorf("run jar %s: %w", path.Base(name), err))
	}
	if !s.KeepJar && s.JarID == "" {
		jarID = ""
	}
	return jobID, jarID, nil
}

// upload puts a local jar or one downloaded from a URL into the JobManager's upload dir.
func (jm *JobManager) upload(ctx context.Context, jar string) (string, error) {
	file := jar
	if IsURL(jar) {
		tmp, err := download(ctx, jar)
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(filepath.Dir(tmp))
		file = tmp
	}
	id, err := jm.REST.UploadJarFile(ctx, file)
	if err != nil {
		return "", fmt.Errorf("upload jar %s: %w", jar, err)
	}
	return id, nil
}

func download(ctx context.Context, src string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return "", exit.InputError(fmt.Errorf("--jar %s: %w", src, err))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("download jar %s: %w", src, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", exit.InputError(fmt.Errorf("download jar %s: %s", src, resp.Status))
	}
	dir, err := os.MkdirTemp("", "helm-flink-jar-")
	if err != nil {
		return "", err
	}
	name := path.Base(resp.Request.URL.Path)
	if !strings.HasSuffix(name, ".jar") {
		name = "job.jar"
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return "", fmt.Errorf("download jar %s: %w", src, err)
	}
	return f.Name(), f.Close()
}
