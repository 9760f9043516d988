"""A small, strict renderer for the subset of kustomize that deploy/k8s uses.

No kustomize binary can be installed here from PyPI or npm, so the tests render base and
overlays with this instead. It implements, as ``kustomize build`` does: ``resources`` (files
and directories holding a kustomization.yaml, recursively), ``namespace`` (set on every
namespaced resource), ``labels`` (``pairs`` added to metadata.labels; ``includeSelectors``
must be false), ``images`` (``name`` → ``newName``/``newTag`` on containers) and ``patches``
given inline as RFC 6902 JSON patches with a ``target`` of kind and name. Any other field of
a kustomization, or an unsupported form of these, is an error rather than silently ignored,
so the manifests cannot drift into something this renderer does not understand.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


class KustomizeError(ValueError):
    pass


def build(directory: Path) -> list[dict[str, Any]]:
    """The resources ``kustomize build DIRECTORY`` would print, in order."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    if kustomization.get("kind") != "Kustomization":
        raise KustomizeError(f"{directory}: kind must be Kustomization")

    resources: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            resources.extend(build(path))
        elif path.is_file():
            resources.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
        else:
            raise KustomizeError(f"{directory}: resource {entry} does not exist")
    _check_unique(resources)

    for patch in kustomization.get("patches", []):
        _apply_patch(resources, patch, directory)
    for image in kustomization.get("images", []):
        _set_image(resources, image)
    for label in kustomization.get("labels", []):
        if label.get("includeSelectors", False) or label.get("includeTemplates", False):
            raise KustomizeError("labels: only includeSelectors/includeTemplates false")
        for resource in resources:
            resource.setdefault("metadata", {}).setdefault("labels", {}).update(label["pairs"])
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = kustomization["namespace"]
    return resources


def _check_unique(resources: list[dict[str, Any]]) -> None:
    seen = set()
    for resource in resources:
        ident = (resource["kind"], resource["metadata"]["name"])
        if ident in seen:
            raise KustomizeError(f"duplicate resource {ident}")
        seen.add(ident)


def _apply_patch(resources: list[dict[str, Any]], patch: dict[str, Any], where: Path) -> None:
    if set(patch) != {"target", "patch"} or set(patch["target"]) - {"kind", "name"}:
        raise KustomizeError(f"{where}: only inline JSON6902 patches with target kind/name")
    target = patch["target"]
    matches = [
        r
        for r in resources
        if r["kind"] == target.get("kind", r["kind"])
        and r["metadata"]["name"] == target.get("name", r["metadata"]["name"])
    ]
    if not matches:
        raise KustomizeError(f"{where}: patch target {target} matches nothing")
    operations = yaml.safe_load(patch["patch"])
    if not isinstance(operations, list):
        raise KustomizeError(f"{where}: patch for {target} is not a JSON6902 list")
    for resource in matches:
        for operation in operations:
            json_patch(resource, operation)


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise KustomizeError(f"bad JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(document: dict[str, Any], operation: dict[str, Any]) -> None:
    """One RFC 6902 operation (add, replace, remove), in place; strict about missing paths."""
    op, parts = operation["op"], _pointer(operation["path"])
    parent: Any = document
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    value = copy.deepcopy(operation.get("value"))
    if isinstance(parent, list):
        if op == "add":
            parent.insert(len(parent) if last == "-" else int(last), value)
        elif op == "replace":
            parent[int(last)] = value
        elif op == "remove":
            del parent[int(last)]
        else:
            raise KustomizeError(f"unsupported op {op}")
        return
    if op == "add":
        parent[last] = value
    elif op == "replace":
        if last not in parent:
            raise KustomizeError(f"replace: {operation['path']} does not exist")
        parent[last] = value
    elif op == "remove":
        del parent[last]
    else:
        raise KustomizeError(f"unsupported op {op}")


def _set_image(resources: list[dict[str, Any]], image: dict[str, Any]) -> None:
    for resource in resources:
        spec = resource.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            name, _, tag = container["image"].partition(":")
            if name != image["name"]:
                continue
            new_name = image.get("newName", name)
            new_tag = image.get("newTag", tag)
            container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name
