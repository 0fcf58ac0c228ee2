"""docker-compose.yml, the Dockerfile and deploy/ (Prometheus, Kubernetes, KEDA) agree with config/defaults.toml
and the packaging."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import SecretStr

from ticket_enricher.config.settings import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
K8S_POSTGRES = K8S / "postgres"
SECRET_NAME = "ticket-enricher-secrets"


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_worker_service_scales() -> None:
    worker = compose()["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker


def test_compose_names_the_configured_group_and_a_real_listener() -> None:
    services = compose()["services"]
    defaults = load_settings()
    kafka_env = services["kafka"]["environment"]
    listeners = kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    for name in ("topics", "worker", "sample"):
        bootstrap = services[name]["environment"]["TICKET_ENRICHER_KAFKA__BOOTSTRAP_SERVERS"]
        assert f"PLAINTEXT://{bootstrap}" in listeners.split(",")
    assert services["worker"]["environment"]["TICKET_ENRICHER_KAFKA__GROUP_ID"] == defaults.kafka.group_id
    assert int(kafka_env["KAFKA_NUM_PARTITIONS"]) == defaults.topics.partitions
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # topics come from `topics create`
    assert services["topics"]["command"] == ["topics", "create"]


def test_compose_broker_version_matches_the_local_broker() -> None:
    from ticket_enricher.localkafka.broker import KAFKA_VERSION

    image = compose()["services"]["kafka"]["image"]
    assert image == f"apache/kafka:{KAFKA_VERSION}"
    pom = (ROOT / "localkafka" / "pom.xml").read_text()
    assert f"<kafka.version>{KAFKA_VERSION}</kafka.version>" in pom


def test_dockerfile_copies_every_package_and_runs_as_non_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    folders = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values()
    for folder in sorted({f.split("/")[0] for f in folders}):  # a sub-package is copied with its parent's folder
        assert re.search(rf"^COPY {folder} {folder}$", dockerfile, re.M), folder
    user = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert user and user[-1] not in {"root", "0"}


# --- deploy/: helpers -------------------------------------------------------------------------------------------


def deploy_yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yml", ".yaml"})


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def k8s_documents() -> list[dict[str, Any]]:
    """Every resource `kubectl apply -k deploy/kubernetes` would create, in kustomization order."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in load_all(K8S / name)]


def k8s(kind: str) -> dict[str, Any]:
    found = [doc for doc in k8s_documents() if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def configmap_env() -> dict[str, str]:
    return k8s("ConfigMap")["data"]


def pod_spec() -> dict[str, Any]:
    return k8s("Deployment")["spec"]["template"]["spec"]


def worker_container() -> dict[str, Any]:
    containers = pod_spec()["containers"]
    assert len(containers) == 1
    return containers[0]


def kafka_trigger() -> dict[str, Any]:
    triggers = k8s("ScaledObject")["spec"]["triggers"]
    assert [t["type"] for t in triggers] == ["kafka"]
    return triggers[0]


def container_port(port: int | str) -> int:
    """A probe's or Service's port, by number or by the container port's name."""
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in worker_container()["ports"]}
    return int(named[port])


def dockerfile_user() -> str:
    return re.findall(r"^USER (\S+)$", (ROOT / "Dockerfile").read_text(), re.M)[-1]


def secret_env_names() -> set[str]:
    """The environment variables Settings reads secrets from (SecretStr fields, by their alias)."""
    return {str(field.validation_alias) for field in Settings.model_fields.values()
            if SecretStr in getattr(field.annotation, "__args__", (field.annotation,))}


def settings_from_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    return load_settings()


def seconds(duration: str | int) -> float:
    """A compose duration such as "45s" or "1m30s"."""
    if isinstance(duration, int):
        return float(duration)
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, duration
    return int(parts[1] or 0) * 60.0 + int(parts[2] or 0)


# --- deploy/: tests ---------------------------------------------------------------------------------------------


def test_every_deploy_yaml_file_parses() -> None:
    files = deploy_yaml_files()
    assert DEPLOY / "prometheus" / "prometheus.yml" in files and K8S / "kustomization.yaml" in files
    for path in files:
        docs = load_all(path)
        assert docs and all(isinstance(doc, dict) for doc in docs), path
    for doc in k8s_documents():
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], doc


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(listed) == sorted(on_disk)
    assert len(listed) == len(set(listed))


