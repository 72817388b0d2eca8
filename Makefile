# helm-flink. `make demo` runs the main job, `make test` runs every test (CI runs exactly that).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The Helm SDK inside assumes Kubernetes v1.20 when it renders offline unless stamped, as Helm's
# own release builds are.
HELM_SDK := helm.sh/helm/v3/pkg
LDFLAGS := -X github.com/helm-flink/helm-flink/plugin/version.Version=$(VERSION) \
           -X github.com/helm-flink/helm-flink/plugin/version.Commit=$(COMMIT) \
           -X $(HELM_SDK)/chartutil.k8sVersionMajor=1 -X $(HELM_SDK)/chartutil.k8sVersionMinor=37 \
           -X $(HELM_SDK)/lint/rules.k8sVersionMajor=1 -X $(HELM_SDK)/lint/rules.k8sVersionMinor=37
RUN ?= .
E2E_TIMEOUT ?= 65m
# Tests marked parallel that run at once: releases sized for the node (e2e/containers_test.go) fit 3.
E2E_PARALLEL ?= 3

.PHONY: build tools flink images stack-up stack-down unit fuzz fuzz-short e2e bench test demo lint docs docs-check fixtures clean chart-deps

build: ## the plugin binary, bin/helm-flink
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/helm-flink ./cmd/helm-flink

.PHONY: dist
dist: ## release plugin tarballs (linux, darwin × amd64, arm64) + checksums.txt in dist/plugin; SIGN_KEY=<key name> KEYRING=<secret keyring> adds Helm 4 .prov files
	SIGN_KEY='$(SIGN_KEY)' KEYRING='$(KEYRING)' bash ci/dist.sh

tools: ## kube-apiserver & co, etcd, kwok, kubectl, helm v3 and v4, cached by version
	bash ci/build-tools.sh

flink: ## Flink 1.20 and 2.x class paths and example jobs from Maven Central, cached by version
	bash ci/fetch-flink.sh

images: tools ## the stack's OCI images (Flink from Apache Flink's PyPI distribution, kubectl, pause, CoreDNS…), cached by content
	bash ci/images.sh build

stack-up: ## the local real stack (idempotent); kubeconfig at .cache/stack/kubeconfig
	bash ci/stack.sh up

stack-down:
	bash ci/stack.sh down

lint: ## gofmt, go vet, no built binary or file over 1 MiB tracked
	bash ci/check-tracked.sh
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go vet -tags e2e ./e2e/

unit: lint tools flink ## unit tests (some render with the stack's helm or read the Flink cache: tools and flink first, so none skips)
	go test -count=1 -json ./... 2>&1 | python3 ci/test-summary.py unit

fuzz: ## every fuzz target for 60 s (FUZZTIME=…)
	bash ci/fuzz.sh $${FUZZTIME:-60s}

fuzz-short: ## every fuzz target for 10 s, as make test runs them
	bash ci/fuzz.sh 10s

e2e: tools flink images ## end-to-end tests on the real stack; RUN=<regex> selects
	go test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -parallel $(E2E_PARALLEL) -run '$(RUN)' -json ./e2e/ 2>&1 | python3 ci/test-summary.py e2e

bench: tools flink images ## side-by-side timings on the real stack: helm flink install --jar to every task RUNNING, standalone vs native session, Flink 1.20 and 2.x
	go test -tags e2e -count=1 -run '^$$' -bench . -benchtime 1x -timeout 30m ./e2e/

fixtures: tools flink images ## plugin/flink/testdata: REST answers of real Flink 1.20 and 2.x JobManagers on the local stack
	bash ci/capture-fixtures.sh

docs: ## the charts' READMEs, generated from values.yaml by helm-docs
	bash ci/build-tools.sh helmdocs
	.cache/bin/helm-docs --chart-search-root charts --template-files README.md.gotmpl --log-level warning

docs-check: docs ## fails when a chart README is stale
	@git diff --exit-code -- 'charts/*/README.md' || { echo "chart READMEs are stale: run make docs and commit"; exit 1; }

chart-deps: ## what plain helm needs to install a checkout's chart: the library chart as charts/<chart>/charts/flink-common-<v>.tgz (helm dependency build; helm flink needs none)
	@[ -n "$${HELM:-}" ] || bash ci/build-tools.sh helm
	@for c in flink-session flink-job; do $${HELM:-.cache/bin/helm3} dependency build charts/$$c >/dev/null || exit 1; done

.PHONY: charts charts-push
charts: ## chart packages + index.yaml in dist/charts (CHARTS_DIR=…); SIGN_KEY=<key name> KEYRING=<secret keyring> adds .prov files; PUBLISHED_INDEX=<url|file> keeps the released versions in the index
	@[ -n "$${HELM:-}" ] || bash ci/build-tools.sh helm
	bash ci/charts.sh

charts-push: ## helm push of the chart packages (and their .prov) to OCI_REPO=oci://host/path; PLAIN_HTTP=1 for a local registry
	@[ -n "$${HELM:-}" ] || bash ci/build-tools.sh helm
	bash ci/charts.sh push

test: unit fuzz-short docs-check e2e ## everything; .ci/run calls this

demo: build tools flink images ## the README's main command
	bash ci/demo.sh

clean:
	rm -rf bin .cache
