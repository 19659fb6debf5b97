"""The Helm chart (deploy/helm/bursa), rendered offline and checked as an operator would.

No cluster runs here: Helm's own engine (helm-python-sdk) renders and lints the chart, every
rendered manifest of a built-in kind is validated against Kubernetes' OpenAPI schemas in
strict mode (kubernetes-validate: unknown fields refused), and the values that matter are
checked: images, probes, resources, selectors against labels, hooks, policies, and who
talks to the key store with which credentials (each role's environment is also read by
Bursa's own Settings). Not tested: admission (webhooks, PodSecurity, quotas), scheduling,
the objects' behaviour, a real AppRole login from a pod, and the two custom resources
(ServiceMonitor, ExternalSecret), whose CRD schemas are not available offline: their
structure and references are checked here instead.
"""

import copy
import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate  # type: ignore[import-untyped]
import kubernetes_validate.utils  # type: ignore[import-untyped]
import pytest
import yaml

from bursa.cli.main import COMMANDS
from bursa.config.settings import Settings
from bursa.secrets.policies import ROLES, Use, may

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "bursa"
RELEASE = "exchange"
NAMESPACE = "trading"
# The chart's kubeVersion floor and the newest Kubernetes kubernetes-validate 1.37.0 ships.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("external-secrets.io/v1", "ExternalSecret"),
}
COMPONENT = "app.kubernetes.io/component"
ROLE_COMMANDS = {
    "api": ["api"],
    "engine": ["engine", "run"],
    "relay": ["events", "relay"],
    "scanner": ["custody", "scan"],
    "sweeper": ["custody", "sweep"],
    "mailer": ["mailer", "run"],
    "bots": ["bots", "run", "/etc/bursa/config/bots.yml"],
}
# The key-store policy (deploy/openbao, src/bursa/secrets/policies.py) each workload logs in
# with; the others (engine, relay, mailer, bots) never talk to the key store.
POLICIES = {"api": "api", "scanner": "sender", "sweeper": "sweeper", "migrations": "operator"}
VAULT_CREDENTIALS = "/etc/bursa/vault"
INGRESS_NAMESPACE = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}
}
MONITORING = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
# Every role on, and the optional parts: what a full production install might set.
EVERYTHING: dict[str, Any] = {
    "roles": {
        "mailer": {"enabled": True},
        # AppLogic runs in the API pods and calls their Management API.
        "api": {
            "env": {"BURSA_APPLOGIC_CONFIG": "/etc/bursa/config/applogic.yml"},
            "secretFiles": {"applogic.pem": "applogic-signing-key"},
            "egressToApi": True,
        },
        "bots": {"enabled": True},
    },
    "config": {
        "BURSA_MAILER_CONFIG": "/etc/bursa/config/mailer.yml",
        "BURSA_PUBLIC_URL": "https://exchange.example.com",
    },
    "configFiles": {
        "mailer.yml": "keychain: {}\n",
        "applogic.yml": "signing_key: {file: /etc/bursa/secrets/applogic.pem}\n",
        "bots.yml": "strategies: []\n",
    },
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "tls": [{"hosts": ["exchange.example.com"], "secretName": "exchange-tls"}],
    },
    "networkPolicy": {"apiFrom": [INGRESS_NAMESPACE], "metricsFrom": [MONITORING]},
    "kycStorage": {"existingClaim": "bursa-kyc"},
    "serviceMonitor": {"labels": {"release": "kube-prometheus-stack"}},
}

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    manifests: list[Manifest]
    notes: str

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] == kind]

    def one(self, kind: str, component: str) -> Manifest:
        found = [
            m for m in self.of_kind(kind) if m["metadata"]["labels"].get(COMPONENT) == component
        ]
        assert len(found) == 1, f"{len(found)} {kind} of {component}"
        return found[0]

    def workloads(self) -> list[Manifest]:
        """Deployments and Jobs: everything that makes pods."""
        return self.of_kind("Deployment") + self.of_kind("Job")


