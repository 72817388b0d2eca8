package savepoint

import (
	"context"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// store is a ConfigMap of a release that several writers add keys to: each change is a merge
// patch of the keys it sets (a nil value deletes its key), so no writer overwrites another's
// keys, and the first writer creates the ConfigMap.
type store struct {
	kube      kubernetes.Interface
	namespace string
	name      string
	labels    map[string]string
}

// patch sets (and, with nil values, deletes) keys of the ConfigMap, creating it when it is missing.
func (s store) patch(ctx context.Context, data map[string]*string) error {
	body, err := json.Marshal(map[string]any{"data": data})
	if err != nil {
		return err
	}
	cms := s.kube.CoreV1().ConfigMaps(s.namespace)
	for attempt := 0; attempt < 2; attempt++ {
		_, err = cms.Patch(ctx, s.name, types.MergePatchType, body, metav1.PatchOptions{})
		if !apierrors.IsNotFound(err) {
			return err
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.namespace, Labels: s.labels}, Data: map[string]string{}}
		for k, v := range data {
			if v != nil {
				cm.Data[k] = *v
			}
		}
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			return err
		}
		// Another writer created it first: patch that one.
	}
	return err
}

// data is the ConfigMap's data; nil when there is no ConfigMap.
func (s store) data(ctx context.Context) (map[string]string, error) {
	cm, err := s.kube.CoreV1().ConfigMaps(s.namespace).Get(ctx, s.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return cm.Data, nil
}

// remove deletes the ConfigMap; a missing one is not an error.
func (s store) remove(ctx context.Context) error {
	err := s.kube.CoreV1().ConfigMaps(s.namespace).Delete(ctx, s.name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
