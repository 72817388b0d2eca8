# Pinned versions of everything the real local stack is built from. Sourced by the ci/ scripts
# and read by the Makefile; a changed version builds into a new cache folder.
KUBE_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
HELM3_VERSION=v3.22.0
HELM4_VERSION=v4.3.1
HELM_DOCS_VERSION=v1.14.2
# The stack's NetworkPolicy enforcer: kube-router's firewall alone (ci/tools/kube-router pins its
# module and raises its golang.org/x and gRPC dependencies).
KUBE_ROUTER_VERSION=v2.1.0
# The stack's S3 server: SeaweedFS 4.53 (weed mini), as ci/tools/seaweedfs/go.mod pins it.
SEAWEEDFS_VERSION=4.53
# The stack's Prometheus: 3.16.0 (module v0.316.0, as ci/tools/prometheus/go.mod pins it).
PROMETHEUS_VERSION=3.16.0
# 1.20.0: later 1.20 patch releases lack flink-container, flink-kubernetes and the examples on Maven Central.
FLINK1_VERSION=1.20.0
FLINK2_VERSION=2.3.0
# Tools and Flink artifacts are cached outside the checkout so a fresh clone reuses them.
HELM_FLINK_CACHE=${HELM_FLINK_CACHE:-$HOME/.cache/helm-flink}
