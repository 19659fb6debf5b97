"""The single-host stack (deploy/compose/docker-compose.yml): docker-compose accepts it,
every Bursa role runs a command this Bursa has, the services start in the order the roles
need, each long-running one has a healthcheck, and Prometheus scrapes what runs."""

import os
import re
import shutil
import subprocess
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer import _click as click
from typer.core import TyperGroup

from bursa.cli.main import load
from tests.deploy.prometheus_names import debian_binary

COMPOSE_DIR = Path(__file__).resolve().parents[2] / "deploy" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
ENV_EXAMPLE = COMPOSE_DIR / "env.example"
IN_CI = os.environ.get("CI") == "true"
BURSA_IMAGE = "${BURSA_IMAGE:-bursa:local}"
METRICS_PORT = "9100"
# Every role the issue names, by its command: at least this many services run each.
ROLES: dict[tuple[str, ...], int] = {
    ("db", "upgrade"): 1,  # the migrations, one-shot
    ("engine", "run"): 2,  # one active, one standing by
    ("api",): 1,
    ("events", "relay"): 1,
    ("mailer", "run"): 1,
    ("custody", "scan"): 1,
    ("custody", "sweep"): 1,
    ("bots", "run"): 1,
}
STORES = {"postgres", "rabbitmq", "redis", "openbao", "prometheus", "grafana"}
ONE_SHOTS = {"migrations", "openbao-setup"}
Service = dict[str, Any]


def _services() -> dict[str, Service]:
    services: dict[str, Service] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


def _bursa_services() -> dict[str, Service]:
    return {name: s for name, s in _services().items() if s.get("image") == BURSA_IMAGE}


def _depends_on(service: Service) -> dict[str, str]:
    """Each dependency and its condition (a list form means started)."""
    found = service.get("depends_on", {})
    if isinstance(found, list):
        return dict.fromkeys(found, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in found.items()}


def _required_variables() -> set[str]:
    return set(re.findall(r"\$\{(\w+):\?", COMPOSE_FILE.read_text()))


def _example_variables() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text().splitlines()
    pairs = (line.partition("=") for line in lines if line and not line.startswith("#"))
    return {name: value for name, _, value in pairs}


def _bursa_command(words: list[str]) -> click.Command:
    """The click command ``bursa WORDS…`` runs (the options after it left aside)."""
    command = load(words[0])
    assert command is not None, f"bursa has no command {words[0]!r}"
    for word in words[1:]:
        if not isinstance(command, TyperGroup) or word.startswith("-"):
            break
        sub = command.get_command(click.Context(command), word)
        assert sub is not None, f"bursa {words[0]} has no subcommand {word!r}"
        command = sub
    return command


