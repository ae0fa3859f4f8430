"""Static checks of the deployment files (no network, no Docker daemon).

Parses docker-compose.yml and deploy/k8s/*.yaml with PyYAML and checks that
they agree with each other and with the gunicorn configs; then asks the
docker-compose binary to validate the compose file (`config -q`).
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
GUNICORN_DIR = ROOT / "deploy" / "gunicorn"
K8S_DIR = ROOT / "deploy" / "k8s"

HTTP_SERVICES = {"ingest": 8001, "query": 8002}
PROJECTOR_PORT = 8003  # the projector's probe and metrics listener
APP_SERVICES = ("ingest", "query", "timeline")
PROBE_PORTS = {**HTTP_SERVICES, "timeline": PROJECTOR_PORT}


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose() -> dict:
    with COMPOSE_FILE.open() as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict) and "services" in data
    return data


@pytest.fixture(scope="module")
def k8s_docs() -> list[dict]:
    files = sorted(K8S_DIR.glob("*.yaml"))
    assert files, f"no manifests in {K8S_DIR}"
    docs = []
    for path in files:
        with path.open() as fh:
            for doc in yaml.safe_load_all(fh):
                if doc is None:
                    continue
                assert "apiVersion" in doc and "kind" in doc, path
                docs.append(doc)
    return docs


def _objects(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _workloads(docs):
    """Deployments and StatefulSets (ingest is one: its outbox needs a volume of its own)."""
    return _objects(docs, "Deployment") | _objects(docs, "StatefulSet")


def _container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _gunicorn_settings(name: str, monkeypatch, **env) -> dict:
    for var in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_LOGLEVEL"):
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(GUNICORN_DIR / f"{name}.conf.py"))


def _bind_port(bind: str) -> int:
    host, _, port = bind.rpartition(":")
    assert host == "0.0.0.0", bind
    return int(port)


def _compose_target_ports(service: dict) -> list[int]:
    ports = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.append(int(entry["target"]))
        else:
            ports.append(int(str(entry).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def _probe_port(container: dict, probe: dict) -> int:
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    assert port in named, f"probe refers to unknown port name {port!r}"
    return named[port]


# ---------------------------------------------------------------- gunicorn


@pytest.mark.parametrize("name,port", sorted(HTTP_SERVICES.items()))
def test_gunicorn_defaults(name, port, monkeypatch):
    cfg = _gunicorn_settings(name, monkeypatch)
    assert _bind_port(cfg["bind"]) == port
    assert cfg["workers"] == 2
    assert cfg["timeout"] == 30
    assert cfg["graceful_timeout"] == 30
    # the app writes JSON access lines with request ids; gunicorn's own lines go through the same handler
    assert cfg["accesslog"] is None and cfg["errorlog"] == "-"
    handler = cfg["logconfig_dict"]["handlers"]["json"]
    assert handler == {"()": "shared.logs.json_handler", "service": name}
    assert cfg["logconfig_dict"]["root"]["handlers"] == ["json"]
    assert cfg["wsgi_app"] == f"services.{name}.wsgi:app"


@pytest.mark.parametrize("name", sorted(HTTP_SERVICES))
def test_gunicorn_prepares_multiprocess_metrics(name, monkeypatch, tmp_path):
    cfg = _gunicorn_settings(name, monkeypatch)
    stale = tmp_path / "counter_123.db"
    stale.write_bytes(b"old samples")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    cfg["on_starting"](None)
    assert not stale.exists(), "samples of an earlier run would be counted again"
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    cfg["on_starting"](None)
    made = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    try:
        assert os.path.isdir(made) and made != str(tmp_path)
    finally:
        os.rmdir(made)
    assert callable(cfg["child_exit"]) and callable(cfg["worker_exit"])


@pytest.mark.parametrize("name", sorted(HTTP_SERVICES))
def test_gunicorn_reads_environment(name, monkeypatch):
    cfg = _gunicorn_settings(name, monkeypatch, WEB_CONCURRENCY="5", GUNICORN_BIND="0.0.0.0:9999")
    assert cfg["workers"] == 5
    assert cfg["bind"] == "0.0.0.0:9999"


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile():
    text = DOCKERFILE.read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    users = [ln.split(None, 1)[1] for ln in lines if ln.upper().startswith("USER ")]
    assert users, "Dockerfile must switch to a non-root user"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert "pip install ." in text
    exposed = {int(p) for ln in lines if ln.upper().startswith("EXPOSE ") for p in ln.split()[1:]}
    assert exposed >= set(PROBE_PORTS.values())


# ---------------------------------------------------------------- compose

KAFKA_NODES = ("kafka-1", "kafka-2", "kafka-3")


def test_compose_infrastructure(compose):
    services = compose["services"]
    ids = set()
    for name in KAFKA_NODES:  # three KRaft nodes, each broker and controller, one quorum
        kafka = services[name]
        assert kafka["image"] == "apache/kafka:4.1.1"
        env = kafka["environment"]
        assert str(env["KAFKA_PROCESS_ROLES"]) == "broker,controller"
        for key in ("KAFKA_NODE_ID", "KAFKA_LISTENERS", "CLUSTER_ID"):
            assert key in env, key
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
        assert int(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == 3
        assert int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == 3 and int(env["KAFKA_MIN_INSYNC_REPLICAS"]) == 2
        assert f"PLAINTEXT://{name}:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
        assert "healthcheck" in kafka
        ids.add(int(env["KAFKA_NODE_ID"]))
    assert ids == {1, 2, 3}

    mongo = services["mongo"]
    assert mongo["image"] == "mongo:7"
    assert "--replSet" in mongo["command"] and "rs0" in mongo["command"]
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])

    init = services["kafka-init"]
    command = " ".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    assert "/opt/kafka/bin/kafka-topics.sh" in command
    assert "--partitions ${STORYLINE_PARTITIONS:-6}" in command
    assert "--replication-factor 3 --config min.insync.replicas=2" in command
    assert all(init["depends_on"][n]["condition"] == "service_healthy" for n in KAFKA_NODES)


def test_compose_app_services(compose):
    services = compose["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1, f"app services use different images: {images}"
    for name in APP_SERVICES:
        svc = services[name]
        build = svc["build"]
        assert build["context"] == "."
        assert build["dockerfile"] == "deploy/Dockerfile"
        assert (ROOT / build["dockerfile"]).is_file()
        deps = svc["depends_on"]
        assert deps["kafka-init"]["condition"] == "service_completed_successfully"
        assert deps["mongo"]["condition"] == "service_healthy"
        assert svc["environment"]["STORYLINE_LOG"] == "kafka://kafka-1:9092,kafka-2:9092,kafka-3:9092"
        assert int(svc["environment"]["STORYLINE_REPLICATION_FACTOR"]) == 3
        assert int(svc["environment"]["STORYLINE_MIN_INSYNC_REPLICAS"]) == 2
        assert svc["environment"]["STORYLINE_STORE"].startswith("mongodb://mongo:27017/storyline")


@pytest.mark.parametrize("name,port", sorted(HTTP_SERVICES.items()))
def test_compose_http_service(compose, name, port, monkeypatch):
    svc = compose["services"][name]
    cfg = _gunicorn_settings(name, monkeypatch)
    assert _compose_target_ports(svc) == [_bind_port(cfg["bind"])] == [port]
    command = " ".join(svc["command"])
    assert command.startswith("gunicorn ")
    assert f"deploy/gunicorn/{name}.conf.py" in command
    health = " ".join(svc["healthcheck"]["test"])
    assert f":{port}/healthz" in health


def test_compose_timeline_is_scalable(compose):
    timeline = compose["services"]["timeline"]
    assert "ports" not in timeline  # no host port: `--scale timeline=3` would collide on it
    assert "container_name" not in timeline
    assert timeline["command"] == ["storyline", "project"]


def test_compose_timeline_probe(compose):
    timeline = compose["services"]["timeline"]
    assert int(timeline["environment"]["STORYLINE_PROJECTOR_PORT"]) == PROJECTOR_PORT
    assert [int(p) for p in timeline["expose"]] == [PROJECTOR_PORT]
    assert f":{PROJECTOR_PORT}/healthz" in " ".join(timeline["healthcheck"]["test"])
    assert int(timeline["stop_grace_period"].rstrip("s")) >= 10


# ---------------------------------------------------------------- kubernetes


def test_k8s_images_match_compose(compose, k8s_docs):
    compose_image = compose["services"]["ingest"]["image"]
    deployments = _workloads(k8s_docs)
    assert set(deployments) >= set(APP_SERVICES)
    for name in APP_SERVICES:
        assert _container(deployments[name])["image"] == compose_image, name


@pytest.mark.parametrize("name,port", sorted(HTTP_SERVICES.items()))
def test_k8s_http_deployment(k8s_docs, name, port, monkeypatch):
    cfg = _gunicorn_settings(name, monkeypatch)
    container = _container(_workloads(k8s_docs)[name])
    container_ports = [p["containerPort"] for p in container["ports"]]
    assert container_ports == [_bind_port(cfg["bind"])] == [port]

    live, ready = container["livenessProbe"], container["readinessProbe"]
    assert live["httpGet"]["path"] == "/healthz"
    assert ready["httpGet"]["path"] == "/readyz"
    assert _probe_port(container, live) == port
    assert _probe_port(container, ready) == port

    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert {"cpu", "memory"} <= set(resources["limits"])

    service = _objects(k8s_docs, "Service")[name]
    target = service["spec"]["ports"][0]["targetPort"]
    assert _probe_port(container, {"httpGet": {"port": target}}) == port
    labels = _workloads(k8s_docs)[name]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_k8s_timeline(k8s_docs):
    container = _container(_workloads(k8s_docs)["timeline"])
    assert container["command"] == ["storyline", "project"]
    assert {"requests", "limits"} <= set(container["resources"])
    assert "timeline" not in _objects(k8s_docs, "Service")
    env = {e["name"]: e["value"] for e in container["env"]}
    assert int(env["STORYLINE_PROJECTOR_PORT"]) == PROJECTOR_PORT
    assert [p["containerPort"] for p in container["ports"]] == [PROJECTOR_PORT]
    live, ready = container["livenessProbe"], container["readinessProbe"]
    assert live["httpGet"]["path"] == "/healthz" and ready["httpGet"]["path"] == "/readyz"
    assert _probe_port(container, live) == _probe_port(container, ready) == PROJECTOR_PORT


@pytest.mark.parametrize("name", APP_SERVICES)
def test_k8s_pods_are_scraped_where_metrics_are(k8s_docs, name):
    template = _workloads(k8s_docs)[name]["spec"]["template"]
    notes = template["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true"
    assert notes["prometheus.io/path"] == "/metrics"
    assert int(notes["prometheus.io/port"]) == PROBE_PORTS[name]
    ports = [p["containerPort"] for p in _container({"spec": {"template": template}})["ports"]]
    assert PROBE_PORTS[name] in ports


def test_k8s_config_values_are_accepted(k8s_docs):
    """The ConfigMap's values pass the same validation the services run at start."""
    from shared.config import Settings

    data = _objects(k8s_docs, "ConfigMap")["storyline-config"]["data"]
    settings = Settings.from_env({k: str(v) for k, v in data.items()})
    assert settings.log_level == data["STORYLINE_LOG_LEVEL"]
    assert (settings.replication_factor, settings.min_insync_replicas) == (3, 2)
    assert settings.lag_interval_s == int(data["STORYLINE_LAG_INTERVAL_SECONDS"])


