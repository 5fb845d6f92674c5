"""``manifests/``: every kustomization builds offline with kubectl, and every object is valid Kubernetes.

Core kinds are validated with kubernetes-validate's bundled schemas for Kubernetes 1.32 in strict mode
(unknown fields fail). Without that package, the kubernetes client's own models are walked instead (the
fallback catches unknown fields, not wrong types); the ClusterWorkflowTemplate is checked against Argo's
JSON schema and the unknown-field check. Also checked: the RBAC grants what the steps need, and the two
demo tenants get their quotas.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml
from argo_helpers import REPO, SCHEMA

from katib_flows.argo import schema_problems, unknown_fields
from katib_flows.argo._names import DEFAULT_CHECKPOINTS_CLAIM

KUBERNETES_VERSION = "1.32.0"
FOLDERS = ["base", "overlays/tenant-a", "overlays/tenant-b"]


def build(folder: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with its built-in kustomize) is needed to build manifests/"
    done = subprocess.run(
        [kubectl, "kustomize", str(REPO / "manifests" / folder)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def kubernetes_problems(obj: dict[str, Any]) -> list[str]:
    try:
        import kubernetes_validate
    except ImportError:
        return _client_model_problems(obj)
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'.'.join(map(str, exc.path))}: {exc.message}"]
    return []


def _client_model_problems(obj: dict[str, Any]) -> list[str]:
    """Walk ``obj`` alongside the kubernetes client's generated models: every key must be declared."""
    from kubernetes import client

    group_version = obj["apiVersion"].split("/")[-1]
    model = f"{group_version.capitalize()}{obj['kind']}"
    found: list[str] = []

    def walk(value: Any, type_name: str, path: str) -> None:
        lowered = type_name.lower()
        if lowered.startswith("list[") and isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, type_name[5:-1], f"{path}[{i}]")
        elif lowered.startswith(("dict(", "dict[")) and isinstance(value, dict):
            inner = type_name[5:-1].split(", ", 1)[1]
            for key, item in value.items():
                walk(item, inner, f"{path}.{key}")
        elif hasattr(client.models, type_name) and isinstance(value, dict):
            cls = getattr(client.models, type_name)
            by_json = {json_key: attr for attr, json_key in cls.attribute_map.items()}
            for key, item in value.items():
                if key not in by_json:
                    found.append(f"{path}.{key}: unknown field of {type_name}")
                else:
                    walk(item, cls.openapi_types[by_json[key]], f"{path}.{key}")

    assert hasattr(client.models, model), f"no kubernetes client model for {obj['kind']}"
    walk(obj, model, obj["kind"])
    return found


@pytest.mark.parametrize("folder", FOLDERS)
def test_kustomization_builds_and_every_object_validates(folder: str) -> None:
    objects = build(folder)
    assert objects
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["apiVersion"].startswith("argoproj.io/"):
            assert schema_problems(obj, SCHEMA) == [], where
            assert unknown_fields(obj) == [], where
        else:
            assert kubernetes_problems(obj) == [], where


def test_the_validator_rejects_unknown_fields() -> None:
    bad = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x", "labelz": {}}}
    assert kubernetes_problems(bad) != []
    assert _client_model_problems(bad) != []


def _by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def test_base_installs_the_store_the_template_and_the_role() -> None:
    objects = build("base")
    [namespace] = _by_kind(objects, "Namespace")
    assert namespace["metadata"]["name"] == "katib-flows-system"
    [mysql] = _by_kind(objects, "StatefulSet")
    assert mysql["metadata"]["namespace"] == "katib-flows-system"
    assert mysql["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    assert _by_kind(objects, "Secret")[0]["stringData"]["url"].startswith("mysql+pymysql://")
    [template] = _by_kind(objects, "ClusterWorkflowTemplate")
    assert "namespace" not in template["metadata"]
    committed = yaml.safe_load((REPO / "workflow_templates" / "cluster-workflow-template.yaml").read_text())
    assert template["spec"] == committed["spec"]


def _allowed(role: dict[str, Any], group: str, resource: str) -> set[str]:
    verbs: set[str] = set()
    for rule in role["rules"]:
        if group in rule["apiGroups"] and resource in rule["resources"]:
            verbs |= set(rule["verbs"])
    return verbs


def test_the_role_grants_what_the_steps_need_and_no_more() -> None:
    [role] = [r for r in _by_kind(build("base"), "ClusterRole") if r["metadata"]["name"] == "katib-flows-workflow"]
    assert {"create", "patch"} <= _allowed(role, "argoproj.io", "workflowtaskresults")
    assert {"get", "create"} <= _allowed(role, "argoproj.io", "workflows")
    assert {"create", "get", "watch", "delete"} <= _allowed(role, "batch", "jobs")
    for crd in ("tfjobs", "pytorchjobs", "mpijobs", "xgboostjobs"):
        assert {"create", "get", "watch", "delete"} <= _allowed(role, "kubeflow.org", crd)
    assert {"get", "list"} <= _allowed(role, "", "pods/log")
    assert not _allowed(role, "", "secrets"), "steps read the store URL from their env, never the Secret API"
    assert all("*" not in rule["verbs"] and "*" not in rule["resources"] for rule in role["rules"])


@pytest.mark.parametrize(("tenant", "cpu"), [("tenant-a", "18"), ("tenant-b", "6")])
def test_each_tenant_gets_its_namespace_quota_identity_and_store_secret(tenant: str, cpu: str) -> None:
    objects = build(f"overlays/{tenant}")
    assert {o["metadata"]["name"] for o in _by_kind(objects, "Namespace")} == {tenant}
    assert all(o["metadata"].get("namespace") == tenant for o in objects if o["kind"] != "Namespace")
    [quota] = _by_kind(objects, "ResourceQuota")
    assert quota["spec"]["hard"]["requests.cpu"] == cpu and quota["spec"]["hard"]["limits.cpu"] == cpu
    assert _by_kind(objects, "LimitRange")
    [account] = _by_kind(objects, "ServiceAccount")
    [binding] = _by_kind(objects, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "katib-flows-workflow",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": tenant}]
    [secret] = _by_kind(objects, "Secret")
    assert secret["metadata"]["name"] == "katib-flows-db" and "url" in secret["stringData"]
    [claim] = _by_kind(objects, "PersistentVolumeClaim")  # PBT checkpoints, the claim compile mounts by default
    assert claim["metadata"]["name"] == DEFAULT_CHECKPOINTS_CLAIM
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