def test_configmap_is_valid_settings_naming_the_configured_group_and_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings()
    env = configmap_env()
    assert all(name.startswith(ENV_PREFIX) for name in env), "only settings in the ConfigMap"
    # Every key is a real setting with a valid value (Settings forbids unknown keys and checks SASL completeness).
    # the Secret supplies the provenance key the ConfigMap's signing setting needs (a placeholder here)
    settings = settings_from_env(monkeypatch, env | {"TICKET_ENRICHER_PROVENANCE_KEY": "from-the-secret"})
    assert settings.retry.sign_provenance, "replicas sign the retry headers they write"
    assert settings.kafka.group_id == defaults.kafka.group_id
    assert settings.ops.http_port == defaults.ops.http_port
    assert settings.topics == defaults.topics
    topic_keys = {name for name in env if name.startswith(f"{ENV_PREFIX}TOPICS__")}
    assert f"{ENV_PREFIX}TOPICS__TICKETS" in topic_keys
    for name in topic_keys:
        assert env[name] == str(getattr(defaults.topics, name.removeprefix(f"{ENV_PREFIX}TOPICS__").lower()))
    # Kubernetes specifics: replicas share no SQLite file, logs go to a shipper, the broker wants SASL over TLS.
    assert settings.memory.backend == "mem0"
    assert settings.ops.log_format == "json"
    assert settings.kafka.security_protocol == "SASL_SSL" and settings.kafka.sasl_mechanism == "SCRAM-SHA-512"
    assert settings.kafka.sasl_username


def test_compose_worker_environment_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    env = compose()["services"]["worker"]["environment"]
    settings = settings_from_env(monkeypatch, env)
    assert settings.ops.http_port == load_settings().ops.http_port


def test_deployment_scaledobject_and_compose_name_the_configured_group_and_topic() -> None:
    defaults = load_settings()
    env = configmap_env()
    metadata = kafka_trigger()["metadata"]
    assert env[f"{ENV_PREFIX}KAFKA__GROUP_ID"] == defaults.kafka.group_id
    assert metadata["consumerGroup"] == defaults.kafka.group_id
    assert compose()["services"]["worker"]["environment"][f"{ENV_PREFIX}KAFKA__GROUP_ID"] == defaults.kafka.group_id
    assert metadata["topic"] == defaults.topics.tickets == env[f"{ENV_PREFIX}TOPICS__TICKETS"]
    assert metadata["offsetResetPolicy"] == defaults.kafka.auto_offset_reset
    assert metadata["bootstrapServers"] == env[f"{ENV_PREFIX}KAFKA__BOOTSTRAP_SERVERS"]
    container = worker_container()
    assert container["args"] == ["run"]
    assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == [k8s("ConfigMap")["metadata"]["name"]]


