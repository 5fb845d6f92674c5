#!/usr/bin/env bash
# End to end on a real (local) cluster, for users with Docker: creates a kind cluster, installs Argo
# Workflows and manifests/ (the store, the ClusterWorkflowTemplate, RBAC, tenant-a), builds the step image,
# compiles examples/digits/experiment-random.yaml, submits it, waits for every generation to finish and
# prints the best trial from the store.
#
# NOT run in CI: it needs Docker, kind, kubectl and network access to pull Argo and MySQL. The test suite
# proves what it can without a cluster (schema, unknown fields, kustomize builds, Kubernetes schemas, the
# conformance harness running the compiled Workflow's steps locally); this script shows the rest: that
# Argo accepts and runs the Workflow, that the executor can write outputs under the RBAC given, that
# steps reach MySQL through the Secret, and that the exit step's hand-off creates the next Workflow.
#
# Trials run with --trial-runner local (inside the trial step's container, which therefore holds the
# training script and scikit-learn) until the Kubernetes trial runner lands; then drop that flag and
# the trials become Jobs of the trial image.
#
# Usage: scripts/e2e-kind.sh            (env: CLUSTER, ARGO_VERSION, KEEP=1 to keep the cluster)
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER=${CLUSTER:-katib-flows-e2e}
ARGO_VERSION=${ARGO_VERSION:-v4.1.2}
IMAGE=katib-flows:e2e
NAMESPACE=tenant-a
EXPERIMENT=digits-random
WORK=$(mktemp -d)

need() { command -v "$1" >/dev/null || { echo "e2e-kind.sh needs $1 on PATH" >&2; exit 2; }; }
need docker; need kind; need kubectl
cleanup() { rm -rf "$WORK"; if [ "${KEEP:-0}" != 1 ]; then kind delete cluster --name "$CLUSTER"; fi; }
trap cleanup EXIT

echo "== cluster"
kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --wait 120s
kubectl config use-context "kind-$CLUSTER"

echo "== Argo Workflows $ARGO_VERSION"
kubectl create namespace argo --dry-run=client -o yaml | kubectl apply -f -
kubectl apply --server-side -n argo \
  -f "https://github.com/argoproj/argo-workflows/releases/download/${ARGO_VERSION}/install.yaml"
kubectl -n argo rollout status deployment/workflow-controller --timeout=300s

echo "== images"
docker build -t katib-flows:e2e-base .
# The step image plus what the digits trials need, because they run inside the trial step (see above).
docker build -t "$IMAGE" -f - . <<DOCKERFILE
FROM katib-flows:e2e-base
USER root
RUN python -m pip install --no-cache-dir scikit-learn
COPY examples/digits/train.py /home/katib/train.py
USER 1000
DOCKERFILE
kind load docker-image "$IMAGE" --name "$CLUSTER"

echo "== katib-flows system and tenant"
# The committed manifests name the release image; point them at the one just built.
kubectl kustomize manifests/base | sed "s#ghcr.io/katib-flows/katib-flows:0.1.0#$IMAGE#g" | kubectl apply -f -
kubectl -n katib-flows-system rollout status statefulset/katib-flows-mysql --timeout=600s
kubectl -n katib-flows-system wait --for=condition=complete job/katib-flows-db-upgrade --timeout=600s
kubectl apply -k manifests/overlays/$NAMESPACE

echo "== compile and submit $EXPERIMENT"
docker run --rm -v "$PWD/examples:/examples:ro" "$IMAGE" compile /examples/digits/experiment-random.yaml \
  --namespace "$NAMESPACE" --image "$IMAGE" --trial-runner local > "$WORK/workflow.yaml"
kubectl create -f "$WORK/workflow.yaml"

echo "== waiting for every generation"
deadline=$((SECONDS + 3600))
while :; do
  phases=$(kubectl -n "$NAMESPACE" get workflows -l "katib-flows.io/experiment=$EXPERIMENT" \
    -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase}{"\n"}{end}')
  echo "$phases"
  # Done when no generation is pending or running and the newest one has finished its exit step.
  if [ -n "$phases" ] && ! grep -qE '=(Pending|Running|)$' <<<"$phases"; then break; fi
  if [ $SECONDS -gt $deadline ]; then echo "timed out" >&2; exit 1; fi
  sleep 15
done
if grep -qE '=(Failed|Error)$' <<<"$phases"; then
  echo "a generation failed:" >&2
  kubectl -n "$NAMESPACE" get workflows -l "katib-flows.io/experiment=$EXPERIMENT" -o yaml >&2
  exit 1
fi

echo "== result (read from the store by the step image)"
kubectl -n "$NAMESPACE" run katib-flows-best --rm -i --restart=Never --image "$IMAGE" \
  --overrides "$(cat <<JSON
{"spec": {"serviceAccountName": "katib-flows-workflow", "containers": [{
  "name": "katib-flows-best", "image": "$IMAGE", "imagePullPolicy": "Never",
  "args": ["best", "$EXPERIMENT", "--namespace", "$NAMESPACE", "--output", "yaml"],
  "env": [{"name": "KATIB_FLOWS_DB", "valueFrom": {"secretKeyRef": {"name": "katib-flows-db", "key": "url"}}}]}]}}
JSON
)"
