"""security-baseline: the seed's security promises on the objects helm renders per environment.

Restricted Pod Security labels, default-deny NetworkPolicies with explicit allows that really
select the component charts' pods and open their ports, quotas that fit the production topology,
the cert-manager CA chain named by global.tls.issuerName, optional Istio and External Secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
from tests.catalog.conftest import ENVIRONMENTS, catalog, find, render_text, render_with, rendered
from tests.catalog.platform_helpers import containers, pod_templates, quantity, strict_errors

from chartforge.compile.envvalues import validate_values
from chartforge.errors import ToolError, ValuesError
from chartforge.policy.selectors import selects
from chartforge.yamlio import load_yaml

pytestmark = pytest.mark.helm

CHART = "security-baseline"
#: Ports the issue names for each component (peer traffic between the component's own pods).
PEER_PORTS = {
    "postgresql-ha": {5432, 6432},  # Patroni's REST API (8008): its own policy, patroni-api
    "redis-cluster": {6379, 16379},
    "mongodb-sharded": {27017, 27018, 27019},
}
#: The component charts present in the catalog (the ones a policy must cover).
COMPONENTS = [name for name in PEER_PORTS if name in {c.name for c in catalog().charts}]
ALL_FEATURES = (
    "namespace.create=true",
    "certManager.enabled=true",
    "istio.peerAuthentication.enabled=true",
    "istio.authorizationPolicies.enabled=true",
    "externalSecrets.enabled=true",
    "networkPolicy.telemetry.elasticsearch.cidrs[0]=10.20.0.0/16",
)


def policy(objects: list[dict[str, Any]], component: str) -> dict[str, Any]:
    found = [
        o
        for o in find(objects, "NetworkPolicy")
        if o["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    assert len(found) == 1, f"expected one NetworkPolicy for {component}"
    return found[0]


def ports(rule: dict[str, Any]) -> set[int]:
    return {int(p["port"]) for p in rule.get("ports", [])}


# --- Pod Security -------------------------------------------------------------------------------


def test_namespace_is_optional(env: str) -> None:
    assert not find(rendered(CHART, env), "Namespace")


def test_namespace_enforces_restricted_with_version_labels() -> None:
    (ns,) = find(render_with(CHART, "production", "namespace.create=true"), "Namespace")
    labels = ns["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"].startswith("v1.")
    assert ns["metadata"]["name"] == CHART  # the release namespace by default
    assert ns["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


# --- NetworkPolicies ----------------------------------------------------------------------------


def test_default_deny_ingress_and_egress_for_every_pod(env: str) -> None:
    deny = policy(rendered(CHART, env), "default-deny")
    assert deny["spec"]["podSelector"] == {}
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]


def test_dns_egress_to_kube_dns(env: str) -> None:
    dns = policy(rendered(CHART, env), "allow-dns")
    (rule,) = dns["spec"]["egress"]
    (peer,) = rule["to"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
    assert peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}


@pytest.mark.parametrize("component", list(PEER_PORTS))
def test_component_peer_ports_and_monitoring_scrape(env: str, component: str) -> None:
    pol = policy(rendered(CHART, env), component)
    selector = {"matchLabels": {"app.kubernetes.io/name": component}}
    assert pol["spec"]["podSelector"] == selector
    peer_in = pol["spec"]["ingress"][0]
    assert peer_in["from"] == [{"podSelector": selector}]
    assert ports(peer_in) == PEER_PORTS[component]
    assert pol["spec"]["egress"] == [{"to": [{"podSelector": selector}], "ports": peer_in["ports"]}]
    monitoring = [r for r in pol["spec"]["ingress"] if any("namespaceSelector" in p for p in r["from"])]
    assert len(monitoring) == 1 and ports(monitoring[0])
    assert monitoring[0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"
    }


def test_monitoring_namespace_follows_global() -> None:
    objects = render_with(CHART, "production", "global.monitoring.namespace=observability-system")
    pol = policy(objects, "redis-cluster")
    (monitoring,) = [r for r in pol["spec"]["ingress"] if any("namespaceSelector" in p for p in r["from"])]
    assert monitoring["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "observability-system"
    }


@pytest.mark.parametrize("component", COMPONENTS)
def test_policies_select_the_component_pods_and_open_their_ports(component: str) -> None:
    """Cross-chart contract: the baseline selects the pods the component chart renders, and every
    port those pods listen on is allowed from somewhere (peers, clients or monitoring)."""
    objects = rendered(CHART, "production")
    pol = policy(objects, component)
    pods = list(pod_templates(rendered(component, "production")))
    assert pods, f"{component} renders no workload"
    for owner, pod in pods:
        labels = pod["metadata"]["labels"]
        assert selects(pol["spec"]["podSelector"], labels), f"{owner['metadata']['name']} not selected"
        allowed = {
            port
            for p in find(objects, "NetworkPolicy")
            if selects(p["spec"]["podSelector"], labels)
            for r in p["spec"].get("ingress", [])
            for port in ports(r)
        }
        listening = {int(p["containerPort"]) for c in containers(pod) for p in c.get("ports", [])}
        assert listening <= allowed, (
            f"{owner['metadata']['name']} listens on {listening - allowed} (not allowed)"
        )


def test_database_clients_reach_client_ports(env: str) -> None:
    objects = rendered(CHART, env)
    clients = policy(objects, "database-clients")
    assert clients["spec"]["podSelector"]["matchLabels"] == {"spotify-ai-agent/database-client": "true"}
    reached = {
        r["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]: ports(r)
        for r in clients["spec"]["egress"]
    }
    assert reached == {"postgresql-ha": {5432, 6432}, "redis-cluster": {6379}, "mongodb-sharded": {27017}}


#: Egress CIDRs each environment gives the API server and the object store (sources/environments).
EGRESS_CIDRS: dict[str, tuple[list[str], list[str] | None]] = {
    "production": (["10.40.0.0/22"], ["10.40.8.0/22"]),
    "staging": (["10.30.0.0/22"], ["10.30.8.0/22"]),
    "development": (["172.16.0.0/12"], None),  # no backups in development: no object-store egress
}
KUBE_API_LABEL = {"access.spotify-ai-agent.io/kube-api": "true"}
OBJECT_STORE_LABEL = {"access.spotify-ai-agent.io/object-store": "true"}


def _ip_blocks(rule: dict[str, Any]) -> list[str]:
    return [peer["ipBlock"]["cidr"] for peer in rule.get("to", []) if "ipBlock" in peer]


def test_api_server_and_object_store_egress_only_from_labelled_pods(env: str) -> None:
    objects = rendered(CHART, env)
    api_cidrs, store_cidrs = EGRESS_CIDRS[env]
    api = policy(objects, "kubernetes-api")
    assert api["spec"]["podSelector"] == {"matchLabels": KUBE_API_LABEL}
    (rule,) = api["spec"]["egress"]
    assert _ip_blocks(rule) == api_cidrs and ports(rule) == {443, 6443}
    stores = [o for o in find(objects, "NetworkPolicy") if o["metadata"]["name"].endswith("-object-store")]
    if store_cidrs is None:
        assert not stores
        return
    (store,) = stores
    assert store["spec"]["podSelector"] == {"matchLabels": OBJECT_STORE_LABEL}
    (rule,) = store["spec"]["egress"]
    assert _ip_blocks(rule) == store_cidrs and ports(rule) == {443}


def test_no_egress_to_every_address(env: str) -> None:
    """No NetworkPolicy of the platform opens a rule to 0.0.0.0/0 or ::/0 (or any /0)."""
    for pol in find(rendered("spotify-ai-agent", env), "NetworkPolicy"):
        for rule in pol["spec"].get("egress", []) + pol["spec"].get("ingress", []):
            for peer in rule.get("to", []) + rule.get("from", []):
                cidr = peer.get("ipBlock", {}).get("cidr", "")
                assert not cidr.endswith("/0"), f"{env}: {pol['metadata']['name']} allows {cidr}"


def test_unlabelled_pods_get_no_address_egress() -> None:
    """Hook Jobs, routers, poolers…: a pod without the kube-api or object-store label is selected
    by no policy that opens egress to an ipBlock (on the old baseline every postgresql-ha and
    mongodb-sharded pod got 0.0.0.0/0:443)."""
    umbrella = rendered("spotify-ai-agent", "production")
    policies = find(umbrella, "NetworkPolicy")
    checked = 0
    for owner, pod in pod_templates(umbrella):
        labels = pod["metadata"]["labels"]
        granted = {
            p["metadata"]["name"].rsplit("-security-baseline-", 1)[-1]
            for p in policies
            if selects(p["spec"]["podSelector"], labels)
            for rule in p["spec"].get("egress", [])
            if _ip_blocks(rule)
        }
        allowed = {
            name
            for name, label in (("kubernetes-api", KUBE_API_LABEL), ("object-store", OBJECT_STORE_LABEL))
            if label.items() <= labels.items()
        }
        assert granted <= allowed, f"{owner['kind']}/{owner['metadata']['name']} gets {sorted(granted)}"
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", "10.0.0.0/0", "10.0.0.1", "not-a-cidr"])
@pytest.mark.parametrize("path", ["kubernetesApi", "objectStore", "telemetry.elasticsearch"])
def test_schema_refuses_open_or_malformed_cidrs(cidr: str, path: str) -> None:
    cat = catalog()
    data = load_yaml(cat.env_file("production"))
    node = data["security-baseline"].setdefault("networkPolicy", {})
    for key in path.split("."):
        node = node.setdefault(key, {})
    node["cidrs"] = [cidr]
    with pytest.raises(ValuesError, match=r"cidrs"):
        validate_values(cat, cat.chart("spotify-ai-agent"), data, display="production.yaml")
    node["cidrs"] = ["10.0.0.0/8", "fd00::/8"]
    validate_values(cat, cat.chart("spotify-ai-agent"), data, display="production.yaml")


@pytest.mark.parametrize(
    ("feature", "suffix", "message"),
    [
        (
            "kubernetesApi",
            "-kubernetes-api",
            r"networkPolicy\.kubernetesApi\.cidrs is empty: set the API server endpoint CIDRs",
        ),
        ("objectStore", "-object-store", r"networkPolicy\.objectStore\.cidrs and extraPeers are empty"),
    ],
)
def test_enabled_egress_without_cidrs_is_an_error(feature: str, suffix: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        render_text(CHART, "production", f"networkPolicy.{feature}.cidrs=null")
    off = render_with(
        CHART, "production", f"networkPolicy.{feature}.cidrs=null", f"networkPolicy.{feature}.enabled=false"
    )
    assert not [o for o in find(off, "NetworkPolicy") if o["metadata"]["name"].endswith(suffix)]


@pytest.mark.parametrize(
    ("component", "label"),
    [("postgresql-ha", "kube-api"), ("postgresql-ha", "object-store"), ("mongodb-sharded", "object-store")],
)
def test_component_pods_carry_the_egress_labels(component: str, label: str) -> None:
    """Contract with the database charts (HELPER_CONTRACTS.md 2): every pod that mounts a
    ServiceAccount token carries the kube-api label; the backup/drill CronJobs carry the
    object-store label. Skipped while the chart renders no such label at all (its branch is not
    merged yet): the baseline then simply denies that egress."""
    if component not in COMPONENTS:
        pytest.skip(f"{component} is not in the catalog")
    key = f"access.spotify-ai-agent.io/{label}"
    pods = list(pod_templates(rendered(component, "production")))
    if not any(key in pod["metadata"]["labels"] for _, pod in pods):
        pytest.skip(f"{component} does not render the {key} label yet")
    for owner, pod in pods:
        if label == "kube-api":
            needs = pod["spec"].get("automountServiceAccountToken", True)
        else:
            needs = owner["kind"] == "CronJob"
        if needs:
            assert pod["metadata"]["labels"].get(key) == "true", (
                f"{owner['kind']}/{owner['metadata']['name']}"
            )


def test_telemetry_reaches_the_collectors_and_elasticsearch() -> None:
    """Every pod exports OTLP to the collectors; the collector reaches Jaeger v2 (an
    OpenTelemetryCollector of the same namespace, selected by the same operator label)."""
    objects = rendered(CHART, "production")
    export = policy(objects, "otlp-export")
    assert export["spec"]["podSelector"] == {} and ports(export["spec"]["egress"][0]) == {4317, 4318}
    collector = policy(objects, "otel-collector")
    to_jaeger = collector["spec"]["egress"][0]
    assert to_jaeger["to"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "opentelemetry-collector"}}}
    ]
    es = collector["spec"]["egress"][1]
    assert es["to"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "elastic-system"}}}
    ]
    # the operator labels Jaeger's pods like the collector's: the rendered Jaeger CR is one of them
    (jaeger,) = [
        o
        for o in find(rendered("observability", "production"), "OpenTelemetryCollector")
        if o["metadata"]["labels"]["app.kubernetes.io/component"] == "jaeger"
    ]
    assert jaeger["spec"]["mode"] == "deployment" and jaeger["metadata"]["namespace"] == "observability"


# --- quotas ---------------------------------------------------------------------------------------


def _operator_pods(objects: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(replicas, resources) of the pods the OpenTelemetry and Jaeger operators create from CRs."""
    for col in find(objects, "OpenTelemetryCollector"):
        if col["spec"]["mode"] == "deployment":  # the node log collector runs in its own namespace
            yield col["spec"].get("replicas", 1), col["spec"]["resources"]
    # Jaeger v2 is a deployment-mode OpenTelemetryCollector of the namespace: counted above.