def test_every_place_uses_the_configured_ops_port() -> None:
    port = load_settings().ops.http_port
    assert int(configmap_env()[f"{ENV_PREFIX}OPS__HTTP_PORT"]) == port
    assert int(compose()["services"]["worker"]["environment"][f"{ENV_PREFIX}OPS__HTTP_PORT"]) == port
    assert re.findall(r"^EXPOSE (\d+)$", (ROOT / "Dockerfile").read_text(), re.M) == [str(port)]
    ports = worker_container()["ports"]
    assert [(p["name"], p["containerPort"]) for p in ports] == [("metrics", port)]
    annotations = k8s("Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and int(annotations["prometheus.io/port"]) == port
    assert annotations["prometheus.io/path"] == "/metrics"
    service = k8s("Service")["spec"]
    assert service["selector"].items() <= k8s("Deployment")["spec"]["template"]["metadata"]["labels"].items()
    assert [(p["port"], container_port(p["targetPort"])) for p in service["ports"]] == [(port, port)]


def test_probes_call_healthz_and_readyz_on_the_metrics_port() -> None:
    port = load_settings().ops.http_port
    container = worker_container()
    liveness, readiness = container["livenessProbe"]["httpGet"], container["readinessProbe"]["httpGet"]
    assert liveness["path"] == "/healthz" and container_port(liveness["port"]) == port
    assert readiness["path"] == "/readyz" and container_port(readiness["port"]) == port
    test = compose()["services"]["worker"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"] and "urllib.request" in test[3]
    assert f"http://127.0.0.1:{port}/healthz" in test[3]


def test_pod_runs_as_the_dockerfiles_non_root_user_on_a_read_only_root() -> None:
    uid = dockerfile_user()
    assert uid.isdigit() and uid != "0", "the Dockerfile's USER must be a numeric non-root uid"
    pod, container = pod_spec(), worker_container()
    context = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    assert context["runAsNonRoot"] is True and context["runAsUser"] == int(uid)
    assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
    # The writable places the image needs are emptyDirs: /data (its home and memory path) and /tmp.
    empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert {"/data", "/tmp"} <= mounts.keys() and {mounts["/data"], mounts["/tmp"]} <= empty_dirs
    resources = container["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys() and {"cpu", "memory"} <= resources["limits"].keys()


def test_shutdown_grace_outlasts_the_drain() -> None:
    drain = load_settings().worker.drain_timeout_seconds
    assert pod_spec()["terminationGracePeriodSeconds"] > drain
    assert seconds(compose()["services"]["worker"]["stop_grace_period"]) > drain


def test_secrets_are_referenced_but_no_secret_is_in_the_repository() -> None:
    container = worker_container()
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]
            if "secretKeyRef" in e.get("valueFrom", {})}
    # PGPASSWORD is for a DSN without a password; the Postgres variant takes its whole DSN from a Secret instead
    assert set(refs) == secret_env_names() - {"PGPASSWORD"} == {"MEM0_API_KEY", "OPENAI_API_KEY",
                                                                   "KAFKA_SASL_PASSWORD",
                                                                   "TICKET_ENRICHER_PROVENANCE_KEY"}
    assert all(ref["name"] == SECRET_NAME and ref["key"] == name for name, ref in refs.items())
    assert all("value" not in e for e in container["env"]), "secrets only by reference"
    assert not secret_env_names() & configmap_env().keys()
    auth = k8s("TriggerAuthentication")["spec"]
    assert {r["name"] for r in auth["secretTargetRef"]} == {SECRET_NAME}
    assert {r["key"] for r in auth["secretTargetRef"]} <= secret_env_names()
    # No Secret manifest anywhere in the repository's YAML (kubectl create secret ..., see deployment.yaml).
    skip = {".git", ".venv", "node_modules", "build", "dist"}
    for path in ROOT.rglob("*"):
        if path.suffix not in {".yml", ".yaml"} or skip & set(path.relative_to(ROOT).parts):
            continue
        text = path.read_text()
        assert not re.search(r"^\s*kind:\s*[\"']?Secret[\"']?\s*$", text, re.M), path
        try:
            docs = load_all(path)
        except yaml.YAMLError:
            continue
        for doc in docs:
            assert not (isinstance(doc, dict) and doc.get("kind") == "Secret"), path
    assert "kubectl create secret generic " + SECRET_NAME in (K8S / "deployment.yaml").read_text()


def test_prometheus_scrapes_every_worker_replica() -> None:
    port = load_settings().ops.http_port
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = [job for job in config["scrape_configs"] if "dns_sd_configs" in job]
    assert len(jobs) == 1
    job = jobs[0]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    [sd] = job["dns_sd_configs"]
    assert (sd["names"], sd["type"], sd["port"]) == (["worker"], "A", port)  # one A record per replica
    services = compose()["services"]
    assert "worker" in services
    prometheus = services["prometheus"]
    assert re.fullmatch(r"prom/prometheus:v3\.\d+\.\d+", prometheus["image"])
    mounts = [v.split(":") for v in prometheus["volumes"]]
    assert ["./deploy/prometheus/prometheus.yml", "/etc/prometheus/prometheus.yml", "ro"] in mounts
    assert "9090:9090" in prometheus["ports"]


def test_keda_scales_the_deployment_on_group_lag_up_to_the_partitions() -> None:
    defaults = load_settings()
    env = configmap_env()
    spec = k8s("ScaledObject")["spec"]
    assert k8s("ScaledObject")["apiVersion"] == "keda.sh/v1alpha1"
    target = spec["scaleTargetRef"]
    assert target.get("kind", "Deployment") == "Deployment" and target["name"] == k8s("Deployment")["metadata"]["name"]
    assert "replicas" not in k8s("Deployment")["spec"], "KEDA owns the replica count"
    assert spec["maxReplicaCount"] == defaults.topics.partitions
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    trigger = kafka_trigger()
    assert int(trigger["metadata"]["lagThreshold"]) > 0
    # SASL and TLS as the worker connects (ConfigMap), in KEDA's spelling.
    keda_sasl = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}
    assert trigger["metadata"]["sasl"] == keda_sasl[env[f"{ENV_PREFIX}KAFKA__SASL_MECHANISM"]]
    assert (trigger["metadata"]["tls"] == "enable") == env[f"{ENV_PREFIX}KAFKA__SECURITY_PROTOCOL"].endswith("SSL")
    auth = k8s("TriggerAuthentication")
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    refs = auth["spec"].get("secretTargetRef", []) + auth["spec"].get("configMapTargetRef", [])
    assert {r["parameter"] for r in refs} <= {"sasl", "username", "password", "tls", "ca", "cert", "key"}
    assert {r["parameter"] for r in refs} >= {"username", "password"}
    for ref in auth["spec"].get("configMapTargetRef", []):
        assert ref["name"] == k8s("ConfigMap")["metadata"]["name"] and ref["key"] in env