def test_k8s_autoscalers(k8s_docs):
    hpas = _objects(k8s_docs, "HorizontalPodAutoscaler")
    deployments = _workloads(k8s_docs)
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()}
    assert targets >= set(HTTP_SERVICES)
    for hpa in hpas.values():
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["name"] in deployments and ref["kind"] == deployments[ref["name"]]["kind"]
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


# ---------------------------------------------------------------- docker-compose


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_compose_config_validates():
    command = _compose_command()
    if command is None:
        pytest.fail(
            "neither `docker-compose` nor `docker compose` is on PATH; "
            "run `apt-get install docker-compose` (the Makefile installs it)"
        )
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ingest_keeps_its_outbox_on_a_volume(compose, k8s_docs):
    """Accepted articles wait in the outbox while Kafka is down; a restarted or rescheduled
    ingest must find them, so the data dir is a volume in both deployments."""
    ingest = compose["services"]["ingest"]
    data_dir = ingest["environment"]["STORYLINE_DATA_DIR"]
    assert any(v.split(":")[1] == data_dir for v in ingest["volumes"])
    sts = _objects(k8s_docs, "StatefulSet")["ingest"]
    claim = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
    container = _container(sts)
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert {m["mountPath"] for m in container["volumeMounts"] if m["name"] == claim} == {env["STORYLINE_DATA_DIR"]}
