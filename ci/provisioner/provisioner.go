package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

const (
	defaultName        = "local.helm-flink.dev/hostpath"
	annProvisionedBy   = "pv.kubernetes.io/provisioned-by"
	annProvisioner     = "volume.kubernetes.io/storage-provisioner"
	annProvisionerBeta = "volume.beta.kubernetes.io/storage-provisioner"
	annSelectedNode    = "volume.kubernetes.io/selected-node"
)

// provisioner provisions the claims of StorageClasses named after it.
type provisioner struct {
	cs   kubernetes.Interface
	log  *log.Logger
	root string
	name string
}

// watch provisions and reclaims the volumes of the provisioner.
func (r *provisioner) watch(ctx context.Context, f informers.SharedInformerFactory) ([]cache.InformerSynced, error) {
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

// provision creates the volume of a pending claim that the PV controller handed to the provisioner.
func (r *provisioner) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim) {
	if pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimPending || pvc.DeletionTimestamp != nil ||
		(pvc.Annotations[annProvisioner] != r.name && pvc.Annotations[annProvisionerBeta] != r.name) {
		return
	}
	if err := r.createVolume(ctx, pvc); err != nil {
		r.log.Printf("provisioner: claim %s/%s: %v", pvc.Namespace, pvc.Name, err)
	}
}

func (r *provisioner) createVolume(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
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
		return fmt.Errorf("volumeMode Block is not supported: the volumes are folders")
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
	dir := filepath.Join(r.root, pvc.Namespace, pvc.Name+"-"+string(pvc.UID)[:8])
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
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: r.name}},
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

// reclaim deletes a volume of the provisioner whose claim is gone (Released) under
// reclaim policy Delete: its folder, then the PersistentVolume.
func (r *provisioner) reclaim(ctx context.Context, pv *corev1.PersistentVolume) {
	if pv.Annotations[annProvisionedBy] != r.name || pv.Status.Phase != corev1.VolumeReleased ||
		pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.DeletionTimestamp != nil {
		return
	}
	if h := pv.Spec.HostPath; h != nil && strings.HasPrefix(h.Path, r.root+string(filepath.Separator)) {
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
