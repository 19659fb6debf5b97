"""The mailer's configuration: Barong's ``mailer.yml`` format, read once at start.

::

    keychain:                      # public keys of the event signers (PEM or Base64 PEM)
      peatio: {algorithm: RS256, value: "-----BEGIN PUBLIC KEY-----..."}
    exchanges:
      peatio_model: {name: peatio.events.model, signer: peatio}
    default_language: EN
    retry: {delay_s: 120, attempts: 5}
    events:
      - name: Deposit accepted
        key: deposit.updated
        exchange: peatio_model
        expression: {record.state: accepted}
        templates:
          EN: {subject: Deposit accepted, template_path: deposit_accepted.en.txt}

A file without ``events`` (or ``exchanges``) keeps the built-in ones, so an operator's file
may hold just the keychain. Template paths are relative to the file that names them.
Every template is compiled here, so a broken one stops the process at start, not at the
first event.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import ChainableUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bursa.mailer.expression import Expression, ExpressionError, parse
from bursa.signing import multisig

DEFAULT_CONFIG = Path(__file__).parent / "default.yaml"

# Sandboxed: a template may read what it is given, never call into Python. Missing
# fields render empty (records compact their null fields away).
_TEXT = SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)
_HTML = SandboxedEnvironment(autoescape=True, undefined=ChainableUndefined)


class ConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MailTemplate:
    subject: Template
    body: Template
    html: bool  # a ``.html`` template: escaped, sent as the HTML part
    path: Path


@dataclass(frozen=True, slots=True)
class Exchange:
    id: str
    name: str
    signer: str


@dataclass(frozen=True, slots=True)
class EventRule:
    name: str
    key: str  # routing key, e.g. "deposit.updated"
    exchange: Exchange
    expression: Expression | None
    templates: Mapping[str, MailTemplate]  # by language, upper case


@dataclass(frozen=True, slots=True)
class MailerConfig:
    keychain: Mapping[str, multisig.VerifyKey]
    exchanges: Mapping[str, Exchange]
    events: tuple[EventRule, ...]
    default_language: str = "EN"
    retry_delay_s: float = 120.0
    retry_attempts: int = 5
    source: str = field(default="built-in")

    def rules_for(self, exchange: str, key: str) -> list[tuple[int, EventRule]]:
        return [
            (number, rule)
            for number, rule in enumerate(self.events)
            if rule.exchange.name == exchange and rule.key == key
        ]

    def with_keys(self, keys: Mapping[str, multisig.VerifyKey]) -> "MailerConfig":
        """This configuration with signer keys the process knows added (the file wins)."""
        merged = {**keys, **self.keychain}
        return MailerConfig(
            merged,
            self.exchanges,
            self.events,
            self.default_language,
            self.retry_delay_s,
            self.retry_attempts,
            self.source,
        )

    def missing_signers(self) -> list[str]:
        """Signers of configured events without a key in the keychain."""
        return sorted({r.exchange.signer for r in self.events} - set(self.keychain))


def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a mapping")
    return raw


def _text(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{name}: a non-empty string is required")
    return value


def _keychain(raw: Any) -> dict[str, multisig.VerifyKey]:
    keys: dict[str, multisig.VerifyKey] = {}
    for kid, entry in _mapping(raw or {}, "keychain").items():
        where = f"keychain.{kid}"
        entry = _mapping(entry, where)
        try:
            keys[str(kid)] = multisig.verify_key(
                str(kid), _text(entry, "algorithm", where), _text(entry, "value", where)
            )
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
    return keys


def _exchanges(raw: Any) -> dict[str, Exchange]:
    exchanges: dict[str, Exchange] = {}
    for ex_id, entry in _mapping(raw, "exchanges").items():
        where = f"exchanges.{ex_id}"
        entry = _mapping(entry, where)
        exchanges[str(ex_id)] = Exchange(
            str(ex_id), _text(entry, "name", where), _text(entry, "signer", where)
        )
    return exchanges


def _template(raw: Any, where: str, base: Path) -> MailTemplate:
    raw = _mapping(raw, where)
    path = (base / _text(raw, "template_path", where)).resolve()
    html = path.suffix == ".html"
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{where}.template_path: cannot read {path}: {exc.strerror}") from exc
    try:
        subject = _TEXT.from_string(_text(raw, "subject", where))
        body = (_HTML if html else _TEXT).from_string(source)
    except TemplateError as exc:
        raise ConfigError(f"{where}: template error: {exc}") from exc
    return MailTemplate(subject, body, html, path)


def _events(raw: Any, exchanges: Mapping[str, Exchange], base: Path) -> tuple[EventRule, ...]:
    if not isinstance(raw, list):
        raise ConfigError("events: must be a list")
    rules: list[EventRule] = []
    for number, entry in enumerate(raw):
        where = f"events[{number}]"
        entry = _mapping(entry, where)
        ex_id = _text(entry, "exchange", where)
        if ex_id not in exchanges:
            raise ConfigError(f"{where}.exchange: {ex_id!r} is not under exchanges")
        expression = None
        if entry.get("expression") is not None:
            try:
                expression = parse(entry["expression"], f"{where}.expression")
            except ExpressionError as exc:
                raise ConfigError(str(exc)) from exc
        templates = {
            str(lang).upper(): _template(t, f"{where}.templates.{lang}", base)
            for lang, t in _mapping(entry.get("templates"), f"{where}.templates").items()
        }
        if not templates:
            raise ConfigError(f"{where}.templates: at least one language is required")
        rules.append(
            EventRule(
                str(entry.get("name") or entry.get("key")),
                _text(entry, "key", where),
                exchanges[ex_id],
                expression,
                templates,
            )
        )
    return tuple(rules)


def _read(path: Path) -> Mapping[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    return _mapping(raw or {}, str(path))


def load(path: Path | None = None) -> MailerConfig:
    """The configuration in ``path`` over the built-in one (``path`` None: built-in only)."""
    default = _read(DEFAULT_CONFIG)
    raw = _read(path) if path is not None else default
    base = path.parent if path is not None else DEFAULT_CONFIG.parent
    exchanges = _exchanges(raw["exchanges"] if "exchanges" in raw else default["exchanges"])
    if "events" in raw:
        events = _events(raw["events"], exchanges, base)
    else:
        events = _events(default["events"], exchanges, DEFAULT_CONFIG.parent)
    retry = _mapping(raw.get("retry") or {}, "retry")
    delay = retry.get("delay_s", 120)
    attempts = retry.get("attempts", 5)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 < delay <= 86_400:
        raise ConfigError("retry.delay_s: a number of seconds, above 0, at most 86400")
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 0 <= attempts <= 100:
        raise ConfigError("retry.attempts: a whole number from 0 to 100")
    language = raw.get("default_language", "EN")
    if not isinstance(language, str) or not language.strip():
        raise ConfigError("default_language: a language code such as EN")
    return MailerConfig(
        _keychain(raw.get("keychain")),
        exchanges,
        events,
        language.strip().upper(),
        float(delay),
        attempts,
        str(path) if path is not None else "built-in",
    )
