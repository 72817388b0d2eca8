// Package fake is a cluster for the plugin's tests: Helm's memory storage, client-go's fake client, and a JobManager.
//
// The JobManager gives the answers real Flink JobManagers gave (plugin/flink/testdata).
package fake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/runtime"
	k8sfake "k8s.io/client-go/kubernetes/fake"

	"github.com/helm-flink/helm-flink/plugin/act"

	"github.com/helm-flink/helm-flink/plugin/chartdir"
)

// Versions are the Flink versions the answers were captured from.
var Versions = []string{"1.20.0", "2.3.0"}

// Answer is one captured answer, and the request it answered.
type Answer struct {
	Request struct {
		Method string `json:"method"`
		Path   string `json:"path"`
	} `json:"request"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// Load reads the answer captured as name (e.g. "job-running") from Flink version.
func Load(t testing.TB, version, name string) Answer {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root(), "plugin/flink/testdata", version, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var a Answer
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatalf("%s/%s: %v", version, name, err)
	}
	return a
}

// Route is where the answer was asked, e.g. "GET /jobs/<id>" (no query).
func (a Answer) Route() string {
	path, _, _ := strings.Cut(a.Request.Path, "?")
	return a.Request.Method + " " + path
}

// At is the answer as if asked at route: another job's, say.
func (a Answer) At(route string) Answer {
	a.Request.Method, a.Request.Path, _ = strings.Cut(route, " ")
	return a
}

// Renamed is the answer with every occurrence of from in its body replaced by to: another job's
// id, say, so that answers captured for different jobs tell of one.
func (a Answer) Renamed(from, to string) Answer {
	a.Body = json.RawMessage(strings.ReplaceAll(string(a.Body), from, to))
	return a
}

// JobID is the job id in the answer's route (GET /jobs/<id>…).
func (a Answer) JobID() string {
	parts := strings.Split(a.Request.Path, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

// Serve is a JobManager REST endpoint that gives each answer at its route; the answers of one
// route in turn, the last one repeatedly. Other routes get Flink's 404. It returns the URL.
func Serve(t testing.TB, answers ...Answer) string {
	var mu sync.Mutex
	routes, asked := map[string][]Answer{}, map[string]int{}
	for _, a := range answers {
		routes[a.Route()] = append(routes[a.Route()], a)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		route := r.Method + " " + r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		if len(routes[route]) == 0 {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":["Not found: ` + r.URL.Path + `"]}`))
			return
		}
		a := routes[route][min(asked[route], len(routes[route])-1)]
		asked[route]++
		w.WriteHeader(a.Status)
		_, _ = w.Write(a.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// root is the repository's folder.
func root() string {
	_, here, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(here), "../../..")
}

// Config is an action context in namespace "flink" of a cluster that is not there: Helm stores
// releases in memory and applies nothing, the Kubernetes client holds objects, and the
// JobManager is at restURL ("" for none).
func Config(t testing.TB, restURL string, objects ...runtime.Object) *act.Config {
	t.Helper()
	t.Setenv("HELM_NAMESPACE", "flink")
	cfg := act.New()
	caps := *chartutil.DefaultCapabilities
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	cfg.Helm = &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: &caps,
		Log:          func(string, ...any) {},
	}
	cfg.Kube, cfg.RESTURL = k8sfake.NewClientset(objects...), restURL
	return cfg
}

// Install installs chart (flink-session or flink-job) as release name with vals into cfg and
// reads it.
func Install(t testing.TB, cfg *act.Config, name, chart string, vals map[string]any) *act.Release {
	t.Helper()
	ch, err := chartdir.Load(filepath.Join(root(), "charts", chart))
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(cfg.Helm)
	install.ReleaseName, install.Namespace = name, cfg.Namespace()
	rel, err := install.Run(ch, vals)
	if err != nil {
		t.Fatal(err)
	}
	r, err := act.Read(rel)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
