package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// The pod runner is the stack's storage provisioner, the way an external provisioner works: the
// stack's default StorageClass (ci/kwok/storageclass.yaml) names it, kube-controller-manager's
// PV controller marks each claim of that class for it (volume.kubernetes.io/storage-provisioner),
// the runner creates a hostPath PersistentVolume for the claim — a folder of its own, under
// <workdir>/pvc/<namespace>/ — and the PV controller binds the two. Every pod that mounts the
// claim gets that folder. A released volume of reclaim policy Delete (its claim was deleted) is
// deleted with its folder.
const (
	defaultProvisioner = "podrunner.helm-flink.dev/local"
	annProvisionedBy   = "pv.kubernetes.io/provisioned-by"
	annProvisioner     = "volume.kubernetes.io/storage-provisioner"
	annProvisionerBeta = "volume.beta.kubernetes.io/storage-provisioner"
	annSelectedNode    = "volume.kubernetes.io/selected-node"
)

// watchVolumes provisions and reclaims the volumes of the runner's provisioner.
func (r *runner) watchVolumes(ctx context.Context, f informers.SharedInformerFactory) ([]cache.InformerSynced, error) {
	claims := f.Core().V1().PersistentVolumeClaims().Informer()
	volumes := f.Core().V1().PersistentVolumes().Informer()
	if _, err := claims.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { r.provision(ctx, o.(*corev1.PersistentVolumeClaim)) },
		UpdateFunc: func(_, o any) { r.provision(ctx, o.(*corev1.PersistentVolumeClaim)) },
	}); err != nil {
		return nil, err
	}
	if _, err := volumes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { r.reclaim(ctx, o.(*corev1.PersistentVolume)) },
		UpdateFunc: func(_, o any) { r.reclaim(ctx, o.(*corev1.PersistentVolume)) },
	}); err != nil {
		return nil, err
	}
	return []cache.InformerSynced{claims.HasSynced, volumes.HasSynced}, nil
}

func (r *runner) pvcRoot() string { return filepath.Join(r.workdir, "pvc") }

// provision creates the volume of a pending claim that the PV controller handed to the runner.
func (r *runner) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim) {
	if pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimPending || pvc.DeletionTimestamp != nil ||
		(pvc.Annotations[annProvisioner] != r.provisioner && pvc.Annotations[annProvisionerBeta] != r.provisioner) {
		return
	}
	if err := r.createVolume(ctx, pvc); err != nil {
		r.log.Printf("provisioner: claim %s/%s: %v", pvc.Namespace, pvc.Name, err)
	}
}

func (r *runner) createVolume(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(pvc.UID)
	if _, err := r.cs.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{}); err == nil {
		return nil // provisioned already; the PV controller binds it
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	sc, err := r.cs.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("storage class %q: %w", class, err)
	}
	if sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer && pvc.Annotations[annSelectedNode] == "" {
		return nil // the scheduler picks a node first
	}
	if pvc.Spec.VolumeMode != nil && *pvc.Spec.VolumeMode == corev1.PersistentVolumeBlock {
		return fmt.Errorf("volumeMode Block is not supported: the runner's volumes are folders")
	}
	size, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		size = resource.MustParse("1Gi")
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		reclaim = *sc.ReclaimPolicy
	}
	// A folder per claim (its uid tells a claim from a later one of the same name).
	dir := filepath.Join(r.pvcRoot(), pvc.Namespace, pvc.Name+"-"+string(pvc.UID)[:8])
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	// Whatever user a pod runs as writes there, as in local-path-provisioner's folders: the kubelet
	// applies no fsGroup to a hostPath volume (the umask took the write bits).
	if err := os.Chmod(dir, 0o777); err != nil {
		return err
	}
	dirType := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: r.provisioner}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              sc.Name,
			MountOptions:                  sc.MountOptions,
			VolumeMode:                    pvc.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &dirType}},
		},
	}
	if _, err := r.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	r.log.Printf("provisioner: claim %s/%s: volume %s (%s) in %s", pvc.Namespace, pvc.Name, name, size.String(), dir)
	return nil
}

// reclaim deletes a volume of the runner's provisioner whose claim is gone (Released) under
// reclaim policy Delete: its folder, then the PersistentVolume.
func (r *runner) reclaim(ctx context.Context, pv *corev1.PersistentVolume) {
	if pv.Annotations[annProvisionedBy] != r.provisioner || pv.Status.Phase != corev1.VolumeReleased ||
		pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.DeletionTimestamp != nil {
		return
	}
	if h := pv.Spec.HostPath; h != nil && strings.HasPrefix(h.Path, r.pvcRoot()+string(filepath.Separator)) {
		if err := os.RemoveAll(h.Path); err != nil {
			r.log.Printf("provisioner: volume %s: %v", pv.Name, err)
			return
		}
		_ = os.Remove(filepath.Dir(h.Path)) // the namespace's folder, once empty
	}
	err := r.cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		r.log.Printf("provisioner: delete volume %s: %v", pv.Name, err)
		return
	}
	claim := ""
	if pv.Spec.ClaimRef != nil {
		claim = pv.Spec.ClaimRef.Namespace + "/" + pv.Spec.ClaimRef.Name
	}
	r.log.Printf("provisioner: volume %s of deleted claim %s deleted with its folder", pv.Name, claim)
}

// claimDir is the host folder behind a pod's persistentVolumeClaim volume: the hostPath of the
// PersistentVolume bound to the claim. A pod whose claim is missing or not bound waits, as the
// kubelet does.
func (r *runner) claimDir(ctx context.Context, ns, claim string) (string, error) {
	pvc, err := r.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", &errWaiting{fmt.Sprintf("persistentvolumeclaim %q not found", claim)}
	}
	if err != nil {
		return "", err
	}
	if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
		return "", &errWaiting{fmt.Sprintf("unbound PersistentVolumeClaim %q (phase %s)", claim, pvc.Status.Phase)}
	}
	pv, err := r.cs.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", &errWaiting{fmt.Sprintf("persistentvolume %q of claim %q not found", pvc.Spec.VolumeName, claim)}
	}
	if err != nil {
		return "", err
	}
	if pv.Spec.HostPath == nil {
		return "", fmt.Errorf("persistentvolume %s is no hostPath volume: the pod runner mounts only folders of this machine", pv.Name)
	}
	if err := hostPathReady(pv.Spec.HostPath); err != nil {
		return "", err
	}
	return pv.Spec.HostPath.Path, nil
}
