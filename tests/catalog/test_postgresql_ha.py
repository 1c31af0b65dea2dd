"""postgresql-ha: the seed's promises on the objects helm renders for each environment.

Spilo members with Patroni failover, read-write/read-only Services, PgBouncer (≥ 2 + HPA in
production), WAL-G backups kept 30 days, point-in-time restore, TLS in production, zone spread,
restricted security contexts and passwords that never go through values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.catalog.conftest import ROOT, find, rendered
from tests.catalog.conftest import render_with as render_chart

from chartforge.compile.instantiate import render_template
from chartforge.errors import ToolError

pytestmark = pytest.mark.helm

CHART = "postgresql-ha"
MEMBERS = {"development": 1, "staging": 2, "production": 3}
POD_KINDS = ("StatefulSet", "Deployment", "Job")


def render_with(env: str, *sets: str, release: str = CHART) -> list[dict[str, Any]]:
    """The chart rendered with ``env``'s values plus ``--set`` overrides."""
    return render_chart(CHART, env, *sets, release=release)


def one(objects: list[dict[str, Any]], kind: str, name_part: str) -> dict[str, Any]:
    found = find(objects, kind, name_part)
    assert len(found) == 1, (
        f"expected one {kind} named *{name_part}*, got {[o['metadata']['name'] for o in found]}"
    )
    return found[0]