def test_deployment_runs_the_packaged_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert worker_container()["image"] == f"ticket-enricher:{version}"


# --- PostgreSQL: the compose service and the Kubernetes variant ------------------------------------------------


def test_compose_workers_share_the_postgres_service(monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose()["services"]
    postgres, worker = services["postgres"], services["worker"]
    assert re.fullmatch(r"postgres:\d+", postgres["image"]), "the official image, pinned to a major version"
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    env = worker["environment"]
    settings = settings_from_env(monkeypatch, env)
    assert settings.memory.backend == "postgres"
    dsn = urlsplit(settings.memory.dsn.get_secret_value())
    assert dsn.password is None, "the password comes from PGPASSWORD, not the DSN"
    pg_env = postgres["environment"]
    assert (dsn.hostname, dsn.port, dsn.username, dsn.path) == (
        "postgres", 5432, pg_env["POSTGRES_USER"], "/" + pg_env["POSTGRES_DB"])
    assert env["PGPASSWORD"] == pg_env["POSTGRES_PASSWORD"]
    assert "ports" not in postgres, "the database is reachable on the compose network only"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])


def postgres_overlay() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kustomization = yaml.safe_load((K8S_POSTGRES / "kustomization.yaml").read_text())
    return kustomization, [yaml.safe_load((K8S_POSTGRES / p["path"]).read_text())
                           for p in kustomization["patches"]]


def test_postgres_variant_patches_the_base_and_takes_the_dsn_from_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    kustomization, patches = postgres_overlay()
    assert [(K8S_POSTGRES / r).resolve() for r in kustomization["resources"]] == [K8S.resolve()]
    assert {p.name for p in K8S_POSTGRES.glob("*.yaml")} == {"kustomization.yaml"} | {
        p["path"] for p in kustomization["patches"]}
    base = {(d["kind"], d["metadata"]["name"]): d for d in k8s_documents()}
    for patch in patches:
        assert (patch["kind"], patch["metadata"]["name"]) in base, "a patch must name a resource of the base"
    [config] = [p for p in patches if p["kind"] == "ConfigMap"]
    [deployment] = [p for p in patches if p["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["name"] == worker_container()["name"]
    deleted = {e["name"] for e in container["env"] if e.get("$patch") == "delete"}
    added = {e["name"]: e for e in container["env"] if "$patch" not in e}
    assert deleted == {"MEM0_API_KEY"} and set(added) == {f"{ENV_PREFIX}MEMORY__DSN"}
    ref = added[f"{ENV_PREFIX}MEMORY__DSN"]["valueFrom"]["secretKeyRef"]
    assert ref["key"] == f"{ENV_PREFIX}MEMORY__DSN" and "value" not in added[f"{ENV_PREFIX}MEMORY__DSN"]
    assert f"create secret generic {ref['name']}" in (K8S_POSTGRES / "kustomization.yaml").read_text()
    # What the pod gets: the base ConfigMap with the patch over it, and the DSN from the Secret.
    env = configmap_env() | config["data"] | {f"{ENV_PREFIX}MEMORY__DSN": "postgresql://te:pw@db:5432/te",
                                                   "TICKET_ENRICHER_PROVENANCE_KEY": "from-the-secret"}
    settings = settings_from_env(monkeypatch, env)
    assert settings.memory.backend == "postgres" and settings.topics == load_settings().topics
    remaining = {e["name"] for e in worker_container()["env"]} - deleted
    assert remaining == {"OPENAI_API_KEY", "KAFKA_SASL_PASSWORD", "TICKET_ENRICHER_PROVENANCE_KEY"}
