"""The alert rules (deploy/prometheus/alerts.yml): valid for Prometheus, each one tested by
promtool with series that make it fire and series that must not, each telling the
operator how bad it is and what to do, and each watching a series Bursa exports."""

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.prometheus_names import DEPLOY, debian_binary, exported_series_names, names_in

RULES = DEPLOY / "prometheus" / "alerts.yml"
RULE_TESTS = DEPLOY / "prometheus" / "alerts_test.yml"
SCRAPE_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
SEVERITIES = {"critical", "warning"}
# What the issue asks the rules to watch, by the alerts that do it.
REQUIRED = {
    "ledger break": {"BursaLedgerBroken", "BursaLedgerNotVerified"},
    "engine down or no standby": {"BursaEngineDown", "BursaEngineNoStandby"},
    "outbox age": {"BursaOutboxStale"},
    "scanner behind": {"BursaScannerBehind"},
    "hot wallet low or over its maximum": {"BursaHotWalletLow", "BursaHotWalletOverMax"},
    "withdrawal stuck in a state": {"BursaWithdrawalStuck"},
    "5xx rate": {"BursaHttp5xxRate"},
    "latency over target": {"BursaOrderLatencyHigh"},
}


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _promtool(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    promtool = debian_binary("promtool")
    return subprocess.run(
        [promtool, *map(str, arguments)], capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_accepts_the_rules_and_the_scrape_config() -> None:
    rules = _promtool("check", "rules", RULES)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = _promtool("check", "config", SCRAPE_CONFIG)
    assert config.returncode == 0, config.stdout + config.stderr


def test_every_alert_fires_and_stays_quiet_as_promtool_tests_say() -> None:
    result = _promtool("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    cases = [
        case
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]
    for rule in _alerts():
        mine = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in mine), f"{rule['alert']}: no case fires it"
        assert any(not case["exp_alerts"] for case in mine), f"{rule['alert']}: none quiet"


def test_the_issue_s_alerts_are_all_there() -> None:
    names = {rule["alert"] for rule in _alerts()}
    for what, alerts in REQUIRED.items():
        assert alerts <= names, f"{what}: missing {sorted(alerts - names)}"


def test_every_alert_waits_says_how_bad_and_what_to_do() -> None:
    for rule in _alerts():
        name = rule["alert"]
        assert rule.get("for"), f"{name}: no `for:` (a single bad scrape would page)"
        assert rule["labels"]["severity"] in SEVERITIES, name
        annotations = rule["annotations"]
        assert annotations["summary"].strip(), name
        assert len(annotations["description"].split()) >= 10, f"{name}: say what to do"


def test_every_alert_watches_series_bursa_exports() -> None:
    exported = exported_series_names()
    for rule in _alerts():
        used = names_in(rule["expr"])
        assert used or "up{" in rule["expr"], f"{rule['alert']} watches no Bursa series"
        assert used <= exported, f"{rule['alert']}: not exported: {sorted(used - exported)}"