def members(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return one(objects, "StatefulSet", "-postgresql")


def container(pod_owner: dict[str, Any], name: str) -> dict[str, Any]:
    spec = pod_owner["spec"]["template"]["spec"]
    return next(c for c in spec.get("containers", []) + spec.get("initContainers", []) if c["name"] == name)


def env_of(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def pod_templates(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in POD_KINDS]


# --- members, failover, services ---------------------------------------------------------------


def test_member_count_per_environment(env: str) -> None:
    sts = members(rendered(CHART, env))
    assert sts["spec"]["replicas"] == MEMBERS[env]
    assert sts["spec"]["podManagementPolicy"] == "Parallel"


def test_patroni_uses_the_kubernetes_api_with_its_own_token_and_a_minimal_role(env: str) -> None:
    objects = rendered(CHART, env)
    sts = members(objects)
    pod = sts["spec"]["template"]["spec"]
    env_vars = env_of(container(sts, "postgresql"))
    assert env_vars["DCS_ENABLE_KUBERNETES_API"] == "true"
    assert env_vars["KUBERNETES_USE_CONFIGMAPS"] == "true"
    assert env_vars["KUBERNETES_ROLE_LABEL"] == "spilo-role"
    assert env_vars["KUBERNETES_BYPASS_API_SERVICE"] == "false"
    labels = yaml.safe_load(env_vars["KUBERNETES_LABELS"])
    assert labels.items() <= sts["spec"]["template"]["metadata"]["labels"].items()
    assert sts["spec"]["template"]["metadata"]["labels"]["cluster-name"] == env_vars["SCOPE"]
    assert pod["automountServiceAccountToken"] is True

    role = one(objects, "Role", "-postgresql")
    granted = {r for rule in role["rules"] for r in rule["resources"]}
    assert granted == {"configmaps", "pods"}
    for rule in role["rules"]:
        assert rule["apiGroups"] == [""] and "*" not in rule["verbs"]
    binding = one(objects, "RoleBinding", "-postgresql")
    assert binding["subjects"][0]["name"] == pod["serviceAccountName"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]


def test_only_the_members_and_the_update_hook_mount_a_service_account_token(env: str) -> None:
    objects = rendered(CHART, env)
    for sa in find(objects, "ServiceAccount"):
        expected = sa["metadata"]["name"].endswith(("-postgresql", "-update"))
        assert sa["automountServiceAccountToken"] is expected, sa["metadata"]["name"]
    for owner in pod_templates(objects):
        expected = owner["kind"] == "StatefulSet" or owner["metadata"]["name"].endswith("-update")
        assert owner["spec"]["template"]["spec"]["automountServiceAccountToken"] is expected
        # exactly the pods that call the Kubernetes API carry the label security-baseline selects
        labels = owner["spec"]["template"]["metadata"]["labels"]
        assert (labels.get("access.spotify-ai-agent.io/kube-api") == "true") is expected, owner["metadata"][
            "name"
        ]


def test_read_write_read_only_and_headless_services(env: str) -> None:
    objects = rendered(CHART, env)
    selector = members(objects)["spec"]["selector"]["matchLabels"]
    primary = one(objects, "Service", "-primary")
    replicas = one(objects, "Service", "-replicas")
    headless = one(objects, "Service", "-headless")
    assert primary["spec"]["selector"] == {**selector, "spilo-role": "master"}
    assert replicas["spec"]["selector"] == {**selector, "spilo-role": "replica"}
    assert headless["spec"]["selector"] == selector
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is True
    assert members(objects)["spec"]["serviceName"] == headless["metadata"]["name"]
    for svc in (primary, replicas, headless):
        assert {"name": "postgresql", "port": 5432, "targetPort": "postgresql"} in svc["spec"]["ports"]


def test_patroni_label_values_match_the_service_selectors() -> None:
    objects = rendered(CHART, "production")
    config = yaml.safe_load(one(objects, "ConfigMap", "-postgresql-config")["data"]["spilo.yaml"])
    assert config["kubernetes"]["leader_label_value"] == "master"
    assert config["kubernetes"]["follower_label_value"] == "replica"
    assert config["bootstrap"]["dcs"]["synchronous_mode"] is True
    assert config["bootstrap"]["dcs"]["ttl"] == 30


def test_probes_on_every_long_running_container(env: str) -> None:
    for owner in pod_templates(rendered(CHART, env)):
        if owner["kind"] == "Job":
            continue
        for c in owner["spec"]["template"]["spec"]["containers"]:
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                assert probe in c, f"{owner['metadata']['name']}/{c['name']} lacks {probe}"
    sts = members(rendered(CHART, env))
    spilo = container(sts, "postgresql")
    assert spilo["livenessProbe"]["httpGet"] == {"path": "/liveness", "port": "patroni"}
    assert spilo["readinessProbe"]["httpGet"] == {"path": "/readiness", "port": "patroni"}


# --- pooling ------------------------------------------------------------------------------------


def test_pgbouncer_replicas_and_autoscaling(env: str) -> None:
    objects = rendered(CHART, env)
    deployment = one(objects, "Deployment", "-pgbouncer")
    hpas = find(objects, "HorizontalPodAutoscaler", "-pgbouncer")
    if env == "development":
        assert deployment["spec"]["replicas"] == 1 and not hpas
        return
    assert len(hpas) == 1
    assert hpas[0]["spec"]["minReplicas"] >= 2
    assert hpas[0]["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"],
    }  # fmt: skip
    assert "replicas" not in deployment["spec"]  # the HPA owns it
    pdb = one(objects, "PodDisruptionBudget", "-pgbouncer")
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_pgbouncer_points_at_the_primary_and_keeps_the_password_out_of_configmaps(env: str) -> None:
    objects = rendered(CHART, env)
    ini = one(objects, "ConfigMap", "-pgbouncer-config")["data"]["pgbouncer.ini"]
    primary = one(objects, "Service", "-primary")["metadata"]["name"]
    assert f"* = host={primary}.{CHART}.svc port=5432" in ini
    assert "auth_type = scram-sha-256" in ini and "server_tls_sslmode = require" in ini
    deployment = one(objects, "Deployment", "-pgbouncer")
    pooler = container(deployment, "pgbouncer")
    assert pooler["command"] == ["/bin/sh", "/etc/pgbouncer/config/pgbouncer.sh"]
    assert all("secretKeyRef" not in str(v) for v in env_of(pooler).values())
    assert {"name": "credentials", "mountPath": "/credentials", "readOnly": True} in pooler["volumeMounts"]
    service = one(objects, "Service", "-pgbouncer")
    assert service["spec"]["ports"][0]["port"] == 6432


# --- backups and restore --------------------------------------------------------------------------


def test_backups_are_kept_30_days_in_production() -> None:
    spilo = env_of(container(members(rendered(CHART, "production")), "postgresql"))
    assert spilo["USE_WALG_BACKUP"] == "true" and spilo["USE_WALG_RESTORE"] == "true"
    assert spilo["BACKUP_NUM_TO_RETAIN"] == "30"
    assert spilo["BACKUP_SCHEDULE"] == "0 1 * * *"
    assert spilo["WAL_S3_BUCKET"] and spilo["WAL_BUCKET_SCOPE_PREFIX"] == ""
    config = yaml.safe_load(
        one(rendered(CHART, "production"), "ConfigMap", "-postgresql-config")["data"]["spilo.yaml"]
    )
    assert config["bootstrap"]["dcs"]["postgresql"]["parameters"]["archive_timeout"] == "60s"


def test_production_reaches_the_object_store_by_workload_identity_without_static_keys() -> None:
    objects = rendered(CHART, "production")
    spilo = env_of(container(members(objects), "postgresql"))
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} & spilo.keys()
    sa = one(objects, "ServiceAccount", "-postgresql")
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    # only the pods that back up or restore carry the object-store egress label
    for owner in pod_templates(objects):
        labels = owner["spec"]["template"]["metadata"]["labels"]
        reaches = owner["kind"] == "StatefulSet" or owner["metadata"]["name"].endswith("-drill")
        assert (labels.get("access.spotify-ai-agent.io/object-store") == "true") is reaches, owner[
            "metadata"
        ]["name"]


