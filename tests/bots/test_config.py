"""The bots' file: a good one passes, each kind of mistake is named (file, entry, field)."""

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bursa.bots import plugins
from bursa.bots.config import (
    ConfigError,
    MissingSecret,
    credentials,
    load_yaml,
    parse_config,
    read_config,
)
from bursa.bots.ownership import ownership_problems
from bursa.bots.strategies.fixed import Fixed, FixedParams
from bursa.cli.bots import bots_app

EXAMPLE = Path(__file__).parents[2] / "deploy" / "bots" / "example.yml"
ENV = {
    "BOTS_BURSA_KEY": "key-id",
    "BOTS_BURSA_SECRET": "top-secret-value",
    "BOTS_TAKER_KEY": "taker-key-id",
    "BOTS_TAKER_SECRET": "taker-secret-value",
}

GOOD = """
accounts:
  - id: bursa
    driver: bursa
    host: https://exchange.example
    key_env: BOTS_BURSA_KEY
    secret_env: BOTS_BURSA_SECRET
  - id: binance
    driver: ccxt
    exchange: binance
strategies:
  - id: mm-btc
    type: fixed
    params: {price: 30000, spread: 0.002, amount: 0.01, levels: 2, step: 0.001}
    target: {account_id: bursa, market_id: btcusd}
    sources: [{account_id: binance, market_id: BTC/USDT}]
"""


def problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "bots.yml", environ=environ)
    return caught.value.lines


def test_the_example_file_passes() -> None:
    config = read_config(EXAMPLE, environ=ENV)
    assert list(config.accounts) == ["bursa-local", "bursa-taker", "binance"]
    strategy, *others = config.strategies
    assert [s.config.type for s in others] == ["copy", "market_making", "microtrades"]
    assert not any(s.config.enabled for s in others)
    for other in others:
        other.build()
    # every example turned on together still runs: one strategy per target, keys on venues
    text = EXAMPLE.read_text(encoding="utf-8").replace("enabled: false", "enabled: true")
    assert ownership_problems(parse_config(text, str(EXAMPLE), environ=ENV)) == []
    assert strategy.plugin is Fixed
    assert isinstance(strategy.params, FixedParams)
    assert strategy.params.spread == Decimal("0.002")
    assert strategy.config.risk.max_order_amount == Decimal("0.05")
    assert config.kill_switch == EXAMPLE.parent / "bots.stop"
    assert isinstance(strategy.build(), Fixed)


def test_a_good_file_reads_with_defaults() -> None:
    config = parse_config(GOOD, "bots.yml", environ=ENV)
    bursa = config.accounts["bursa"]
    assert bursa.ws_url == "wss://exchange.example"
    assert bursa.delay == (Decimal(0), Decimal(0))
    assert config.accounts["binance"].ws_url is None
    (strategy,) = config.strategies
    assert strategy.config.period == Decimal(10)
    assert strategy.config.enabled is True
    assert strategy.config.on_stop == "cancel"
    assert str(strategy.config.sources[0]) == "binance/BTC/USDT"
    assert config.log_level == "info"
    assert config.kill_switch is None


def test_yaml_numbers_keep_their_exact_text() -> None:
    loaded = load_yaml("a: 0.1\nb: 010\nc: 1.0e-3\nd: 0x10\ne: '0.3'\nf: 12\ng: .inf\n")
    assert loaded == {
        "a": Decimal("0.1"),  # not 0.1000000000000000055…
        "b": 10,  # YAML 1.1 would read octal 8
        "c": "1.0e-3",  # left as text, for the field to refuse
        "d": "0x10",
        "e": "0.3",
        "f": 12,
        "g": ".inf",
    }


def test_float_looking_amounts_are_exact_or_refused() -> None:
    exact = GOOD.replace("amount: 0.01", "amount: 0.1")
    (strategy,) = parse_config(exact, "bots.yml").strategies
    assert strategy.params.amount == Decimal("0.1")  # type: ignore[attr-defined]
    quoted = GOOD.replace("amount: 0.01", 'amount: "0.1"')
    assert parse_config(quoted, "bots.yml").strategies[0].params == strategy.params
    for written in ("1.0e-1", "'1e-1'", ".1", ".nan"):
        lines = problems(GOOD.replace("amount: 0.01", f"amount: {written}"))
        assert len(lines) == 1
        assert lines[0].startswith('bots.yml: strategy "mm-btc": params.amount: ')
        assert "not a plain decimal" in lines[0]
    # A float from Python (not from the file) has already lost its value: refused.
    with pytest.raises(ValueError, match="float is not exact"):
        FixedParams.model_validate({"price": 1, "spread": 0.1, "amount": 1})