def _need(objects: list[dict[str, Any]], resource: str, kind: str) -> Fraction:
    """Sum of a resource over every pod of the namespace at its largest scale (HPA maxReplicas)."""
    hpa_max = {
        (h["spec"]["scaleTargetRef"]["kind"], h["spec"]["scaleTargetRef"]["name"]): h["spec"]["maxReplicas"]
        for h in find(objects, "HorizontalPodAutoscaler")
    }
    total = Fraction(0)
    for owner, pod in pod_templates(objects):
        replicas = hpa_max.get((owner["kind"], owner["metadata"]["name"]), owner["spec"].get("replicas", 1))
        total += replicas * sum(quantity(c["resources"][kind][resource]) for c in pod["spec"]["containers"])
    for replicas, resources in _operator_pods(objects):
        total += replicas * quantity(resources[kind][resource])
    return total


def _pods_and_claims(objects: list[dict[str, Any]]) -> tuple[int, int, Fraction]:
    """Pods, PersistentVolumeClaims and requested storage of the namespace at its largest scale."""
    hpa_max = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"]
        for h in find(objects, "HorizontalPodAutoscaler")
    }
    pods, claims, storage = 0, 0, Fraction(0)
    for owner, _ in pod_templates(objects):
        replicas = hpa_max.get(owner["metadata"]["name"], owner["spec"].get("replicas", 1))
        pods += replicas
        for claim in owner["spec"].get("volumeClaimTemplates", []):
            claims += replicas
            storage += replicas * quantity(claim["spec"]["resources"]["requests"]["storage"])
    pods += sum(replicas for replicas, _ in _operator_pods(objects))
    return pods, claims, storage