def render(chart: helm.Chart, values: dict[str, Any] | None = None) -> Rendered:
    files = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    manifests = [
        document
        for path, text in sorted(files.items())
        if path.endswith(".yaml")
        for document in yaml.safe_load_all(text)
        if document
    ]
    return Rendered(manifests, files.get("bursa/templates/NOTES.txt", ""))


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector as Kubernetes reads it (this chart uses matchLabels only)."""
    assert set(selector) <= {"matchLabels"}, selector
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def pod_labels(workload: Manifest) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def containers(workload: Manifest) -> list[Manifest]:
    found: list[Manifest] = workload["spec"]["template"]["spec"]["containers"]
    return found


def env_of(container: Manifest) -> dict[str, Any]:
    return {entry["name"]: entry.get("value", entry.get("valueFrom")) for entry in container["env"]}


def component(manifest: Manifest) -> str:
    name: str = manifest["metadata"]["labels"][COMPONENT]
    return name


def volumes(workload: Manifest) -> dict[str, Manifest]:
    return {v["name"]: v for v in workload["spec"]["template"]["spec"]["volumes"]}


def mounted_files(workload: Manifest, container: Manifest) -> dict[str, tuple[str, str, bool]]:
    """Every file a container sees from a Secret: path → (Secret, key, read-only)."""
    found = {}
    for mount in container["volumeMounts"]:
        secret: Manifest = volumes(workload)[mount["name"]].get("secret", {})
        for item in secret.get("items", []):
            path = f"{mount['mountPath']}/{item['path']}"
            found[path] = (secret["secretName"], item["key"], mount.get("readOnly", False))
    return found


def settings_of(
    rendered: Rendered, container: Manifest, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """What Bursa reads from the container's environment (its ConfigMap and plain values;
    of the Secret's variables only a stand-in Vault token, the others left unset)."""
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        (config,) = [
            c
            for c in rendered.of_kind("ConfigMap")
            if c["metadata"]["name"] == source["configMapRef"]["name"]
        ]
        environment |= config.get("data") or {}
    for entry in container["env"]:
        if "value" in entry:
            environment[entry["name"]] = entry["value"]
        elif entry["name"] == "BURSA_VAULT_TOKEN":
            environment[entry["name"]] = "stand-in"
    with monkeypatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("BURSA_")]:
            patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        return Settings()


@pytest.fixture(scope="module", autouse=True)
def schemas_read_once() -> Iterator[None]:
    """kubernetes-validate parses its 1.8 MB definitions file for every manifest: keep each
    schema parsed (the same files, read once) so the whole module stays within seconds."""
    with pytest.MonkeyPatch.context() as patch:
        read = kubernetes_validate.utils.schema_contents
        patch.setattr(kubernetes_validate.utils, "schema_contents", functools.cache(read))
        yield


@pytest.fixture(scope="module")
def chart() -> Iterator[helm.Chart]:
    with helm.Chart.load(CHART) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def default(chart: helm.Chart) -> Rendered:
    return render(chart)


@pytest.fixture(scope="module")
def everything(chart: helm.Chart) -> Rendered:
    return render(chart, EVERYTHING)


# The development option: a static token, one per custody role here.
TOKEN_MODE: dict[str, Any] = {
    "vault": {"auth": "token"},
    "roles": {
        "scanner": {"secretKeyOverrides": {"BURSA_VAULT_TOKEN": "vault-token-custody"}},
        "sweeper": {"secretKeyOverrides": {"BURSA_VAULT_TOKEN": "vault-token-custody"}},
    },
}


@pytest.fixture(scope="module")
def token_mode(chart: helm.Chart) -> Rendered:
    return render(chart, TOKEN_MODE)


@pytest.fixture(params=["default", "everything", "token_mode"])
def rendered(request: pytest.FixtureRequest) -> Rendered:
    found: Rendered = request.getfixturevalue(request.param)
    return found