def test_unknown_field() -> None:
    text = GOOD.replace("    type: fixed\n", "    type: fixed\n    perod: 5\n")
    assert problems(text) == ['bots.yml: strategy "mm-btc": perod: unknown field']


def test_a_secret_in_the_file_is_refused_without_showing_it() -> None:
    text = GOOD.replace(
        "    key_env: BOTS_BURSA_KEY\n", "    key_env: BOTS_BURSA_KEY\n    secret: hunter2-value\n"
    )
    lines = problems(text)
    assert len(lines) == 1
    assert lines[0].startswith('bots.yml: account "bursa": secret: secrets never go in this file')
    assert "key_env/secret_env" in lines[0]
    assert "hunter2" not in lines[0]
    text = GOOD.replace("    key_env: BOTS_BURSA_KEY\n", "    key: abc\n    api_secret: xyz\n")
    lines = problems(text)
    assert {line.split(": ")[2] for line in lines} >= {"key", "api_secret", "key_env"}


def test_a_missing_account() -> None:
    text = GOOD.replace("sources: [{account_id: binance", "sources: [{account_id: kraken")
    assert problems(text) == [
        'bots.yml: strategy "mm-btc": sources[0].account_id: no account "kraken" in accounts'
    ]


def test_a_target_needs_keys() -> None:
    text = GOOD.replace("target: {account_id: bursa", "target: {account_id: binance")
    (line,) = problems(text)
    assert line.startswith('bots.yml: strategy "mm-btc": target.account_id: account "binance"')


def test_duplicate_ids() -> None:
    strategy = GOOD[GOOD.index("  - id: mm-btc") :]
    account = "  - id: binance\n    driver: ccxt\n    exchange: kraken\n"
    text = GOOD.replace("strategies:\n", account + "strategies:\n") + strategy
    assert problems(text) == [
        'bots.yml: account "binance": id: appears twice in accounts',
        'bots.yml: strategy "mm-btc": id: appears twice in strategies',
    ]


def test_negative_spread() -> None:
    text = GOOD.replace("spread: 0.002", "spread: -0.002")
    assert problems(text) == ['bots.yml: strategy "mm-btc": params.spread: must be positive']


def test_unknown_strategy_type() -> None:
    (line,) = problems(GOOD.replace("type: fixed", "type: fixd"))
    assert line.startswith("bots.yml: strategy \"mm-btc\": type: unknown strategy type 'fixd'")
    assert "fixed" in line  # the known ones are listed


def test_missing_environment_variables_are_named_not_shown() -> None:
    lines = problems(GOOD, environ={"BOTS_BURSA_KEY": "key-id", "BOTS_BURSA_SECRET": ""})
    assert lines == [
        'bots.yml: account "bursa": secret_env: environment variable BOTS_BURSA_SECRET is not set'
    ]
    parse_config(GOOD, "bots.yml")  # without an environment to check, the file alone passes


def test_every_problem_is_reported_at_once() -> None:
    text = """
log_level: loud
accounts:
  - id: a
    driver: opendax
    delay: [2, 1]
    key_env: A_KEY
  - {driver: ftp}
strategies:
  - id: s
    type: fixed
    period: 0
    on_stop: never
    params: {price: 1, spread: 3, amount: 0}
    target: {account_id: nowhere, market_id: x}
    risk: {max_open_orders: 0, daily_loss_limit: -1}
extra: 1
"""
    lines = problems(text)
    expected = [
        "bots.yml: extra: unknown section",
        "bots.yml: log_level: Input should be",
        'bots.yml: account "a": host: required for driver opendax',
        'bots.yml: account "a": secret_env: give both key_env and secret_env',
        'bots.yml: account "a": delay: [min, max]: min is above max',
        "bots.yml: accounts[1]: id: required",
        "bots.yml: accounts[1]: driver: Input should be 'bursa', 'opendax' or 'ccxt'",
        'bots.yml: strategy "s": params.amount: must be positive',
        'bots.yml: strategy "s": period: must be positive',
        'bots.yml: strategy "s": risk.max_open_orders: Input should be greater than or equal to 1',
        'bots.yml: strategy "s": risk.daily_loss_limit: must be positive',
        'bots.yml: strategy "s": on_stop: Input should be',
        'bots.yml: strategy "s": target.account_id: no account "nowhere" in accounts',
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), (start, lines)
    assert len(lines) == len(expected)