def test_static_keys_stay_possible() -> None:
    spilo = env_of(container(members(rendered(CHART, "staging")), "postgresql"))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert spilo[key]["secretKeyRef"]["name"] == "spotify-ai-agent-postgresql-ha-backup-s3"
    objects = render_with("staging", "backup.credentials.mode=workloadIdentity", "backup.s3.existingSecret=")
    assert "AWS_ACCESS_KEY_ID" not in env_of(container(members(objects), "postgresql"))
    assert "annotations" not in one(objects, "ServiceAccount", "-postgresql")["metadata"]


def test_no_backups_in_development() -> None:
    spilo = env_of(container(members(rendered(CHART, "development")), "postgresql"))
    assert not {"USE_WALG_BACKUP", "WAL_S3_BUCKET", "WALG_S3_PREFIX", "BACKUP_SCHEDULE"} & spilo.keys()


def test_custom_backup_prefix_and_s3_compatible_endpoint() -> None:
    objects = render_with(
        "production", "backup.s3.prefix=pg/prod", "backup.s3.endpoint=https://minio.storage.svc:9000",
        "backup.s3.forcePathStyle=true",
    )  # fmt: skip
    spilo = env_of(container(members(objects), "postgresql"))
    assert spilo["WALG_S3_PREFIX"] == "s3://spotify-ai-agent-production-backups/pg/prod"
    assert spilo["AWS_ENDPOINT"] == "https://minio.storage.svc:9000"
    assert spilo["AWS_S3_FORCE_PATH_STYLE"] == "true"
    assert "WAL_S3_BUCKET" not in spilo


def test_point_in_time_restore_bootstraps_a_new_cluster_from_the_source_backups() -> None:
    objects = render_with(
        "production", "restore.enabled=true", "restore.fromCluster=prod-postgres-postgresql-ha",
        "restore.targetTime=2025-03-01 09:29:00+00:00", release="prod-restored",
    )  # fmt: skip
    spilo = env_of(container(members(objects), "postgresql"))
    source = "s3://spotify-ai-agent-production-backups/spilo/prod-postgres-postgresql-ha/wal/16"
    assert spilo["CLONE_METHOD"] == "CLONE_WITH_WALE"
    assert spilo["CLONE_SCOPE"] == "prod-postgres-postgresql-ha"
    assert spilo["CLONE_WALG_S3_PREFIX"] == source
    assert spilo["CLONE_TARGET_TIME"] == "2025-03-01 09:29:00+00:00"
    assert "CLONE_AWS_SECRET_ACCESS_KEY" not in spilo  # production: workload identity, no static keys
    assert spilo["SCOPE"] == "prod-restored-postgresql-ha"  # a new cluster, archiving elsewhere


def test_restore_into_the_source_archive_is_refused() -> None:
    with pytest.raises(ToolError, match="would archive into the backups it restores from"):
        render_with(
            "production", "restore.enabled=true", "restore.fromCluster=prod-postgres-postgresql-ha",
            release="prod-postgres",
        )  # fmt: skip


def test_restore_target_time_needs_a_time_zone() -> None:
    with pytest.raises(ToolError, match=r"restore\.targetTime"):
        render_with(
            "production",
            "restore.enabled=true",
            "restore.fromCluster=x",
            "restore.targetTime=2025-03-01 09:29:00",
        )


def test_backups_need_the_credentials_secret() -> None:
    with pytest.raises(ToolError, match=r"backup\.s3\.existingSecret is required"):
        render_with("development", "backup.enabled=true", "backup.s3.bucket=b")


# --- TLS, metrics ------------------------------------------------------------------------------