@pytest.mark.parametrize(
    "values", [None, EVERYTHING, TOKEN_MODE], ids=["default", "everything", "token-mode"]
)
def test_the_chart_lints_without_warnings(values: dict[str, Any] | None) -> None:
    report = helm.lint(CHART, values, strict=True, kube_version="v1.33.0", namespace=NAMESPACE)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_for_kubernetes(rendered: Rendered, version: str) -> None:
    validated = set()
    for manifest in rendered.manifests:
        kind = (manifest["apiVersion"], manifest["kind"])
        if kind in CUSTOM_KINDS:
            continue  # no schema offline: checked by the tests below
        kubernetes_validate.validate(manifest, version, strict=True)
        validated.add(manifest["kind"])
    assert {
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    } <= validated


def test_strict_validation_refuses_an_unknown_field(default: Rendered) -> None:
    """The check above is worth something: a misspelt field fails it."""
    api = copy.deepcopy(default.one("Deployment", "api"))
    containers(api)[0]["readinessProbes"] = containers(api)[0]["readinessProbe"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(api, KUBERNETES_VERSIONS[-1], strict=True)


def test_roles_run_their_bursa_commands(everything: Rendered) -> None:
    for deployment in everything.of_kind("Deployment"):
        role = deployment["metadata"]["labels"][COMPONENT]
        (container,) = containers(deployment)
        assert container["command"] == ["bursa"]
        assert container["args"] == ROLE_COMMANDS[role]
        assert container["args"][0] in COMMANDS, f"{role}: no `bursa {container['args'][0]}`"
    assert {d["metadata"]["labels"][COMPONENT] for d in everything.of_kind("Deployment")} == set(
        ROLE_COMMANDS
    )


def test_images_come_from_the_values(chart: helm.Chart, default: Rendered) -> None:
    app_version = chart.metadata["appVersion"]
    for workload in default.workloads():
        assert [c["image"] for c in containers(workload)] == [f"bursa:{app_version}"]
    tagged = render(chart, {"image": {"repository": "registry.example/bursa", "tag": "1.2.3"}})
    pinned = render(chart, {"image": {"repository": "registry.example/bursa", "digest": DIGEST}})
    for workload in tagged.workloads():
        assert [c["image"] for c in containers(workload)] == ["registry.example/bursa:1.2.3"]
    for workload in pinned.workloads():
        assert [c["image"] for c in containers(workload)] == [f"registry.example/bursa@{DIGEST}"]


DIGEST = "sha256:" + "ab" * 32


def test_every_container_has_probes_resources_and_runs_unprivileged(everything: Rendered) -> None:
    for workload in everything.workloads():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), workload
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    for deployment in everything.of_kind("Deployment"):
        (container,) = containers(deployment)
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        api = deployment["metadata"]["labels"][COMPONENT] == "api"
        base = "/api/v2/peatio/public/health" if api else "/health"
        expected = {
            "startupProbe": f"{base}/alive",
            "livenessProbe": f"{base}/alive",
            "readinessProbe": f"{base}/ready",
        }
        for probe, path in expected.items():
            assert container[probe]["httpGet"]["path"] == path
            assert container[probe]["httpGet"]["port"] in ports
        env = env_of(container)
        if api:
            assert env["BURSA_PORT"] == str(ports["http"]) and env["BURSA_HOST"] == "0.0.0.0"
        else:  # workers serve /metrics and health only when given a port, on loopback unless told
            assert env["BURSA_METRICS_PORT"] == str(ports["metrics"])
            assert env["BURSA_METRICS_HOST"] == "0.0.0.0"


def test_deployments_select_their_own_pods_only(everything: Rendered) -> None:
    workloads = everything.workloads()
    for deployment in everything.of_kind("Deployment"):
        selector = deployment["spec"]["selector"]
        matched = [w["metadata"]["name"] for w in workloads if selects(selector, pod_labels(w))]
        assert matched == [deployment["metadata"]["name"]]