def test_docker_compose_accepts_the_file() -> None:
    compose = shutil.which("docker-compose")
    if compose is None:
        message = "docker-compose is missing: apt-get install -y docker-compose"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    # The example leaves the secrets empty: an operator's own values stand in for them.
    filled = {
        name: value or f"operator-{name.lower()}" for name, value in _example_variables().items()
    }
    environment = {**os.environ, **filled}
    profiles = ["--profile", "custody", "--profile", "bots"]
    result = subprocess.run(
        [compose, "--file", str(COMPOSE_FILE), *profiles, "config", "--quiet"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_bursa_role_runs_a_command_this_bursa_has() -> None:
    commands = [tuple(s["command"]) for s in _bursa_services().values()]
    for role, at_least in ROLES.items():
        running = [c for c in commands if c[: len(role)] == role]
        assert len(running) >= at_least, f"bursa {' '.join(role)}: {len(running)} service(s)"
    for command in commands:
        assert isinstance(_bursa_command(list(command)), click.Command)


def test_the_stack_has_its_stores_and_monitoring() -> None:
    assert _services().keys() >= STORES | ONE_SHOTS


def test_images_are_bursas_own_or_pinned_public_ones() -> None:
    bursa = _bursa_services()
    assert len(bursa) >= sum(ROLES.values())
    for name, service in _services().items():
        if name in bursa:
            continue
        image = service["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image else ""
        assert tag and tag != "latest", f"{name}: {image} is not pinned to a version"


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in _services().items():
        check = service.get("healthcheck", {})
        if name in ONE_SHOTS:
            assert service["restart"] == "no", name
            continue
        assert not check.get("disable"), name
        assert check.get("test"), f"{name} has no healthcheck"


def test_workers_are_checked_on_the_port_they_serve_health_on() -> None:
    for name, service in _bursa_services().items():
        if name in ONE_SHOTS:
            continue
        probe = " ".join(service["healthcheck"]["test"])
        environment = service["environment"]
        port = environment.get("BURSA_PORT") if service["command"] == ["api"] else None
        port = port or environment["BURSA_METRICS_PORT"]
        assert f"127.0.0.1:{port}/" in probe, name
        assert "/health/ready" in probe, name
        if service["command"][0] != "api":
            assert environment["BURSA_METRICS_HOST"] == "0.0.0.0", name  # Prometheus scrapes


def test_roles_start_after_the_migrations_and_the_api_after_an_engine() -> None:
    services = _services()
    graph = {name: set(_depends_on(s)) for name, s in services.items()}
    for name, needs in graph.items():
        assert needs <= services.keys(), f"{name} depends on a missing service"
    order = list(TopologicalSorter(graph).static_order())  # raises on a cycle

    def before(first: str, then: str) -> bool:
        return order.index(first) < order.index(then)

    migrations = _depends_on(services["migrations"])
    assert migrations["postgres"] == "service_healthy"
    assert migrations["openbao-setup"] == "service_completed_successfully"
    for name in _bursa_services().keys() - {"migrations"}:
        assert before("migrations", name), name
    for name in ("engine", "engine-standby", "relay"):
        assert _depends_on(services[name])["migrations"] == "service_completed_successfully"
        assert _depends_on(services[name])["rabbitmq"] == "service_healthy"
    api = _depends_on(services["api"])
    assert api["engine"] == "service_healthy"
    assert api["redis"] == "service_healthy"
    assert before("openbao", "openbao-setup")
    assert before("prometheus", "grafana")


def test_optional_roles_stay_off_unless_asked() -> None:
    services = _services()
    # A scanner with no blockchain configured exits; the bots need their own file.
    for name in ("custody-scan", "custody-sweep", "bots"):
        assert services[name].get("profiles"), name
    default = [n for n, s in services.items() if not s.get("profiles")]
    assert {"migrations", "engine", "engine-standby", "api", "relay", "mailer"} <= set(default)


def test_every_secret_is_asked_for_and_in_the_example() -> None:
    required = _required_variables()
    assert {"POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "BURSA_VAULT_TOKEN"} <= required
    assert required <= _example_variables().keys()
    secrets = {name for name in required if name.endswith(("PASSWORD", "TOKEN"))}
    shared = {name for name in secrets if _example_variables()[name]}
    assert not shared, f"the example gives {shared} a value every copy would share"
    for service in _bursa_services().values():
        environment = service["environment"]
        for name in ("BURSA_DATABASE_URL", "BURSA_AMQP_URL", "BURSA_VAULT_TOKEN"):
            assert ":?" in environment[name], f"{name} has a default: it must be set"


def test_mounted_files_exist() -> None:
    for name, service in _services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                optional = name == "bots"  # the operator's own bots file
                assert optional or (COMPOSE_DIR / source).exists(), f"{name}: {source}"


def test_prometheus_scrapes_each_role_where_it_serves_metrics(tmp_path: Path) -> None:
    config = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for group in job.get("static_configs", [])
        for target in group["targets"]
    }
    names = {
        name
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    }
    for name, service in _bursa_services().items():
        if name in ONE_SHOTS:
            continue
        if service["command"] == ["api"]:
            assert name in names
        else:
            assert f"{name}:{METRICS_PORT}" in targets, name
    # promtool reads the rules file the compose file mounts next to the config.
    shutil.copy(COMPOSE_DIR / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copy(COMPOSE_DIR.parent / "prometheus" / "alerts.yml", tmp_path / "alerts.yml")
    promtool = debian_binary("promtool")
    result = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_missing_role_command_is_caught() -> None:
    """The command check above is not vacuous: a misspelt role fails it."""
    with pytest.raises(AssertionError):
        _bursa_command(["engine", "rnu"])
    with pytest.raises(AssertionError):
        _bursa_command(["apis"])
