"""The bots' configuration file (Arke's shape), read and checked before anything runs::

    log_level: info
    accounts:
      - id: bursa
        driver: bursa              # bursa | opendax | ccxt
        host: https://exchange.example   # REST base; ws: defaults to it as ws(s)://
        key_env: BOTS_BURSA_KEY    # names of environment variables, never the values
        secret_env: BOTS_BURSA_SECRET
        delay: [0.1, 0.3]          # seconds between requests: a number or [min, max]
    strategies:
      - id: mm-btc
        type: fixed                # a strategy plugin (bursa.bots.plugins)
        period: 10                 # seconds between ticks; period_random_delay adds up to…
        params: {price: 30000, spread: 0.002, amount: 0.01, levels: 3, step: 0.001}
        target: {account_id: bursa, market_id: btcusd}
        sources: []                # books the strategy reads: [{account_id, market_id}]
        risk: {max_open_orders: 10, max_order_amount: 1}   # all optional, all positive
        on_stop: cancel            # cancel | keep the open orders when the bot stops
    kill_switch: {file: /run/bursa/bots.stop}   # relative paths: from the file's folder

Numbers are exact: a YAML number such as ``0.1`` is read from its text as
``Decimal("0.1")``, never through a float, and only plain decimal notation is accepted
(``1e-3``, ``0x10``, ``1_000`` and ``.5`` are refused, and ``010`` is ten). Quoted numbers
(``"0.1"``) read the same way. Secrets never live in the file: an account names the
environment variables that hold its API key and secret (``key_env``/``secret_env``), and a
``key:`` or ``secret:`` field is refused. Every problem is reported at once, each naming
the file, the account or strategy and the field:
``bots.yml: strategy "mm-btc": params.spread: must be positive``.
"""

import ast
import functools
import importlib.util
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyAddress,
    StrictBool,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bursa.bots import plugins
from bursa.bots.strategy import NotNegative, Positive, Strategy
from bursa.plain_input import PlainInt, is_amount

# ---------------------------------------------------------------------- reading YAML

_PLAIN_INTEGER = re.compile(r"-?[0-9]+")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, but numbers keep their exact value (see the module's
    docstring) and a key given twice in one mapping is an error, not a silent override."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice", key_node.start_mark
                )
            seen.add(key if isinstance(key, str | int) else id(key))
        return super().construct_mapping(node, deep=deep)