def test_tls_from_cert_manager_in_production() -> None:
    objects = rendered(CHART, "production")
    cert = one(objects, "Certificate", "-tls")
    assert cert["spec"]["issuerRef"]["name"] == "spotify-ai-agent-ca"
    primary = one(objects, "Service", "-primary")["metadata"]["name"]
    assert f"{primary}.{CHART}.svc" in cert["spec"]["dnsNames"]
    sts = members(objects)
    spilo = env_of(container(sts, "postgresql"))
    assert spilo["SSL_CERTIFICATE_FILE"] == "/tls/tls.crt" and spilo["SSL_PRIVATE_KEY_FILE"] == "/tls/tls.key"
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == cert["spec"]["secretName"]
    assert volumes["tls"]["secret"]["defaultMode"] == 0o640
    ini = one(objects, "ConfigMap", "-pgbouncer-config")["data"]["pgbouncer.ini"]
    assert "client_tls_sslmode = require" in ini


def test_no_certificate_in_development() -> None:
    objects = rendered(CHART, "development")
    assert not find(objects, "Certificate")
    assert "SSL_CERTIFICATE_FILE" not in env_of(container(members(objects), "postgresql"))


def test_metrics_service_for_the_service_monitor(env: str) -> None:
    objects = rendered(CHART, env)
    services = find(objects, "Service", "-metrics")
    if env == "development":
        assert not services
        return
    svc = services[0]
    assert svc["metadata"]["labels"]["app.kubernetes.io/component"] == "metrics"
    assert {p["name"] for p in svc["spec"]["ports"]} == {"metrics", "patroni"}
    assert svc["spec"]["selector"] == members(objects)["spec"]["selector"]["matchLabels"]
    exporter = container(members(objects), "metrics")
    assert env_of(exporter)["DATA_SOURCE_PASS_FILE"] == "/credentials/metrics-password"


# --- every workload ----------------------------------------------------------------------------


