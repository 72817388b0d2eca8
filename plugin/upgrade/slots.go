package upgrade

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/plugin/jobmanager"
	"github.com/helm-flink/helm-flink/schema"
)

// heldJob is a running job of a session and the task slots it holds.
type heldJob struct {
	ID, Name string
	Slots    int
	// Rescales: the adaptive (or reactive) scheduler runs it on fewer slots instead of failing it.
	Rescales bool
}

// slotsHeld is what a job occupies with Flink's default slot sharing: in each slot-sharing
// group, as many slots as its widest vertex.
func slotsHeld(j *flink.Job) int {
	widest := map[string]int{}
	for _, v := range j.Vertices {
		widest[v.SlotSharingGroupID] = max(widest[v.SlotSharingGroupID], v.Parallelism)
	}
	n := 0
	for _, w := range widest {
		n += w
	}
	return n
}

// adaptiveScheduler says whether the session's configuration runs jobs with the adaptive
// scheduler (reactive mode included), which rescales a job to the slots there are.
func adaptiveScheduler(vals map[string]any) bool {
	if on, _ := vals["reactiveMode"].(bool); on {
		return true
	}
	conf, _ := vals["flinkConfiguration"].(map[string]any)
	return strings.EqualFold(fmt.Sprint(conf["jobmanager.scheduler"]), "adaptive") ||
		strings.EqualFold(fmt.Sprint(conf["scheduler-mode"]), "reactive")
}

// heldJobs reads the slots each running job holds.
func heldJobs(ctx context.Context, jm *jobmanager.JobManager, jobs []jobmanager.Job, adaptive bool) ([]heldJob, error) {
	var out []heldJob
	for _, j := range jobs {
		if j.State != string(flink.JobRunning) {
			continue
		}
		d, err := jm.REST.Job(ctx, j.ID)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", j.ID, err)
		}
		out = append(out, heldJob{ID: j.ID, Name: j.Name, Slots: slotsHeld(d),
			Rescales: adaptive || strings.EqualFold(d.SchedulerType, "adaptive")})
	}
	return out, nil
}

// tooFewSlots lists the running jobs that would lose their slots: when the jobs that cannot
// rescale hold more than the upgrade leaves, all of those; else none.
func tooFewSlots(held []heldJob, slots int) []heldJob {
	need := 0
	var fixed []heldJob
	for _, h := range held {
		if !h.Rescales {
			need += h.Slots
			fixed = append(fixed, h)
		}
	}
	if need <= slots {
		return nil
	}
	sort.Slice(fixed, func(i, j int) bool { return fixed[i].ID < fixed[j].ID })
	return fixed
}

// refuseScaleDown is the error for a TaskManager/slot change that would leave running jobs
// without slots: Flink would fail them, and without checkpoints restart none.
func refuseScaleDown(release string, lost []heldJob, c schema.Slots) error {
	need := 0
	var names []string
	for _, h := range lost {
		need += h.Slots
		names = append(names, fmt.Sprintf("%s (%s) holds %d", h.ID, h.Name, h.Slots))
	}
	return exit.InputError(fmt.Errorf("this upgrade leaves %d task slots (%s), and the running jobs need %d: %s; "+
		"keep at least %d slots, run them with the adaptive scheduler (jobmanager.scheduler: adaptive), or pass --stop-jobs --savepoint-dir DIR to stop them with savepoints first (then resubmit with helm flink submit %s --jar JAR --savepoint SAVEPOINT); nothing was changed",
		c.Total(), c.Rule(), need, strings.Join(names, "; "), need, release))
}