def _number(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    """A YAML float as the exact ``Decimal`` it shows; anything outside plain notation
    (exponents, ``.inf``, underscores) stays text, for the field's check to refuse."""
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    return Decimal(text) if is_amount(text, signed=True) else text


def _integer(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    """A YAML integer in base ten only (YAML 1.1 reads ``010`` as eight, ``0x10`` as 16)."""
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    return int(text) if _PLAIN_INTEGER.fullmatch(text) else text


_Loader.add_constructor("tag:yaml.org,2002:float", _number)
_Loader.add_constructor("tag:yaml.org,2002:int", _integer)


def load_yaml(text: str) -> object:
    """``text`` parsed with the exact-number loader."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


# ---------------------------------------------------------------------- the file's shape

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
MarketId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_./:-]{0,63}$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/\S*)?$")]
WsUrl = Annotated[str, StringConstraints(pattern=r"^wss?://[^\s/]+(/\S*)?$")]
LogLevel = Literal["debug", "info", "warning", "error"]

SECRET_FIELDS = frozenset({"key", "secret", "api_key", "api_secret", "secret_key", "password"})
SECTIONS = ("log_level", "accounts", "strategies", "kill_switch")


def _delay(value: object) -> object:
    """``delay: 0.2`` means ``[0.2, 0.2]``."""
    return value if isinstance(value, list | tuple) else (value, value)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


OPENDAX = "opendax"  # driver ccxt's exchange for any OpenDAX host (drivers.ccxt_opendax)


@functools.cache
def ccxt_exchange_ids() -> frozenset[str]:
    """ccxt's exchange ids (``ccxt.async_support.exchanges``) read from its source without
    importing it (importing ccxt takes seconds: too long for ``bots check``); empty when
    ccxt is not installed."""
    spec = importlib.util.find_spec("ccxt")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    source = Path(next(iter(spec.submodule_search_locations)), "async_support", "__init__.py")
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "exchanges" for target in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


class AccountConfig(BaseModel):
    """An exchange account the bots use: where it is and which variables hold its key.
    ``driver: ccxt`` names ccxt's ``exchange`` (an id of ``ccxt.exchanges``, or
    ``opendax`` with a ``host``); its ``host``, if any, replaces the API's origin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    driver: Literal["bursa", "opendax", "ccxt"]
    host: HttpUrl | None = None
    ws: WsUrl | None = None
    key_env: EnvName | None = None
    secret_env: EnvName | None = None
    exchange: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")] | None = None
    delay: Annotated[tuple[NotNegative, NotNegative], BeforeValidator(_delay)] = (
        Decimal(0),
        Decimal(0),
    )
    # The local address REST requests leave from (e.g. 127.0.0.2 next to an exchange on
    # 127.0.0.1, so the bot's requests can be told apart in its logs); unset: the system's.
    source_address: IPvAnyAddress | None = None

    @property
    def ws_url(self) -> str | None:
        """``ws``, or ``host`` with its scheme turned into ws(s)."""
        if self.ws is not None or self.host is None:
            return self.ws
        return re.sub(r"^http", "ws", self.host.rstrip("/"))

    @property
    def has_keys(self) -> bool:
        return self.key_env is not None and self.secret_env is not None

    def ccxt_problems(self) -> list[tuple[str, str]]:
        """(field, message) for each problem of a ``driver: ccxt`` account's exchange."""
        if self.driver != "ccxt":
            return []
        if self.exchange is None:
            return [("exchange", "required for driver ccxt (a ccxt exchange id, or opendax)")]
        if self.exchange == OPENDAX:
            if self.host is None:
                return [("host", "required for exchange opendax (the exchange's URL)")]
            return []
        known = ccxt_exchange_ids()
        if not known:
            return [("exchange", "ccxt is not installed")]
        if self.exchange not in known:
            return [
                (
                    "exchange",
                    f"{self.exchange!r} is not a ccxt exchange id (see ccxt.exchanges), "
                    "nor opendax",
                )
            ]
        return []


class MarketRef(BaseModel):
    """A market on one of the file's accounts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: Id
    market_id: MarketId

    def __str__(self) -> str:
        return f"{self.account_id}/{self.market_id}"


class Risk(BaseModel):
    """Limits the runner holds every strategy to (each optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_open_orders: Annotated[PlainInt, Field(ge=1)] | None = None
    max_order_amount: Positive | None = None
    max_position: Positive | None = None
    daily_loss_limit: Positive | None = None


class StrategyConfig(BaseModel):
    """One strategy as the file gives it; ``params`` is checked by the strategy's own
    ``Params`` (see ``ConfiguredStrategy``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    enabled: StrictBool = True
    period: Positive = Decimal(10)  # seconds between ticks
    # A source's book changing wakes the strategy early, but never sooner than this after
    # its previous tick (seconds; at most ``period``).
    min_period: Positive = Decimal("0.2")
    period_random_delay: NotNegative = Decimal(0)  # up to this many more, at random
    params: dict[str, Any] = Field(default_factory=dict)
    target: MarketRef
    sources: tuple[MarketRef, ...] = ()
    risk: Risk = Risk()
    on_stop: Literal["cancel", "keep"] = "cancel"

    @field_validator("min_period")
    @classmethod
    def _not_above_period(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        period = info.data.get("period")
        if isinstance(period, Decimal) and value > period:
            raise ValueError("must not be above period")
        return value


class _KillSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file: Annotated[str, StringConstraints(min_length=1)]


class _Top(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    log_level: Annotated[LogLevel, BeforeValidator(_lower)] = "info"
    kill_switch: _KillSwitch | None = None


# ---------------------------------------------------------------------- the result


@dataclass(frozen=True, slots=True)
class ConfiguredStrategy:
    """A strategy of the file with its plugin class and validated params."""

    config: StrategyConfig
    plugin: type[Strategy[Any]]
    params: BaseModel

    def build(self) -> Strategy[Any]:
        return self.plugin(self.config, self.params)


@dataclass(frozen=True, slots=True)
class BotsConfig:
    source: str
    log_level: LogLevel
    accounts: Mapping[str, AccountConfig]  # by id, in file order
    strategies: tuple[ConfiguredStrategy, ...]
    kill_switch: Path | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """An account's API key id and secret, from the environment (the secret is kept out
    of ``repr`` so that a log of the object never shows it)."""

    key: str
    secret: str = field(repr=False)


class MissingSecret(LookupError):
    """An environment variable named by ``key_env``/``secret_env`` is not set."""


def credentials(
    account: AccountConfig, environ: Mapping[str, str] | None = None
) -> Credentials | None:
    """``account``'s key and secret from ``environ`` (the process's environment by
    default); None for an account without keys (public data only)."""
    if account.key_env is None or account.secret_env is None:
        return None
    env = os.environ if environ is None else environ
    values = []
    for name in (account.key_env, account.secret_env):
        value = env.get(name)
        if not value:
            raise MissingSecret(f"account {account.id!r}: environment variable {name} is not set")
        values.append(value)
    return Credentials(values[0], values[1])


# ---------------------------------------------------------------------- problems


@dataclass(frozen=True, slots=True)
class Problem:
    entry: str  # 'account "bursa"', 'strategy "mm-btc"', 'strategies[2]', or "" for the file
    field: str
    message: str

    def describe(self, source: str) -> str:
        return ": ".join(part for part in (source, self.entry, self.field, self.message) if part)


class ConfigError(ValueError):
    """The bots' file is invalid; ``problems`` lists everything wrong with it."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(self.lines))

    @property
    def lines(self) -> list[str]:
        return [problem.describe(self.source) for problem in self.problems]


