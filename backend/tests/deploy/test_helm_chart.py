"""The Helm chart, rendered by Helm's own engine (its Go SDK, through helm-python-sdk: no helm
binary is published on a package registry), linted by `helm lint` and yamllint, and validated
against the Kubernetes JSON schemas by kubernetes-validate."""

import re
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from tests.deploy import dockerfile
from tests.deploy.tools import ROOT, run, tool
from todo_api.web.health import router as health_router

CHART = ROOT / "deploy" / "helm" / "todo-api"
VALUE_FILES = sorted((CHART / "ci").glob("*-values.yaml"))
# The oldest Kubernetes the chart declares (Chart.yaml's kubeVersion) and the newest with schemas.
KUBERNETES_VERSIONS = ("1.25.0", "1.37.0")
SECRET_SETTINGS = {
    "DATABASE_URL",
    "BETTER_AUTH_SECRET",
    "METRICS_TOKEN",
    "REDIS_URL",
    "EVENTS_DATABASE_URL",
}


def render(values: dict[str, Any]) -> dict[str, str]:
    """Each manifest the chart renders for an install, by template path (empty ones left out)."""
    with helm_python.Chart.load(CHART) as chart:
        rendered = chart.render(values, name="todo", namespace="tasks", is_install=True)
    return {
        path: text.strip() + "\n"
        for path, text in rendered.items()
        if path.endswith(".yaml") and text.strip()
    }


def manifests(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The rendered objects by kind."""
    objects = [yaml.safe_load(text) for text in render(values).values()]
    return {obj["kind"]: obj for obj in objects}


def with_secret(**values: Any) -> dict[str, Any]:
    return {"secret": {"name": "todo-api"}} | values


def values_file(path: Path) -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(path.read_text())
    return values


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container["env"]}


@pytest.mark.parametrize("values", VALUE_FILES, ids=lambda path: path.name)
def test_helm_lint_is_clean(values: Path) -> None:
    report = helm_python.lint(CHART, values_file(values), strict=True)

    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # warnings and errors
    assert problems == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("values", VALUE_FILES, ids=lambda path: path.name)
def test_rendered_manifests_pass_yamllint_and_the_kubernetes_schemas(
    values: Path, version: str, tmp_path: Path
) -> None:
    rendered = render(values_file(values))
    path = tmp_path / "manifests.yaml"
    path.write_text("".join(f"---\n# Source: {name}\n{text}" for name, text in rendered.items()))

    linted = run(tool("yamllint"), "--strict", "--config-file", ".yamllint.yaml", str(path))
    validated = run(tool("kubernetes-validate"), "--strict", "-k", version, str(path))

    assert linted.returncode == 0, linted.stdout
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.count(" passed for resource ") == len(rendered)


def test_values_and_chart_files_pass_yamllint() -> None:
    files = ["Chart.yaml", "values.yaml", *(f"ci/{path.name}" for path in VALUE_FILES)]

    result = run(tool("yamllint"), "--strict", *(str(CHART / name) for name in files))

    assert result.returncode == 0, result.stdout


def test_a_release_needs_the_name_of_its_secret() -> None:
    with pytest.raises(helm_python.HelmError, match=re.escape("secret.name is required")):
        render({})


def test_secrets_come_only_from_the_named_secret() -> None:
    objects = manifests(with_secret())
    api = env_of(objects["Deployment"]["spec"]["template"]["spec"]["containers"][0])

    assert "Secret" not in objects  # the chart never holds secret values
    assert api.keys() >= SECRET_SETTINGS
    for name in SECRET_SETTINGS:
        reference = api[name]["valueFrom"]["secretKeyRef"]
        assert reference["name"] == "todo-api"
        assert reference["key"] == name
        assert reference.get("optional", False) == (name != "DATABASE_URL")


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook_on_its_own_url() -> None:
    values = with_secret() | {"secret": {"name": "s", "keys": {"migrationDatabaseUrl": "DIRECT"}}}
    job = manifests(values)["Job"]
    annotations = job["metadata"]["annotations"]
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]

    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "hook-succeeded" in annotations["helm.sh/hook-delete-policy"]
    assert container["command"] == ["todo-api", "migrate"]
    assert env_of(container)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DIRECT"
    assert not env_of(container).keys() & (SECRET_SETTINGS - {"DATABASE_URL"})  # least privilege
    assert pod["restartPolicy"] == "Never"
    assert "serviceAccountName" not in pod  # a pre-install hook runs before chart objects exist


def test_migration_job_uses_the_app_url_unless_told_otherwise() -> None:
    container = manifests(with_secret())["Job"]["spec"]["template"]["spec"]["containers"][0]

    assert env_of(container)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL"


def test_probes_point_at_the_health_routes_the_app_serves() -> None:
    container = manifests(with_secret())["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    served = {route.path for route in health_router.routes}  # type: ignore[attr-defined]

    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert {"/health", "/health/ready"} <= served
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


def test_the_pod_runs_the_image_command_on_the_port_and_workers_it_reads() -> None:
    values = with_secret(containerPort=9000, workers=2)
    container = manifests(values)["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    command = " ".join(dockerfile.exec_form(dockerfile.only("runtime", "CMD").arguments))

    assert "command" not in container
    assert "args" not in container
    assert env_of(container)["PORT"]["value"] == "9000"
    assert env_of(container)["WEB_CONCURRENCY"]["value"] == "2"
    assert '"$PORT"' in command
    assert '"$WEB_CONCURRENCY"' in command


def test_pods_run_as_the_image_user_with_a_read_only_root() -> None:
    objects = manifests(with_secret())
    image_uid = int(dockerfile.only("runtime", "USER").arguments.split(":")[0])
    for kind in ("Deployment", "Job"):
        pod = objects[kind]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        volumes = {volume["name"]: volume for volume in pod["volumes"]}

        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == image_uid
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108  (a mount path)


def test_autoscaling_owns_the_replica_count_when_on() -> None:
    scaled = manifests(with_secret())
    fixed = manifests(with_secret(autoscaling={"enabled": False}, replicaCount=3))

    hpa = scaled["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == scaled["Deployment"]["metadata"]["name"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 10)
    assert "replicas" not in scaled["Deployment"]["spec"]
    assert "HorizontalPodAutoscaler" not in fixed
    assert fixed["Deployment"]["spec"]["replicas"] == 3


def test_the_service_selects_the_api_pods_and_not_the_migration_job() -> None:
    objects = manifests(with_secret())
    selector = objects["Service"]["spec"]["selector"].items()
    api_labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"].items()
    job_labels = objects["Job"]["spec"]["template"]["metadata"]["labels"].items()

    assert selector <= api_labels
    assert not selector <= job_labels


def test_the_image_tag_defaults_to_the_app_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = (ROOT / "pyproject.toml").read_text()
    image = manifests(with_secret())["Deployment"]["spec"]["template"]["spec"]["containers"][0]

    assert image["image"] == f"todo-api:{chart['appVersion']}"
    assert re.search(rf'(?m)^version = "{re.escape(chart["appVersion"])}"$', project)
