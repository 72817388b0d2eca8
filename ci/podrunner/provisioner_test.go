package main

import (
	"errors"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// The provisioner's part of a claim's life: a volume for a claim the PV controller handed to it
// (a folder, the claim's size and access modes, pre-bound to the claim); the folder for pods
// once the claim is bound; after the claim is gone, no folder and no volume.
func TestProvisionerLifecycle(t *testing.T) {
	class := "standard"
	del := corev1.PersistentVolumeReclaimDelete
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: class}, Provisioner: defaultProvisioner, ReclaimPolicy: &del}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "ns", UID: "0123456789abcdef",
			Annotations: map[string]string{annProvisioner: defaultProvisioner}},
		Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &class,
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")}}},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}
	other := pvc.DeepCopy()
	other.Name, other.UID, other.Annotations = "other", "fedcba9876543210", map[string]string{annProvisioner: "ebs.csi.aws.com"}
	cs := fake.NewClientset(sc, pvc, other)
	r := &runner{cs: cs, log: log.New(io.Discard, "", 0), workdir: t.TempDir(), provisioner: defaultProvisioner}

	// Pending: a pod waits.
	var wait *errWaiting
	if _, err := r.claimDir(t.Context(), "ns", "data"); !errors.As(err, &wait) {
		t.Fatalf("an unbound claim: %v, want errWaiting", err)
	}
	if _, err := r.claimDir(t.Context(), "ns", "missing"); !errors.As(err, &wait) {
		t.Fatalf("a missing claim: %v, want errWaiting", err)
	}

	r.provision(t.Context(), pvc)
	r.provision(t.Context(), other)
	pvs, _ := cs.CoreV1().PersistentVolumes().List(t.Context(), metav1.ListOptions{})
	if len(pvs.Items) != 1 {
		t.Fatalf("%d volumes, want one for the claim of the runner's class", len(pvs.Items))
	}
	pv := pvs.Items[0]
	size := pv.Spec.Capacity[corev1.ResourceStorage]
	if pv.Name != "pvc-0123456789abcdef" || pv.Annotations[annProvisionedBy] != defaultProvisioner || size.String() != "2Gi" ||
		pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID != pvc.UID || pv.Spec.PersistentVolumeReclaimPolicy != del ||
		pv.Spec.StorageClassName != class || len(pv.Spec.AccessModes) != 1 || pv.Spec.AccessModes[0] != corev1.ReadWriteMany || pv.Spec.HostPath == nil {
		t.Fatalf("volume %+v", pv)
	}
	dir := pv.Spec.HostPath.Path
	if want := filepath.Join(r.workdir, "pvc", "ns", "data-01234567"); dir != want {
		t.Fatalf("folder %s, want %s", dir, want)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("the volume's folder: %v", err)
	}
	r.provision(t.Context(), pvc) // again (an update): nothing new
	if pvs, _ := cs.CoreV1().PersistentVolumes().List(t.Context(), metav1.ListOptions{}); len(pvs.Items) != 1 {
		t.Fatalf("%d volumes after a second event", len(pvs.Items))
	}

	// The PV controller binds them; pods get the folder.
	pvc.Spec.VolumeName, pvc.Status.Phase = pv.Name, corev1.ClaimBound
	if _, err := cs.CoreV1().PersistentVolumeClaims("ns").Update(t.Context(), pvc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.claimDir(t.Context(), "ns", "data"); err != nil || got != dir {
		t.Fatalf("claimDir = %q, %v; want %s", got, err, dir)
	}
	os.WriteFile(filepath.Join(dir, "savepoint"), []byte("x"), 0o644)

	// A bound volume is never deleted; a released one is, with its folder.
	pv.Status.Phase = corev1.VolumeBound
	r.reclaim(t.Context(), &pv)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a bound volume's folder was deleted: %v", err)
	}
	pv.Status.Phase = corev1.VolumeReleased
	r.reclaim(t.Context(), &pv)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the released volume's folder is still there: %v", err)
	}
	if _, err := cs.CoreV1().PersistentVolumes().Get(t.Context(), pv.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the released volume is still there: %v", err)
	}

	// Someone else's volume, or a folder outside the runner's, is never touched.
	foreign := pv.DeepCopy()
	foreign.Spec.HostPath.Path = t.TempDir()
	r.reclaim(t.Context(), foreign)
	if _, err := os.Stat(foreign.Spec.HostPath.Path); err != nil || !strings.HasPrefix(foreign.Spec.HostPath.Path, os.TempDir()) {
		t.Fatalf("a folder outside the runner's pvc folder was deleted: %v", err)
	}
}