@pytest.mark.parametrize("resource", ["cpu", "memory"])
def test_quota_fits_the_platform_at_full_scale(env: str, resource: str) -> None:
    umbrella = rendered("spotify-ai-agent", env)
    (quota,) = find(umbrella, "ResourceQuota")
    hard = quota["spec"]["hard"]
    for kind in ("limits", "requests"):
        need = _need(umbrella, resource, kind)
        assert need <= quantity(hard[f"{kind}.{resource}"]), f"{env}: {kind}.{resource} {float(need)} > quota"


def test_quota_fits_pods_and_volumes(env: str) -> None:
    umbrella = rendered("spotify-ai-agent", env)
    (quota,) = find(umbrella, "ResourceQuota")
    hard = quota["spec"]["hard"]
    pods, claims, storage = _pods_and_claims(umbrella)
    assert pods <= int(hard["pods"]) and claims <= int(hard["persistentvolumeclaims"])
    assert storage <= quantity(hard["requests.storage"]), f"{env}: {float(storage) / 2**30} Gi of volumes"


def test_quota_grows_with_the_environment() -> None:
    hard = {e: find(rendered(CHART, e), "ResourceQuota")[0]["spec"]["hard"] for e in ENVIRONMENTS}
    for key in ("limits.cpu", "limits.memory", "requests.storage"):
        sizes = [quantity(hard[e][key]) for e in ENVIRONMENTS]
        assert sizes == sorted(sizes) and sizes[0] < sizes[-1], key
    assert hard["production"]["services.nodeports"] == "0"