def test_the_autoscaler_scales_the_api_deployment(default: Rendered) -> None:
    (autoscaler,) = default.of_kind("HorizontalPodAutoscaler")
    api = default.one("Deployment", "api")
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": api["metadata"]["name"],
    }
    assert autoscaler["spec"]["minReplicas"] >= 2
    assert "replicas" not in api["spec"], "a fixed count would fight the autoscaler on upgrades"


def test_the_engine_runs_one_active_and_a_standby(chart: helm.Chart, default: Rendered) -> None:
    engine = default.one("Deployment", "engine")
    assert engine["spec"]["replicas"] >= 2
    # A rolling update starts the new standby before it stops an old engine.
    assert engine["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    budget = default.one("PodDisruptionBudget", "engine")
    assert budget["spec"]["maxUnavailable"] < engine["spec"]["replicas"]
    # Ready means active or standing by (bursa.metrics.process): both keep their pods in.
    assert containers(engine)[0]["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    with pytest.raises(helm.HelmValuesError, match="replicas"):
        render(chart, {"roles": {"engine": {"replicas": 1}}})


def test_disruption_budgets_cover_existing_pods(everything: Rendered) -> None:
    deployments = everything.of_kind("Deployment")
    budgets = everything.of_kind("PodDisruptionBudget")
    assert budgets
    for budget in budgets:
        matched = [d for d in deployments if selects(budget["spec"]["selector"], pod_labels(d))]
        assert len(matched) == 1, budget["metadata"]["name"]
        replicas = matched[0]["spec"].get("replicas", 2)  # the API: at least its HPA's minimum
        if replicas > 1:
            assert budget["spec"]["maxUnavailable"] < replicas
    covered = {b["metadata"]["labels"][COMPONENT] for b in budgets}
    assert covered == {"api", "engine", "relay", "scanner", "sweeper", "mailer"}


def test_network_policies_deny_by_default_and_allow_what_each_role_needs(
    everything: Rendered,
) -> None:
    policies = {p["metadata"]["name"]: p for p in everything.of_kind("NetworkPolicy")}
    deny = policies.pop(f"{RELEASE}-bursa-default-deny")
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    workloads = everything.workloads()
    for workload in workloads:
        assert selects(deny["spec"]["podSelector"], pod_labels(workload))
        own = [
            p for p in policies.values() if selects(p["spec"]["podSelector"], pod_labels(workload))
        ]
        assert len(own) == 1, workload["metadata"]["name"]
    for policy in policies.values():
        assert any(selects(policy["spec"]["podSelector"], pod_labels(w)) for w in workloads)

    def egress_ports(role: str) -> set[int]:
        rules = everything.one("NetworkPolicy", role)["spec"]["egress"]
        return {port["port"] for rule in rules for port in rule["ports"]}

    assert {53, 5432, 5672, 6379, 8200} <= egress_ports("api")
    assert {53, 5432, 5672, 8200, 8545} <= egress_ports("scanner")
    assert {53, 5432, 5672} <= egress_ports("engine") and 8200 not in egress_ports("engine")
    assert 8200 not in egress_ports("relay") | egress_ports("mailer") | egress_ports("bots")
    assert 587 in egress_ports("mailer")
    # It seals profiles older versions kept in the clear: the key store, and nothing else.
    assert egress_ports("migrations") == {53, 5432, 8200}

    api_ingress = everything.one("NetworkPolicy", "api")["spec"]["ingress"]
    assert api_ingress[0]["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert INGRESS_NAMESPACE in api_ingress[0]["from"]
    engine_ingress = everything.one("NetworkPolicy", "engine")["spec"]["ingress"]
    assert engine_ingress == [
        {"ports": [{"port": "metrics", "protocol": "TCP"}], "from": [MONITORING]}
    ]
    # AppLogic (in the API pods) and the bots call the API on this release's API pods.
    api_pods = pod_labels(everything.one("Deployment", "api"))
    for caller in ("api", "bots"):
        egress = everything.one("NetworkPolicy", caller)["spec"]["egress"]
        to_api = [
            rule
            for rule in egress
            if any(selects(peer["podSelector"], api_pods) for peer in rule.get("to", []))
        ]
        assert [rule["ports"] for rule in to_api] == [[{"port": 8000, "protocol": "TCP"}]]


def test_migrations_run_as_a_hook_before_install_and_upgrade(default: Rendered) -> None:
    (job,) = default.of_kind("Job")
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert set(hooks) == {"pre-install", "pre-upgrade"}
    (container,) = containers(job)
    assert container["args"] == ["db", "upgrade"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # On a first install the hook runs before the release's ConfigMaps exist.
    assert "envFrom" not in container
    assert env_of(container)["BURSA_DATABASE_URL"]["secretKeyRef"]["key"] == "database-url"
    # The Secrets it reads (its variables, its AppRole credentials) are synced first.
    (credentials,) = [
        e
        for e in default.of_kind("ExternalSecret")
        if e["metadata"]["labels"].get(COMPONENT) == "migrations"
    ]
    job_weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    for external in (main_external_secret(default), credentials):
        annotations = external["metadata"]["annotations"]
        assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
        assert int(annotations["helm.sh/hook-weight"]) < job_weight
        # Helm replaces a hook on each upgrade: the Secret stays for the running pods.
        assert external["spec"]["target"]["creationPolicy"] == "Orphan"


SERVICE_MONITOR_SPEC = {"jobLabel", "namespaceSelector", "selector", "endpoints"}
ENDPOINT_FIELDS = {"port", "path", "scheme", "interval", "scrapeTimeout"}
DURATION = re.compile(r"^(0|([0-9]+(ms|s|m|h))+)$")  # the CRD's pattern for durations


def test_service_monitors_scrape_every_role_on_its_metrics_port(everything: Rendered) -> None:
    """The CRD's schema is not available offline: its structure is checked here instead."""
    services = everything.of_kind("Service")
    deployments = everything.of_kind("Deployment")
    scraped = set()
    for monitor in everything.of_kind("ServiceMonitor"):
        spec = monitor["spec"]
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert set(spec) <= SERVICE_MONITOR_SPEC
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert spec["namespaceSelector"] == {"matchNames": [NAMESPACE]}
        (endpoint,) = spec["endpoints"]
        assert set(endpoint) <= ENDPOINT_FIELDS and endpoint["path"] == "/metrics"
        assert DURATION.match(endpoint["interval"]) and DURATION.match(endpoint["scrapeTimeout"])
        (service,) = [s for s in services if selects(spec["selector"], s["metadata"]["labels"])]
        (port,) = [p for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
        (deployment,) = [
            d
            for d in deployments
            if selects({"matchLabels": service["spec"]["selector"]}, pod_labels(d))
        ]
        container_ports = {p["name"] for p in containers(deployment)[0]["ports"]}
        assert port["targetPort"] in container_ports
        scraped.add(deployment["metadata"]["name"])
    assert scraped == {d["metadata"]["name"] for d in deployments}


def main_external_secret(rendered: Rendered) -> Manifest:
    """The ExternalSecret of the Secret every role reads its variables from."""
    (external,) = [
        e for e in rendered.of_kind("ExternalSecret") if COMPONENT not in e["metadata"]["labels"]
    ]
    return external


@pytest.mark.parametrize("mode", ["everything", "token_mode"])
def test_secrets_come_from_the_key_store_and_never_from_values(
    mode: str, request: pytest.FixtureRequest
) -> None:
    everything: Rendered = request.getfixturevalue(mode)
    spec = main_external_secret(everything)["spec"]
    assert spec["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "openbao"}
    secret = spec["target"]["name"]
    referenced = set()
    for workload in everything.workloads():
        for container in containers(workload):
            for entry in container["env"]:
                reference = entry.get("valueFrom", {}).get("secretKeyRef")
                if reference:
                    assert reference["name"] == secret
                    referenced.add(reference["key"])
            for name, key, _ in mounted_files(workload, container).values():
                if not name.endswith("-vault"):  # each role's AppRole credentials: below
                    assert name == secret
                    referenced.add(key)
    synced = {entry["secretKey"] for entry in spec["data"]}
    assert synced == referenced
    if mode == "everything":
        assert {"applogic-signing-key", "smtp-url"} <= synced
    # A Vault token is synced only for the development mode that uses one.
    tokens = {key for key in synced if key.startswith("vault-token")}
    assert tokens == ({"vault-token", "vault-token-custody"} if mode == "token_mode" else set())
    for entry in spec["data"]:
        assert entry["remoteRef"] == {"key": "bursa", "property": entry["secretKey"]}
    # Only the API holds the JWT key; only the relay and the API the event signing keys.
    holders = {
        d["metadata"]["labels"][COMPONENT]
        for d in everything.of_kind("Deployment")
        if "BURSA_JWT_PRIVATE_KEY" in env_of(containers(d)[0])
    }
    assert holders == {"api"}
    assert everything.of_kind("Secret") == []
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for name, key in values["secrets"]["keys"].items():
        assert re.fullmatch(r"[a-z0-9-]+", key), name
    assert not re.search(r"://[^\s/]*@|PRIVATE KEY|password:", (CHART / "values.yaml").read_text())


def test_an_existing_secret_replaces_the_external_secret(chart: helm.Chart) -> None:
    rendered = render(chart, {"secrets": {"source": "existingSecret", "name": "bursa-prod"}})
    assert [
        e for e in rendered.of_kind("ExternalSecret") if COMPONENT not in e["metadata"]["labels"]
    ] == []
    api_env = env_of(containers(rendered.one("Deployment", "api"))[0])
    assert api_env["BURSA_DATABASE_URL"]["secretKeyRef"]["name"] == "bursa-prod"
    with pytest.raises(helm.HelmValuesError, match="name"):
        render(chart, {"secrets": {"source": "existingSecret"}})


def test_the_ingress_routes_to_the_api_service(everything: Rendered) -> None:
    (ingress,) = everything.of_kind("Ingress")
    service = everything.one("Service", "api")
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"] == {
        "name": service["metadata"]["name"],
        "port": {"name": "http"},
    }
    assert [p["name"] for p in service["spec"]["ports"]] == ["http"]
    assert ingress["spec"]["ingressClassName"] == "nginx"


def test_overrides_render_as_asked(chart: helm.Chart) -> None:
    rendered = render(
        chart,
        {
            "roles": {
                "scanner": {"enabled": False},
                "sweeper": {"enabled": False},
                "relay": {"replicas": 3},
                "api": {"replicas": 4, "autoscaling": {"enabled": False}},
            },
            "serviceMonitor": {"enabled": False},
            "migrations": {"enabled": False},
        },
    )
    components = {m["metadata"]["labels"].get(COMPONENT) for m in rendered.manifests}
    assert not components & {"scanner", "sweeper", "migrations"}
    assert rendered.one("Deployment", "relay")["spec"]["replicas"] == 3
    assert rendered.one("Deployment", "api")["spec"]["replicas"] == 4
    assert rendered.of_kind("HorizontalPodAutoscaler") == []
    assert rendered.of_kind("ServiceMonitor") == []
    assert rendered.of_kind("Job") == []
    bare = render(chart, {"networkPolicy": {"enabled": False}})
    assert bare.of_kind("NetworkPolicy") == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"roles": {"api": {"secretEnv": ["BURSA_NOT_A_KEY"]}}}, "BURSA_NOT_A_KEY"),
        ({"roles": {"engine": {"egress": ["postgresql", "ftp"]}}}, "ftp"),
        ({"roles": {"api": {"enabled": False}}, "ingress": {"enabled": True}}, "roles.api"),
        # Every role would get it, the engine too (which would then not start).
        ({"config": {"BURSA_VAULT_URL": "http://openbao:8200"}}, "BURSA_VAULT_URL"),
        ({"roles": {"engine": {"env": {"BURSA_VAULT_AUTH": "token"}}}}, "BURSA_VAULT_AUTH"),
        ({"roles": {"api": {"secretEnv": ["BURSA_VAULT_TOKEN"]}}}, "BURSA_VAULT_TOKEN"),
        ({"roles": {"scanner": {"vaultRole": "standalone"}}}, "vaultRole"),
        ({"vault": {"url": ""}}, "vault/url"),
        ({"vault": {"auth": "root"}}, "auth"),
        ({"vault": {"approle": {"source": "existingSecret"}}}, "secretNames"),
    ],
    ids=[
        "unknown-secret",
        "unknown-egress",
        "ingress-without-api",
        "vault-in-shared-config",
        "vault-in-role-env",
        "vault-token-by-hand",
        "unknown-policy",
        "no-vault-url",
        "unknown-vault-auth",
        "existing-credentials-unnamed",
    ],
)
def test_mistakes_in_values_stop_the_render(
    chart: helm.Chart, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(helm.HelmError, match=message):
        render(chart, values)


@pytest.mark.parametrize("mode", ["default", "everything"])
def test_each_key_store_role_logs_in_with_its_own_approle_and_only_it(
    mode: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: Rendered = request.getfixturevalue(mode)
    synced = {
        e["spec"]["target"]["name"]: e
        for e in rendered.of_kind("ExternalSecret")
        if COMPONENT in e["metadata"]["labels"]
    }
    mounted_by: dict[str, str] = {}
    for workload in rendered.workloads():
        role = component(workload)
        (container,) = containers(workload)
        env = env_of(container)
        files = mounted_files(workload, container)
        assert "BURSA_VAULT_TOKEN" not in env, role
        settings = settings_of(rendered, container, monkeypatch)
        if role not in POLICIES:
            assert not [name for name in env if name.startswith("BURSA_VAULT_")], role
            assert not [path for path in files if path.startswith(VAULT_CREDENTIALS)], role
            assert settings.vault_url is None
            continue
        assert env["BURSA_VAULT_AUTH"] == "approle"
        assert env["BURSA_VAULT_URL"] == "http://openbao.openbao.svc:8200"
        role_id = files[env["BURSA_VAULT_ROLE_ID_FILE"]]
        secret_id = files[env["BURSA_VAULT_SECRET_ID_FILE"]]
        # Both from one Secret of this role's own, by their keys, mounted read-only.
        assert role_id[0] == secret_id[0]
        assert (role_id[1:], secret_id[1:]) == (("role-id", True), ("secret-id", True))
        assert role_id[0] not in mounted_by, f"{role} and {mounted_by.get(role_id[0])}"
        mounted_by[role_id[0]] = role
        # Not a subPath, so a rotated secret id reaches the file (read at each login).
        assert all("subPath" not in mount for mount in container["volumeMounts"])
        # The chart syncs it from this role's own path, for the policy the role needs.
        external = synced[role_id[0]]
        assert external["metadata"]["annotations"]["bursa.io/vault-role"] == POLICIES[role]
        assert {(d["secretKey"], d["remoteRef"]["key"]) for d in external["spec"]["data"]} == {
            ("role-id", f"bursa/approle/{role}"),
            ("secret-id", f"bursa/approle/{role}"),
        }
        # Bursa itself reads this environment as an AppRole login from those two files.
        assert settings.vault_auth == "approle"
        assert str(settings.vault_role_id_file) == env["BURSA_VAULT_ROLE_ID_FILE"]
        assert str(settings.vault_secret_id_file) == env["BURSA_VAULT_SECRET_ID_FILE"]
        assert settings.vault_approle_mount == "approle"
    assert set(mounted_by.values()) == set(POLICIES)
    assert set(synced) == set(mounted_by), "a credentials Secret no role mounts"


def test_each_role_gets_the_policy_its_command_needs() -> None:
    """`bursa custody scan` runs the withdrawal senders too: it must open wallet keys, so
    the scanner logs in as `sender`; the API may seal a wallet key but never open one."""
    assert set(POLICIES.values()) <= set(ROLES) - {"standalone"}
    assert may(POLICIES["scanner"], "custody-wallet", Use.DECRYPT)
    assert may(POLICIES["sweeper"], "custody-wallet", Use.DECRYPT)
    assert may(POLICIES["api"], "custody-wallet", Use.ENCRYPT)
    assert not may(POLICIES["api"], "custody-wallet", Use.DECRYPT)
    # `bursa db upgrade` seals members' personal data left in the clear.
    assert may(POLICIES["migrations"], "bursa-pii", Use.ENCRYPT)
    assert not may(POLICIES["migrations"], "custody-wallet", Use.DECRYPT)


def test_a_static_token_is_a_development_option_only(
    token_mode: Rendered, monkeypatch: pytest.MonkeyPatch
) -> None:
    for workload in token_mode.workloads():
        role = component(workload)
        (container,) = containers(workload)
        env = env_of(container)
        assert not [p for p in mounted_files(workload, container) if "vault" in p], role
        if role not in POLICIES:
            assert not [name for name in env if name.startswith("BURSA_VAULT_")], role
            continue
        assert env["BURSA_VAULT_AUTH"] == "token"
        assert "BURSA_VAULT_ROLE_ID_FILE" not in env
        expected = "vault-token-custody" if role in ("scanner", "sweeper") else "vault-token"
        assert env["BURSA_VAULT_TOKEN"]["secretKeyRef"]["key"] == expected
        assert settings_of(token_mode, container, monkeypatch).vault_auth == "token"
    assert [e for e in token_mode.of_kind("ExternalSecret") if "-vault" in str(e)] == []
    assert "development only" in token_mode.notes


def test_credentials_secrets_made_by_the_operator_are_mounted_by_name(chart: helm.Chart) -> None:
    names = {role: f"bursa-{role}-approle" for role in POLICIES}
    rendered = render(
        chart, {"vault": {"approle": {"source": "existingSecret", "secretNames": names}}}
    )
    assert [e for e in rendered.of_kind("ExternalSecret") if "-vault" in str(e)] == []
    for workload in rendered.workloads():
        role = component(workload)
        (container,) = containers(workload)
        if role in POLICIES:
            assert credentials_secret(workload, container) == names[role]
    for role, name in names.items():
        assert name in rendered.notes, role


def credentials_secret(workload: Manifest, container: Manifest) -> str:
    """The one Secret a container's AppRole role id and secret id files come from."""
    files = mounted_files(workload, container)
    env = env_of(container)
    (secret,) = {files[env[f"BURSA_VAULT_{what}_FILE"]][0] for what in ("ROLE_ID", "SECRET_ID")}
    return secret


def test_notes_name_every_role(everything: Rendered) -> None:
    for role, args in ROLE_COMMANDS.items():
        assert f"{role}: bursa {' '.join(args)}" in everything.notes
    # How to give each key-store role its credentials, with the policy it needs.
    for role, policy in POLICIES.items():
        assert f"{role}: AppRole bursa-{policy}" in everything.notes
        assert f"bursa secrets credentials {policy} --out DIR" in everything.notes
        assert f"bursa/approle/{role} role-id=@DIR/role-id" in everything.notes
    assert "(no BURSA_VAULT_* variables): bots, engine, mailer, relay." in everything.notes
