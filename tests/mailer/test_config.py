"""The mailer's configuration and filters: mistakes stop the process at start, by name."""

import json
from pathlib import Path

import pytest

from bursa.mailer import config as mailer_config
from bursa.mailer.expression import ExpressionError, parse
from tests.signing.keys import rsa_pem


def test_expression_matches_fields_lists_and_groups() -> None:
    accepted = parse({"record.state": "accepted", "not": {"changes.state": None}})
    assert accepted.matches({"record": {"state": "accepted"}, "changes": {"state": "submitted"}})
    assert not accepted.matches({"record": {"state": "accepted"}, "changes": {}})
    assert not accepted.matches({"record": {"state": "submitted"}, "changes": {"state": "x"}})
    either = parse({"any": [{"record.key": "phone"}, {"record.user.role": ["admin", "support"]}]})
    assert either.matches({"record": {"key": "phone"}})
    assert either.matches({"record": {"key": "email", "user": {"role": "support"}}})
    assert not either.matches({"record": {"key": "email", "user": "not a mapping"}})


@pytest.mark.parametrize(
    "raw",
    [
        "record.state == 'accepted'",  # never evaluated as code
        {"state": "accepted"},  # paths start at record or changes
        {"record.state": {"$ne": 1}},
        {"record.state": []},
        {"any": []},
        {},
    ],
)
def test_expression_refuses_anything_but_data(raw: object) -> None:
    with pytest.raises(ExpressionError):
        parse(raw)


def test_built_in_configuration_covers_the_notifications() -> None:
    config = mailer_config.load()
    keys = {rule.key for rule in config.events}
    assert keys == {
        "label.created",
        "label.updated",
        "session.create",
        "user.password.change",
        "user.account.deleted",
        "deposit.updated",
        "withdraw.updated",
        "beneficiary.created",
        "beneficiary.updated",
    }
    assert all(set(rule.templates) >= {"EN", "RU"} for rule in config.events)
    assert config.missing_signers() == ["barong", "peatio"]


def test_a_file_with_only_a_keychain_keeps_the_built_in_events(tmp_path: Path) -> None:
    _, public = rsa_pem("peatio")
    path = tmp_path / "mailer.yml"
    path.write_text(
        f"keychain:\n  peatio:\n    algorithm: RS256\n    value: {json.dumps(public)}\n"
    )
    config = mailer_config.load(path)
    assert config.missing_signers() == ["barong"]
    assert len(config.events) == len(mailer_config.load().events)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("keychain: {peatio: {algorithm: HS256, value: abc}}", "keychain.peatio"),
        (
            f"keychain: {{peatio: {{algorithm: RS256, value: {json.dumps(rsa_pem('p')[0])}}}}}",
            "private",
        ),
        ("events: [{key: a.b, exchange: nowhere, templates: {}}]", "events[0].exchange"),
        (
            "events: [{key: a.b, exchange: peatio_model,"
            " templates: {EN: {subject: x, template_path: missing.txt}}}]",
            "cannot read",
        ),
        (
            "events: [{key: a.b, exchange: peatio_model,"
            " templates: {EN: {subject: '{{ x', template_path: mailer.yml}}}]",
            "template error",
        ),
        ("retry: {attempts: -1}", "retry.attempts"),
        ("events: [", "not valid YAML"),
    ],
)
def test_configuration_errors_name_the_entry(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "mailer.yml"
    path.write_text(text)
    with pytest.raises(mailer_config.ConfigError, match=where.replace("[", r"\[")):
        mailer_config.load(path)


def test_templates_cannot_reach_python(tmp_path: Path) -> None:
    (tmp_path / "evil.txt").write_text("{{ record.__class__.__mro__ }}")
    path = tmp_path / "mailer.yml"
    path.write_text(
        "events: [{key: a.b, exchange: peatio_model,"
        " templates: {EN: {subject: s, template_path: evil.txt}}}]"
    )
    template = mailer_config.load(path).events[0].templates["EN"]
    assert "object" not in template.body.render(record={})