def test_limit_range_admits_every_container_and_volume(env: str) -> None:
    umbrella = rendered("spotify-ai-agent", env)
    (lr,) = find(umbrella, "LimitRange")
    container_limits = next(x for x in lr["spec"]["limits"] if x["type"] == "Container")
    pvc_limits = next(x for x in lr["spec"]["limits"] if x["type"] == "PersistentVolumeClaim")
    for owner, pod in pod_templates(umbrella):
        for c in containers(pod):
            for res in ("cpu", "memory"):
                assert quantity(c["resources"]["limits"][res]) <= quantity(container_limits["max"][res])
                assert quantity(c["resources"]["requests"][res]) >= quantity(container_limits["min"][res])
        for claim in owner["spec"].get("volumeClaimTemplates", []):
            size = quantity(claim["spec"]["resources"]["requests"]["storage"])
            assert quantity(pvc_limits["min"]["storage"]) <= size <= quantity(pvc_limits["max"]["storage"])


# --- cert-manager -------------------------------------------------------------------------------


def test_ca_chain_named_by_global_issuer() -> None:
    objects = rendered(CHART, "production")
    issuers = {i["metadata"]["name"]: i for i in find(objects, "Issuer")}
    (ca_cert,) = find(objects, "Certificate")
    ca_issuer = issuers["spotify-ai-agent-ca"]
    bootstrap = issuers[ca_cert["spec"]["issuerRef"]["name"]]
    assert bootstrap["spec"] == {"selfSigned": {}}
    assert ca_cert["spec"]["isCA"] is True
    assert ca_cert["spec"]["privateKey"]["rotationPolicy"] == "Always"
    assert ca_issuer["spec"]["ca"]["secretName"] == ca_cert["spec"]["secretName"]


