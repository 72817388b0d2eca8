package charts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func loadSchema(t *testing.T, chart string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chart, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s/values.schema.json: %v", chart, err)
	}
	return s
}

// Both charts render their values through flink-common: the values they share must be checked
// the same way. Only what one chart has and the other has not may differ.
func TestSchemasAgreeOnSharedValues(t *testing.T) {
	session, job := loadSchema(t, "flink-session"), loadSchema(t, "flink-job")
	for _, s := range []map[string]any{session, job} {
		if s["$schema"] != "http://json-schema.org/draft-07/schema#" {
			t.Fatalf("schema declares %v, want draft-07 (gojsonschema knows drafts 4 to 7)", s["$schema"])
		}
	}
	if !reflect.DeepEqual(session["definitions"], job["definitions"]) {
		t.Error("definitions differ between the charts' schemas")
	}
	sp, jp := session["properties"].(map[string]any), job["properties"].(map[string]any)
	for key, v := range sp {
		w, ok := jp[key]
		if !ok {
			if key != "tests" && key != "submit" && key != "clusterDomain" { // session-only (clusterDomain: the HA JobManagers' StatefulSet)
				t.Errorf("flink-job's schema lacks %q", key)
			}
			continue
		}
		if key == "jobmanager" {
			a := v.(map[string]any)["properties"].(map[string]any)
			b := w.(map[string]any)["properties"].(map[string]any)
			for k := range a {
				if k != "replicas" && !reflect.DeepEqual(a[k], b[k]) {
					t.Errorf("jobmanager.%s differs between the charts' schemas", k)
				}
			}
			continue
		}
		if !reflect.DeepEqual(v, w) {
			t.Errorf("%q differs between the charts' schemas", key)
		}
	}
}