def test_params_model_checks_the_ladder() -> None:
    (line,) = problems(GOOD.replace("step: 0.001", "step: 0"))
    assert line == (
        'bots.yml: strategy "mm-btc": params: step must be positive when there is more than '
        "one level"
    )


def test_unreadable_files() -> None:
    assert problems("accounts: [")[0].startswith("bots.yml: line ")
    assert problems("- 1") == [
        "bots.yml: must be a mapping of log_level, accounts, strategies, kill_switch"
    ]
    assert problems("accounts: {}") == ["bots.yml: accounts: must be a list"]
    assert problems("log_level: info\nlog_level: debug\n")[0].endswith("'log_level' is given twice")
    with pytest.raises(ConfigError, match="cannot read"):
        read_config(Path("/nonexistent/bots.yml"))


def test_credentials_come_from_the_environment() -> None:
    config = parse_config(GOOD, "bots.yml")
    found = credentials(config.accounts["bursa"], ENV)
    assert found is not None
    assert (found.key, found.secret) == ("key-id", "top-secret-value")
    assert "top-secret-value" not in repr(found)
    assert credentials(config.accounts["binance"], ENV) is None
    with pytest.raises(MissingSecret, match="BOTS_BURSA_KEY"):
        credentials(config.accounts["bursa"], {})


def test_plugins_list_the_builtin() -> None:
    assert "fixed" in plugins.names()
    assert plugins.load("fixed") is Fixed
    with pytest.raises(plugins.PluginError, match="unknown strategy type"):
        plugins.load("nope")


# ---------------------------------------------------------------------- the CLI


def test_cli_check_prints_a_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    done = CliRunner().invoke(bots_app, ["check", str(EXAMPLE)], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "bursa-local" in done.output
    assert "fixed-btcusd" in done.output
    assert "bursa-local/btcusd" in done.output
    assert "ok:" in done.output
    assert "top-secret-value" not in done.output


def test_cli_check_lists_every_problem(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOTS_BURSA_KEY", "key-id")
    bad = tmp_path / "bots.yml"
    bad.write_text(GOOD.replace("spread: 0.002", "spread: -1"))
    done = CliRunner().invoke(bots_app, ["check", str(bad)], env={"COLUMNS": "200"})
    assert done.exit_code == 1
    assert f'{bad}: strategy "mm-btc": params.spread: must be positive' in done.output
    assert "secret_env: environment variable BOTS_BURSA_SECRET is not set" in done.output
    assert "key-id" not in done.output
    missing = CliRunner().invoke(bots_app, ["check", str(tmp_path / "none.yml")])
    assert missing.exit_code == 1
    assert "no such file" in missing.output


# ---------------------------------------------------------------------- ccxt accounts


def test_a_ccxt_account_names_an_exchange_ccxt_knows() -> None:
    assert problems(GOOD.replace("exchange: binance", "exchange: binanse")) == [
        "bots.yml: account \"binance\": exchange: 'binanse' is not a ccxt exchange id "
        "(see ccxt.exchanges), nor opendax"
    ]
    assert problems(GOOD.replace("    exchange: binance\n", "")) == [
        'bots.yml: account "binance": exchange: required for driver ccxt '
        "(a ccxt exchange id, or opendax)"
    ]


def test_a_ccxt_opendax_account_needs_its_host() -> None:
    account = "  - id: peatio\n    driver: ccxt\n    exchange: opendax\n"
    assert problems(GOOD.replace("strategies:\n", account + "strategies:\n")) == [
        'bots.yml: account "peatio": host: required for exchange opendax (the exchange\'s URL)'
    ]
    hosted = account + "    host: https://peatio.example\n"
    config = parse_config(GOOD.replace("strategies:\n", hosted + "strategies:\n"), "bots.yml")
    assert (config.accounts["peatio"].exchange, config.accounts["peatio"].host) == (
        "opendax",
        "https://peatio.example",
    )


def test_checking_ccxt_accounts_does_not_import_ccxt() -> None:
    """ccxt takes seconds to import: ``bots check`` reads its ids from its source."""
    script = (
        "import sys\n"
        "from bursa.bots.config import parse_config\n"
        f"parse_config({GOOD!r}, 'bots.yml')\n"
        "assert 'ccxt' not in sys.modules, 'ccxt was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
