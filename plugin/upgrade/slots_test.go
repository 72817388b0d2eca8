package upgrade

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/helm-flink/helm-flink/plugin/exit"
	"github.com/helm-flink/helm-flink/plugin/flink"
	"github.com/helm-flink/helm-flink/schema"
)

// What a job holds, read from the real answers of Flink 1.20 and 2.x: its vertices share one
// slot-sharing group, so the widest vertex counts.
func TestSlotsHeld(t *testing.T) {
	for _, v := range []string{"1.20.0", "2.3.0"} {
		data, err := os.ReadFile("../flink/testdata/" + v + "/job-running.json")
		if err != nil {
			t.Fatal(err)
		}
		var answer struct{ Body flink.Job }
		if err := json.Unmarshal(data, &answer); err != nil {
			t.Fatal(err)
		}
		widest := 0
		for _, vx := range answer.Body.Vertices {
			widest = max(widest, vx.Parallelism)
		}
		if got := slotsHeld(&answer.Body); got != widest || got == 0 {
			t.Errorf("%s: %d slots held, want the widest vertex's %d", v, got, widest)
		}
	}
	two := &flink.Job{Vertices: []flink.Vertex{
		{SlotSharingGroupID: "a", Parallelism: 3}, {SlotSharingGroupID: "a", Parallelism: 2}, {SlotSharingGroupID: "b", Parallelism: 2}}}
	if got := slotsHeld(two); got != 5 {
		t.Errorf("two slot-sharing groups: %d slots, want 3 + 2", got)
	}
}

// A scale-down below what the running jobs hold is refused (naming each job), unless the jobs
// rescale; the session's slots come from replicas × slots, the Flink option winning.
func TestScaleDownGuard(t *testing.T) {
	vals := map[string]any{"taskmanager": map[string]any{"replicas": 1, "numberOfTaskSlots": float64(2)}}
	c, ok := schema.TaskSlots(vals)
	if !ok || c != (schema.Slots{TaskManagersPath: "taskmanager.replicas", TaskManagers: 1, SlotsPath: "taskmanager.numberOfTaskSlots", Slots: 2}) {
		t.Fatalf("TaskSlots: %+v %v", c, ok)
	}
	vals["flinkConfiguration"] = map[string]any{"taskmanager.numberOfTaskSlots": "4"}
	if c, _ := schema.TaskSlots(vals); c.Total() != 4 || c.SlotsPath != "flinkConfiguration.taskmanager.numberOfTaskSlots" {
		t.Fatalf("flinkConfiguration's slot count: %+v", c)
	}
	// Native: the bound is native.maxTaskManagers (replicas play no part); 0 is no bound.
	vals["mode"], vals["native"] = "native", map[string]any{"maxTaskManagers": 3}
	if c, ok := schema.TaskSlots(vals); !ok || c.Total() != 12 || c.TaskManagersPath != "native.maxTaskManagers" {
		t.Fatalf("native: %+v %v", c, ok)
	}
	vals["native"] = map[string]any{"maxTaskManagers": 0}
	if c, ok := schema.TaskSlots(vals); ok {
		t.Fatalf("native without a maximum has no bound: %+v", c)
	}
	held := []heldJob{{ID: "b", Name: "Big", Slots: 3}, {ID: "a", Name: "Small", Slots: 1}, {ID: "r", Name: "Elastic", Slots: 4, Rescales: true}}
	if lost := tooFewSlots(held, 4); lost != nil {
		t.Errorf("4 slots hold 3 + 1 (the adaptive job rescales): %v", lost)
	}
	lost := tooFewSlots(held, 2)
	if len(lost) != 2 || lost[0].ID != "a" || lost[1].ID != "b" {
		t.Fatalf("2 slots for 3 + 1: %v", lost)
	}
	err := refuseScaleDown("r", lost, schema.Slots{TaskManagersPath: "taskmanager.replicas", TaskManagers: 1, SlotsPath: "taskmanager.numberOfTaskSlots", Slots: 2})
	if exit.Code(err) != exit.Input || !strings.Contains(err.Error(), "a (Small) holds 1; b (Big) holds 3") ||
		!strings.Contains(err.Error(), "leaves 2 task slots (taskmanager.replicas 1 × taskmanager.numberOfTaskSlots 2), and the running jobs need 4") {
		t.Errorf("%v", err)
	}
	if !adaptiveScheduler(map[string]any{"reactiveMode": true}) ||
		!adaptiveScheduler(map[string]any{"flinkConfiguration": map[string]any{"jobmanager.scheduler": "adaptive"}}) ||
		adaptiveScheduler(map[string]any{"flinkConfiguration": map[string]any{"jobmanager.scheduler": "default"}}) {
		t.Error("adaptiveScheduler")
	}
	if err := (&Upgrade{StopJobs: true}).Validate(); exit.Code(err) != exit.Input {
		t.Errorf("--stop-jobs without --savepoint-dir: %v", err)
	}
}
