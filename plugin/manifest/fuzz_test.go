package manifest

import (
	"testing"
)

// FuzzParse: any release manifest parses into objects or an error, and what parses answers the
// questions the plugin asks of it: no panic.
func FuzzParse(f *testing.F) {
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {config.yaml: \"kubernetes:\\n  cluster-id: x\\n\"}\n")
	f.Add("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: j\n  labels: {app.kubernetes.io/component: jobmanager}\nspec:\n  template:\n    spec:\n      containers: [{name: jobmanager, args: [standalone-job, --job-id, \"0123\"]}]\n")
	f.Add("---\n# only a comment\n---\nkind: Unknown\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := Parse(text)
		if err != nil {
			return
		}
		_ = m.JobManager()
		_ = m.JobID()
		_ = m.ClusterID()
		_ = m.Native()
		_ = m.KeptUploadDir()
		_ = m.NativeMinTaskManagers()
		_ = m.KeepsClaim()
		_ = m.JobManagerExitsWithJob()
		_ = Compare(m, m)
	})
}
