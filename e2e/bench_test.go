//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkInstallToRunning is `make bench`: `helm flink install --jar` of a session running
// TopSpeedWindowing at parallelism 4, from the command's start to its exit with every task
// RUNNING, standalone (the chart's 2 TaskManagers × 2 slots, up before the job) against native
// (Flink creates 2 TaskManager pods for the job), measured side by side in one run on the same
// stack — the order alternating per round — for each Flink version. It reports the medians and
// their ratio; run it with -benchtime 1x (each round is a real install).
func BenchmarkInstallToRunning(b *testing.B) {
	const rounds = 3
	for _, v := range nativeVersions() {
		b.Run(v.name, func(b *testing.B) {
			times := map[string][]time.Duration{}
			for range b.N {
				for i := range rounds {
					modes := []string{"standalone", "native"}
					if i%2 == 1 {
						slices.Reverse(modes)
					}
					for _, mode := range modes {
						times[mode] = append(times[mode], installToRunning(b, v, mode))
					}
				}
			}
			st, nat := median(times["standalone"]), median(times["native"])
			b.ReportMetric(st.Seconds(), "standalone-s")
			b.ReportMetric(nat.Seconds(), "native-s")
			b.ReportMetric(nat.Seconds()/st.Seconds(), "native/standalone")
			fmt.Printf("install → every task RUNNING, Flink %s, median of %d: standalone %s %v, native %s %v, native/standalone %.2f\n",
				v.release, len(times["native"]), st.Round(time.Millisecond), rounded(times["standalone"]),
				nat.Round(time.Millisecond), rounded(times["native"]), nat.Seconds()/st.Seconds())
		})
	}
}

// installToRunning times one `helm flink install --jar` into a fresh restricted namespace, then
// uninstalls (untimed).
func installToRunning(b *testing.B, v nativeVersion, mode string) time.Duration {
	b.Helper()
	ns := restrictedNamespace(b)
	s := newStandalone(b)
	args := []string{"install", "bench", filepath.Join(env.root, "charts/flink-session"), "-n", ns, "--set", "image.tag=" + v.tag,
		"--jar", exampleJar(v.release, "TopSpeedWindowing"), "--parallelism", "4"}
	if mode == "native" {
		args = append(args, "--set", "mode=native", "--set", "native.minTaskManagers=0")
	}
	start := time.Now()
	if _, _, code := s.run(b, args...); code != 0 {
		b.Fatalf("%s install: exit %d", mode, code)
	}
	took := time.Since(start)
	if _, _, code := s.run(b, "uninstall", "bench", "-n", ns); code != 0 {
		b.Fatalf("%s uninstall: exit %d", mode, code)
	}
	return took
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func rounded(d []time.Duration) []time.Duration {
	out := make([]time.Duration, len(d))
	for i, x := range d {
		out[i] = x.Round(100 * time.Millisecond)
	}
	return out
}