_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "required",
}


def _pydantic_problems(label: str, prefix: str, exc: ValidationError) -> list[Problem]:
    """Each of ``exc``'s errors as a problem; never with the input (it may be a secret
    pasted into the wrong field)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join([prefix] * bool(prefix) + [str(part) for part in error["loc"]])
        message = _MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))
        problems.append(Problem(label, name or "(entry)", message))
    return problems


# ---------------------------------------------------------------------- checking


def read_config(path: Path, *, environ: Mapping[str, str] | None = None) -> BotsConfig:
    """Read and check the bots' file at ``path``; raises ``ConfigError`` with every
    problem. With ``environ``, the variables its accounts name must be set there too."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [Problem("", "", f"cannot read: {exc.strerror}")]) from exc
    return parse_config(text, source, base=path.parent, environ=environ)


def parse_config(
    text: str,
    source: str,
    *,
    base: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> BotsConfig:
    """Check bots' YAML ``text``; ``source`` names it in messages and ``base`` is the
    folder relative paths start from (the current one by default)."""
    try:
        document = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or "not readable"
        raise ConfigError(source, [Problem(where, "", f"invalid YAML: {reason}")]) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(source, [Problem("", "", f"must be a mapping of {', '.join(SECTIONS)}")])
    problems: list[Problem] = [
        Problem("", str(key), f"unknown section (expected {', '.join(SECTIONS)})")
        for key in document
        if key not in SECTIONS
    ]
    top = _top(document, problems)
    accounts = _accounts(document, problems)
    strategies = _strategies(document, accounts, problems)
    if environ is not None:
        problems += _missing_variables(accounts, environ)
    if problems or top is None:
        raise ConfigError(source, problems)
    kill_switch = None
    if top.kill_switch is not None:
        kill_switch = (base or Path()) / Path(top.kill_switch.file).expanduser()
    return BotsConfig(
        source, top.log_level, {a.id: a for _, a in accounts}, tuple(strategies), kill_switch
    )


def _top(document: Mapping[str, Any], problems: list[Problem]) -> _Top | None:
    raw = {key: document[key] for key in ("log_level", "kill_switch") if key in document}
    try:
        return _Top.model_validate(raw)
    except ValidationError as exc:
        problems += _pydantic_problems("", "", exc)
        return None


def _raw_entries(
    document: Mapping[str, Any], section: str, kind: str, problems: list[Problem]
) -> list[tuple[str, dict[str, Any]]]:
    """(label, mapping) for each entry of ``section``; the label names the entry by id."""
    raw_entries = document.get(section)
    if raw_entries is None:
        return []
    if not isinstance(raw_entries, list):
        problems.append(Problem("", section, "must be a list"))
        return []
    entries = []
    for index, raw in enumerate(raw_entries):
        code = raw.get("id") if isinstance(raw, dict) else None
        label = f'{kind} "{code}"' if isinstance(code, str) and code else f"{section}[{index}]"
        if isinstance(raw, dict):
            entries.append((label, raw))
        else:
            problems.append(Problem(label, "", "must be a mapping of fields"))
    return entries


def _accounts(
    document: Mapping[str, Any], problems: list[Problem]
) -> list[tuple[str, AccountConfig]]:
    accounts: list[tuple[str, AccountConfig]] = []
    seen: set[str] = set()
    for label, raw in _raw_entries(document, "accounts", "account", problems):
        fields = dict(raw)
        for name in SECRET_FIELDS & fields.keys():
            del fields[name]
            problems.append(
                Problem(
                    label,
                    name,
                    "secrets never go in this file: put it in an environment variable and "
                    "name that variable with key_env/secret_env",
                )
            )
        try:
            account = AccountConfig.model_validate(fields)
        except ValidationError as exc:
            problems += _pydantic_problems(label, "", exc)
            continue
        if account.id in seen:
            problems.append(Problem(label, "id", "appears twice in accounts"))
            continue
        seen.add(account.id)
        problems += _account_problems(label, account)
        accounts.append((label, account))
    return accounts


def _account_problems(label: str, account: AccountConfig) -> list[Problem]:
    problems = []
    if account.driver in ("bursa", "opendax") and account.host is None:
        problems.append(Problem(label, "host", f"required for driver {account.driver}"))
    problems += [Problem(label, name, message) for name, message in account.ccxt_problems()]
    if account.driver != "ccxt" and account.exchange is not None:
        problems.append(Problem(label, "exchange", "only for driver ccxt"))
    if (account.key_env is None) != (account.secret_env is None):
        missing = "secret_env" if account.secret_env is None else "key_env"
        problems.append(Problem(label, missing, "give both key_env and secret_env, or neither"))
    low, high = account.delay
    if low > high:
        problems.append(Problem(label, "delay", "[min, max]: min is above max"))
    return problems


def _strategies(
    document: Mapping[str, Any],
    accounts: Sequence[tuple[str, AccountConfig]],
    problems: list[Problem],
) -> list[ConfiguredStrategy]:
    known = {account.id: account for _, account in accounts}
    strategies: list[ConfiguredStrategy] = []
    seen: set[str] = set()
    for label, raw in _raw_entries(document, "strategies", "strategy", problems):
        plugin, params = _plugin_and_params(label, raw, problems)
        references = _reference_problems(label, raw, known)
        try:
            config = StrategyConfig.model_validate(raw)
        except ValidationError as exc:
            problems += _pydantic_problems(label, "", exc) + references
            continue
        if config.id in seen:
            problems.append(Problem(label, "id", "appears twice in strategies"))
        seen.add(config.id)
        problems += references
        if plugin is not None and params is not None:
            strategies.append(ConfiguredStrategy(config, plugin, params))
    return strategies


def _plugin_and_params(
    label: str, raw: Mapping[str, Any], problems: list[Problem]
) -> tuple[type[Strategy[Any]] | None, BaseModel | None]:
    """The strategy's plugin and its checked params (None where either is wrong; a
    ``type`` that is not text is left for the model's own check)."""
    name = raw.get("type")
    if not isinstance(name, str) or not name:
        return None, None
    try:
        plugin = plugins.load(name)
    except plugins.PluginError as exc:
        problems.append(Problem(label, "type", str(exc)))
        return None, None
    raw_params = raw.get("params")
    try:
        return plugin, plugin.Params.model_validate({} if raw_params is None else raw_params)
    except ValidationError as exc:
        problems += _pydantic_problems(label, "params", exc)
        return plugin, None


def _reference_problems(
    label: str, raw: Mapping[str, Any], known: Mapping[str, AccountConfig]
) -> list[Problem]:
    """The accounts ``raw``'s target and sources name must exist, and the target's must
    have keys. Read from the raw entry, so that they are checked even when another of its
    fields is wrong (a malformed reference is the model's to report)."""
    target, sources = raw.get("target"), raw.get("sources")
    refs = [("target", target)]
    if isinstance(sources, list):
        refs += [(f"sources[{index}]", ref) for index, ref in enumerate(sources)]
    problems = []
    for where, ref in refs:
        account_id = ref.get("account_id") if isinstance(ref, dict) else None
        if isinstance(account_id, str) and account_id not in known:
            problems.append(
                Problem(label, f"{where}.account_id", f'no account "{account_id}" in accounts')
            )
    target_id = target.get("account_id") if isinstance(target, dict) else None
    account = known.get(target_id) if isinstance(target_id, str) else None
    if account is not None and not account.has_keys:
        problems.append(
            Problem(
                label,
                "target.account_id",
                f'account "{account.id}" has no key_env/secret_env, and a target needs '
                "them to place orders",
            )
        )
    return problems


def _missing_variables(
    accounts: Sequence[tuple[str, AccountConfig]], environ: Mapping[str, str]
) -> list[Problem]:
    """A problem for each variable named by key_env/secret_env that is unset or empty
    (naming the variable, never showing a value)."""
    return [
        Problem(label, field_name, f"environment variable {name} is not set")
        for label, account in accounts
        for field_name, name in (("key_env", account.key_env), ("secret_env", account.secret_env))
        if name is not None and not environ.get(name)
    ]