def test_restricted_security_context_everywhere(env: str) -> None:
    for owner in pod_templates(rendered(CHART, env)):
        pod = owner["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] > 0 and pod["securityContext"]["fsGroup"] > 0
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for c in pod["containers"] + pod.get("initContainers", []):
            sc = c["securityContext"]
            where = f"{owner['metadata']['name']}/{c['name']}"
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["runAsNonRoot"] is True, where
            assert c["resources"]["requests"] and c["resources"]["limits"], where


def test_spilo_writable_paths_are_volumes() -> None:
    sts = members(rendered(CHART, "production"))
    mounts = {m["mountPath"]: m["name"] for m in container(sts, "postgresql")["volumeMounts"]}
    assert {"/run", "/tmp", "/dev/shm", "/home/postgres/pgdata"} <= mounts.keys()
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory"
    assert "emptyDir" in volumes[mounts["/run"]]
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == mounts["/home/postgres/pgdata"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "200Gi"


def test_zone_spread_and_host_anti_affinity(env: str) -> None:
    for owner in pod_templates(rendered(CHART, env)):
        if owner["kind"] == "Job":
            continue
        pod = owner["spec"]["template"]["spec"]
        own = owner["spec"]["selector"]["matchLabels"]
        spread = pod["topologySpreadConstraints"][0]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone"
        assert spread["labelSelector"]["matchLabels"] == own
        anti = pod["affinity"]["podAntiAffinity"]
        terms = anti.get("requiredDuringSchedulingIgnoredDuringExecution") or [
            t["podAffinityTerm"] for t in anti["preferredDuringSchedulingIgnoredDuringExecution"]
        ]
        assert terms[0]["topologyKey"] == "kubernetes.io/hostname"
    prod = members(rendered(CHART, "production"))["spec"]["template"]["spec"]
    assert "requiredDuringSchedulingIgnoredDuringExecution" in prod["affinity"]["podAntiAffinity"]


def test_pod_disruption_budgets_where_replicated(env: str) -> None:
    objects = rendered(CHART, env)
    pdbs = find(objects, "PodDisruptionBudget", "-postgresql")
    if MEMBERS[env] == 1:
        assert not pdbs
        return
    (pdb,) = pdbs
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert pdb["spec"]["selector"]["matchLabels"] == members(objects)["spec"]["selector"]["matchLabels"]
    if env == "production":
        assert pdb["spec"]["maxUnavailable"] == 1


def test_images_are_pinned(env: str) -> None:
    for owner in pod_templates(rendered(CHART, env)):
        pod = owner["spec"]["template"]["spec"]
        for c in pod["containers"] + pod.get("initContainers", []):
            repo, _, tag = c["image"].rpartition(":")
            assert repo and tag and tag != "latest", c["image"]


def test_config_checksums_roll_the_pods(env: str) -> None:
    objects = rendered(CHART, env)
    for owner in (members(objects), one(objects, "Deployment", "-pgbouncer")):
        annotations = owner["spec"]["template"]["metadata"]["annotations"]
        assert any(k.startswith("checksum/") and len(v) == 64 for k, v in annotations.items())


def test_only_member_settings_change_the_checksum() -> None:
    """Bootstrap/dynamic settings go through PATCH /config (update hook); member settings roll pods."""

    def checksum(objects: list[dict[str, Any]]) -> str:
        return str(members(objects)["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    base = checksum(render_with("staging"))
    assert base == checksum(render_with("staging", "patroni.ttl=45", "postgresql.parameters.work_mem=8MB"))
    assert base != checksum(render_with("staging", "patroni.followerLabelValue=standby"))


# --- passwords ------------------------------------------------------------------------------------


def test_generated_passwords_are_kept_and_never_in_values(env: str) -> None:
    # production reads it from security-baseline's ExternalSecret (global.externalSecrets.enabled); generated when off
    objects = (
        render_with(env, "global.externalSecrets.enabled=false")
        if env == "production"
        else rendered(CHART, env)
    )
    secret = one(objects, "Secret", "-credentials")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert set(secret["data"]) == {
        "superuser-password",
        "replication-password",
        "password",
        "metrics-password",
        "patroni-password",
    }
    assert all(len(v) >= 40 for v in secret["data"].values())  # base64 of 32 random characters
    values_text = (ROOT / "charts" / CHART / "values.yaml").read_text(encoding="utf-8")
    for value in secret["data"].values():
        assert value not in values_text
    template_text = (ROOT / "charts" / CHART / "templates" / "secret.yaml").read_text(encoding="utf-8")
    assert 'lookup "v1" "Secret"' in template_text


def test_existing_secret_replaces_the_generated_one() -> None:
    objects = render_with("production", "auth.existingSecret=pg-passwords")
    assert not find(objects, "Secret")
    spilo = env_of(container(members(objects), "postgresql"))
    assert spilo["PGPASSWORD_SUPERUSER"]["secretKeyRef"] == {
        "name": "pg-passwords",
        "key": "superuser-password",
    }
    assert spilo["PGPASSWORD_STANDBY"]["secretKeyRef"] == {
        "name": "pg-passwords",
        "key": "replication-password",
    }
    job = one(objects, "Job", "-provisioning")
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["credentials"]["secret"]["secretName"] == "pg-passwords"


def test_provisioning_job_is_a_bounded_hook() -> None:
    objects = rendered(CHART, "production")
    job = one(objects, "Job", "-provisioning")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert job["spec"]["ttlSecondsAfterFinished"] > 0 and job["spec"]["activeDeadlineSeconds"] > 0
    script = one(objects, "ConfigMap", "-provisioning")["data"]
    assert "SET log_statement = 'none';" in script["provision.sql"]
    assert "GRANT pg_monitor" in script["provision.sql"]
    assert "PGPASSWORD" not in env_of(container(job, "provisioning"))


# --- the seed's entry point ------------------------------------------------------------------------


def test_seed_render_with_node_count_and_retention(tmp_path: Path) -> None:
    text = render_template(
        CHART, {"cluster_name": "prod-postgres", "node_count": 5, "backup_retention_days": 30}, root=ROOT
    )
    objects = [d for d in yaml.safe_load_all(text) if d]
    sts = members(objects)
    assert sts["spec"]["replicas"] == 5
    spilo = env_of(container(sts, "postgresql"))
    assert spilo["BACKUP_NUM_TO_RETAIN"] == "30"
    assert spilo["SCOPE"] == "prod-postgres-postgresql-ha"
    assert sts["metadata"]["labels"]["spotify-ai-agent/cluster"] == "prod-postgres"


def test_verifying_the_server_certificate_needs_tls() -> None:
    with pytest.raises(ToolError, match=r"serverTLSSSLMode verify-ca/verify-full needs tls\.enabled"):
        render_with("development", "pgbouncer.serverTLSSSLMode=verify-full")
    ini = one(
        render_with("production", "pgbouncer.serverTLSSSLMode=verify-ca"), "ConfigMap", "-pgbouncer-config"
    )
    assert "server_tls_ca_file = /tls/ca.crt" in ini["data"]["pgbouncer.ini"]