def test_cert_manager_off_outside_production_tls() -> None:
    assert not find(rendered(CHART, "development"), "Issuer")


def test_cluster_issuer_keeps_the_ca_in_cert_manager_namespace() -> None:
    objects = render_with(CHART, "production", "global.tls.issuerKind=ClusterIssuer")
    assert not find(objects, "Issuer")
    assert {i["metadata"]["name"] for i in find(objects, "ClusterIssuer")} >= {"spotify-ai-agent-ca"}
    (ca_cert,) = find(objects, "Certificate")
    assert ca_cert["metadata"]["namespace"] == "cert-manager"
    assert ca_cert["spec"]["issuerRef"]["kind"] == "ClusterIssuer"


# --- Istio, External Secrets ----------------------------------------------------------------------


def test_istio_off_and_external_secrets_on_in_production_only(env: str) -> None:
    kinds = {o["kind"] for o in rendered(CHART, env)}
    assert not kinds & {"PeerAuthentication", "AuthorizationPolicy"}
    # production takes every credential from External Secrets (global.externalSecrets.enabled)
    assert bool(kinds & {"SecretStore", "ExternalSecret"}) is (env == "production")


def test_istio_strict_mtls_and_deny_by_default() -> None:
    objects = render_with(CHART, "production", *ALL_FEATURES)
    peer = find(objects, "PeerAuthentication")
    namespace_wide = [p for p in peer if "selector" not in p["spec"]]
    assert [p["spec"]["mtls"]["mode"] for p in namespace_wide] == ["STRICT"]
    for p in peer:
        assert p["spec"]["mtls"]["mode"] == "STRICT"
        assert all(m == {"mode": "PERMISSIVE"} for m in p["spec"].get("portLevelMtls", {}).values())
    authz = {
        a["metadata"]["labels"]["app.kubernetes.io/component"]: a
        for a in find(objects, "AuthorizationPolicy")
    }
    assert authz["deny-all"]["spec"] == {}
    assert authz["allow-namespace"]["spec"]["rules"][0]["from"][0]["source"]["namespaces"] == [CHART]


def test_external_secrets_rotate_with_refresh_interval() -> None:
    objects = render_with(CHART, "production", *ALL_FEATURES, "externalSecrets.refreshInterval=15m")
    stores = {s["metadata"]["namespace"]: s["metadata"]["name"] for s in find(objects, "SecretStore")}
    externals = find(objects, "ExternalSecret")
    # <release>-<chart>-<purpose>: the names the charts read (release = the chart name here)
    assert {(e["metadata"]["namespace"], e["metadata"]["name"]) for e in externals} == {
        (CHART, f"{CHART}-{purpose}")
        for purpose in (
            "postgresql-ha-credentials", "redis-cluster-auth", "mongodb-sharded-auth",
            "observability-elasticsearch", "observability-jaeger-elasticsearch",
        )  # production's backups use workload identity: no object-store keys
    }  # fmt: skip
    assert set(stores) == {CHART}  # a SecretStore wherever an ExternalSecret goes
    for es in externals:
        assert es["spec"]["refreshInterval"] == "15m"
        store = stores[es["metadata"]["namespace"]]
        assert es["spec"]["secretStoreRef"] == {"kind": "SecretStore", "name": store}
        assert es["spec"]["target"]["name"] == es["metadata"]["name"]
        assert es["spec"]["data"]


def test_external_secrets_follow_the_umbrella_switch() -> None:
    objects = render_with(CHART, "development", "global.externalSecrets.enabled=true")
    assert {e["metadata"]["name"] for e in find(objects, "ExternalSecret")} == {
        f"{CHART}-postgresql-ha-credentials", f"{CHART}-redis-cluster-auth", f"{CHART}-mongodb-sharded-auth",
    }  # fmt: skip
    assert not find(render_with(CHART, "development"), "ExternalSecret")


# --- strict validation --------------------------------------------------------------------------


def test_every_feature_validates_strictly() -> None:
    text = render_text(CHART, "production", *ALL_FEATURES)
    assert len(find(render_with(CHART, "production", *ALL_FEATURES), "NetworkPolicy")) >= 8
    assert strict_errors(text) == []
