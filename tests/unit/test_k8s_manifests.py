"""The Kubernetes manifests: every overlay renders and is valid, offline and strictly.

Each overlay is rendered with `kubectl kustomize` (or, where kubectl is missing, a pinned kustomize
built from its Go module into a cache directory), and every resource is validated against the
schemas of a pinned Kubernetes version (`kubernetes-validate` bundles them). Strimzi `KafkaTopic`
resources are custom resources the bundled schemas do not know: they are validated against the
schema below, never skipped.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from contracts.topics import ALL_TOPICS, dlq

pytestmark = pytest.mark.timeout(900)  # a fresh machine may first build kustomize (a few minutes)

K8S_DIR = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S_DIR / "overlays").iterdir() if (p / "kustomization.yaml").exists())
KUBERNETES_VERSION = "1.33.0"
KUSTOMIZE_VERSION = "v5.7.1"  # the last kustomize that builds with the machine's Go 1.26
STAFF_APIS = ("tasks", "signing", "documents", "timeline", "automation", "notifications")
SERVICES = ("portal", *STAFF_APIS)
MAILING_SERVICES = ("portal", "tasks", "notifications")  # AKKOORD_SMTP_URL: required in production
# What an overlay runs beside Akkoord's services: the dev cluster's mail sink.
SUPPORT = {"dev": {"mailpit"}, "prod": set()}

_CONFIG_VALUE = {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}
KAFKA_TOPIC_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"enum": ["kafka.strimzi.io/v1beta2", "kafka.strimzi.io/v1"]},
        "kind": {"const": "KafkaTopic"},
        "metadata": {
            "type": "object",
            "required": ["name", "labels"],
            "properties": {
                # Kubernetes object names: DNS-1123 subdomains (so no dots-as-separators surprises).
                "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"},
                "namespace": {"type": "string"},
                "labels": {
                    "type": "object",
                    "required": ["strimzi.io/cluster"],
                    "additionalProperties": {"type": "string"},
                },
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "additionalProperties": False,
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["topicName", "partitions", "replicas", "config"],
            "properties": {
                "topicName": {"type": "string", "pattern": r"^[a-zA-Z0-9._-]{1,249}$"},
                "partitions": {"type": "integer", "minimum": 1},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
                "config": {"type": "object", "required": ["retention.ms"], "additionalProperties": _CONFIG_VALUE},
            },
        },
    },
}


def _kustomize_command() -> list[str]:
    if kubectl := shutil.which("kubectl"):
        return [kubectl, "kustomize"]
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "akkoord" / f"kustomize-{KUSTOMIZE_VERSION}"
    )
    binary = cache / "kustomize"
    if not binary.exists():
        go = shutil.which("go") or "/usr/local/go/bin/go"
        assert Path(go).exists(), "neither kubectl nor Go is installed: one is needed to render the manifests"
        subprocess.run(
            [go, "install", f"sigs.k8s.io/kustomize/kustomize/v5@{KUSTOMIZE_VERSION}"],
            env={**os.environ, "GOBIN": str(cache), "GOFLAGS": "-buildvcs=false"},
            check=True,
            timeout=840,
        )
    return [str(binary), "build"]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    command = _kustomize_command()
    out = {}
    for overlay in OVERLAYS:
        result = subprocess.run(
            [*command, str(K8S_DIR / "overlays" / overlay)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"{overlay} does not render:\n{result.stderr}"
        out[overlay] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return out


def _of_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def _services(resources: list[dict]) -> dict[str, dict]:
    """Akkoord's own Deployments (not an overlay's supporting ones)."""
    return {name: d for name, d in _of_kind(resources, "Deployment").items() if name in SERVICES}


def test_there_is_a_dev_and_a_prod_overlay():
    assert {"dev", "prod"} <= set(OVERLAYS)


def test_every_resource_of_every_overlay_is_valid_for_the_pinned_kubernetes(rendered):
    errors = []
    for overlay, resources in rendered.items():
        for resource in resources:
            where = f"{overlay}: {resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
            try:
                if resource.get("kind") == "KafkaTopic":
                    jsonschema.validate(resource, KAFKA_TOPIC_SCHEMA)
                else:
                    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
            except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
                errors.append(f"{where}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                errors.append(f"{where}: no schema for this kind in Kubernetes {KUBERNETES_VERSION}")
    assert errors == []


def test_the_topic_schema_refuses_a_topic_without_retention_or_with_an_unknown_field():
    topic = {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaTopic",
        "metadata": {"name": "t", "labels": {"strimzi.io/cluster": "c"}},
        "spec": {"topicName": "t", "partitions": 3, "replicas": 3, "config": {"retention.ms": "1"}},
    }
    jsonschema.validate(topic, KAFKA_TOPIC_SCHEMA)
    for broken in (
        {**topic, "spec": {**topic["spec"], "config": {}}},
        {**topic, "spec": {**topic["spec"], "partition": 3}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, KAFKA_TOPIC_SCHEMA)


def test_every_service_is_a_hardened_deployment_with_probes_and_resources(rendered):
    for overlay, resources in rendered.items():
        deployments = _of_kind(resources, "Deployment")
        assert set(deployments) == set(SERVICES) | SUPPORT[overlay], overlay
        for name, deployment in deployments.items():
            pod = deployment["spec"]["template"]["spec"]
            for container in pod["containers"]:
                where = f"{overlay}: {name}/{container['name']}"
                assert {"readinessProbe", "livenessProbe"} <= set(container), where
                if name in SERVICES:
                    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}, where
                    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}, where
                resources_ = container.get("resources", {})
                assert {"cpu", "memory"} <= set(resources_.get("requests", {})), where
                assert {"cpu", "memory"} <= set(resources_.get("limits", {})), where
                security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
                assert security.get("runAsNonRoot") is True, where
                assert security.get("readOnlyRootFilesystem") is True, where
                assert security.get("allowPrivilegeEscalation") is False, where


def test_every_deployment_has_a_service_an_autoscaler_and_a_disruption_budget_that_allows_a_drain(rendered):
    for overlay, resources in rendered.items():
        services, hpas = _of_kind(resources, "Service"), _of_kind(resources, "HorizontalPodAutoscaler")
        budgets = _of_kind(resources, "PodDisruptionBudget")
        for name, deployment in _services(resources).items():
            where = f"{overlay}: {name}"
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(), where
            assert services[name]["spec"]["selector"].items() <= labels.items(), where
            ports = {p["name"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
            assert {p["targetPort"] for p in services[name]["spec"]["ports"]} <= ports, where
            assert hpas[name]["spec"]["scaleTargetRef"] == {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": name,
            }, where
            assert budgets[name]["spec"]["selector"]["matchLabels"].items() <= labels.items(), where
            # A budget that demands every replica of the smallest deployment blocks node drains forever.
            min_replicas = hpas[name]["spec"].get("minReplicas", 1)
            budget = budgets[name]["spec"]
            if "minAvailable" in budget:
                assert isinstance(budget["minAvailable"], int) and budget["minAvailable"] < min_replicas, where
            else:
                assert budget.get("maxUnavailable") not in (0, "0%"), where


def _route(ingress: dict, path: str) -> tuple[str, str]:
    """Which service an nginx ingress (regex paths, rewrite-target) sends `path` to, and as what path."""
    annotations = ingress["metadata"].get("annotations", {})
    assert annotations.get("nginx.ingress.kubernetes.io/use-regex") == "true"
    rewrite = annotations.get("nginx.ingress.kubernetes.io/rewrite-target")
    rules = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    # ingress-nginx orders regex locations longest first and takes the first that matches.
    for candidate in sorted(rules, key=lambda p: len(p["path"]), reverse=True):
        if match := re.match(candidate["path"], path):
            target = re.sub(r"\$(\d)", lambda m: match.group(int(m.group(1))), rewrite) if rewrite else path
            return candidate["backend"]["service"]["name"], target
    raise AssertionError(f"no ingress path matches {path}")


def test_the_ingress_sends_root_to_the_portal_and_each_staff_api_under_api_slash_its_name(rendered):
    for overlay, resources in rendered.items():
        ingresses = _of_kind(resources, "Ingress")
        assert len(ingresses) == 1, overlay
        ingress = next(iter(ingresses.values()))
        services = _of_kind(resources, "Service")
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] in services, overlay
        assert _route(ingress, "/") == ("portal", "/")
        assert _route(ingress, "/p/some-magic-link") == ("portal", "/p/some-magic-link")
        assert _route(ingress, "/api/v1/session") == ("portal", "/api/v1/session")
        for name in STAFF_APIS:
            assert _route(ingress, f"/api/{name}/v1/things") == (name, "/v1/things"), overlay


def test_the_ingress_reaches_only_the_public_port_and_operations_live_on_another(rendered):
    # /metrics, /docs, /openapi.json, /asyncapi.json are served on the ops port only (services/runtime/ops.py)
    for overlay, resources in rendered.items():
        ingress = next(iter(_of_kind(resources, "Ingress").values()))
        services = _of_kind(resources, "Service")
        backends = [p["backend"]["service"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
        assert {b["port"]["name"] for b in backends} == {"http"}, overlay
        for name, deployment in _services(resources).items():
            [container] = deployment["spec"]["template"]["spec"]["containers"]
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            assert ports["ops"] != ports["http"], f"{overlay}: {name}"
            assert env.get(f"{name.upper()}_OPS_PORT") == str(ports["ops"]), f"{overlay}: {name}"
            service_ports = {p["name"]: p["targetPort"] for p in services[name]["spec"]["ports"]}
            assert service_ports == {"http": "http", "ops": "ops"}, f"{overlay}: {name}"


def test_every_topic_and_its_dead_letter_topic_is_declared_with_partitions_and_retention(rendered):
    wanted = {t for topic in ALL_TOPICS for t in (topic, dlq(topic))}
    for overlay, resources in rendered.items():
        declared = {r["spec"]["topicName"]: r["spec"] for r in resources if r["kind"] == "KafkaTopic"}
        assert wanted <= set(declared), f"{overlay} misses {sorted(wanted - set(declared))}"
        for name in wanted:
            assert declared[name]["partitions"] >= 1 and int(declared[name]["config"]["retention.ms"]) > 0


def test_every_deployment_takes_its_configuration_from_the_shared_config_map_and_secret(rendered):
    for overlay, resources in rendered.items():
        config_maps = _of_kind(resources, "ConfigMap")
        for name, deployment in _services(resources).items():
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                refs = container.get("envFrom", [])
                maps = [r["configMapRef"]["name"] for r in refs if "configMapRef" in r]
                secrets = [r["secretRef"]["name"] for r in refs if "secretRef" in r]
                assert maps and all(m in config_maps for m in maps), f"{overlay}: {name}"
                assert secrets, f"{overlay}: {name} reads no secret"
                env = {e["name"]: e.get("value") for e in container.get("env", [])}
                port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
                assert env.get(f"{name.upper()}_PORT") == str(port), f"{overlay}: {name}"


def test_the_dev_overlay_sends_every_mail_to_a_pinned_mail_sink_in_the_cluster(rendered):
    # given the development cluster
    resources = rendered["dev"]
    [secret] = [r for r in resources if r["kind"] == "Secret" and r["metadata"]["name"].startswith("akkoord-secrets")]
    smtp_url = base64.b64decode(secret["data"]["AKKOORD_SMTP_URL"]).decode()
    # then the services' SMTP URL names the sink's Service and its SMTP port, plain (no credentials, no TLS)
    url = urlsplit(smtp_url)
    assert url.scheme == "smtp" and url.username is None, smtp_url
    sink = _of_kind(resources, "Service")[url.hostname]
    [port] = [p for p in sink["spec"]["ports"] if p["port"] == url.port]
    [deployment] = [
        d
        for d in _of_kind(resources, "Deployment").values()
        if sink["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
    ]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert port["targetPort"] in {p["name"] for p in container["ports"]}
    # and the sink's image is a pinned version, never a moving tag
    image, _, tag = container["image"].rpartition(":")
    assert image and re.fullmatch(r"v?\d+\.\d+\.\d+", tag), container["image"]
    # and every service that sends mail reads that secret
    for name in MAILING_SERVICES:
        [akkoord] = _services(resources)[name]["spec"]["template"]["spec"]["containers"]
        assert secret["metadata"]["name"] in {r["secretRef"]["name"] for r in akkoord["envFrom"] if "secretRef" in r}


def test_production_runs_no_mail_sink_and_takes_its_smtp_server_from_the_clusters_secret(rendered):
    resources = rendered["prod"]
    assert "mailpit" not in _of_kind(resources, "Deployment")
    assert all("AKKOORD_SMTP_URL" not in c.get("data", {}) for c in _of_kind(resources, "ConfigMap").values())
