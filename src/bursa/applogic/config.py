"""AppLogic's YAML configuration (``BURSA_APPLOGIC_CONFIG``)::

    peatio_management_url: http://127.0.0.1:8000/api/v2/peatio/management
    signing_key: {kid: applogic, algorithm: RS256, file: /etc/bursa/applogic.pem}  # or pem:
    withdrawals:
      btc: {threshold: "0.5", approvers: [ID0000000001, ID0000000002, ID0000000003], required: 2}

A withdrawal whose amount is above its currency's ``threshold`` waits for ``required`` of
the ``approvers`` (member uids); at or below it, it is processed at once. A currency with
no rule is left alone (it stays ``accepted`` for an admin to decide).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bursa.signing import multisig


class Rule(BaseModel):
    """Approval of one currency's withdrawals."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    threshold: Decimal = Field(ge=0)
    approvers: tuple[str, ...] = Field(min_length=1)
    required: int = Field(ge=1)

    @model_validator(mode="after")
    def _reachable(self) -> "Rule":
        if len(set(self.approvers)) != len(self.approvers):
            raise ValueError("approvers are listed twice")
        if self.required > len(self.approvers):
            raise ValueError("required is more than there are approvers")
        return self


class _Key(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kid: str = "applogic"
    algorithm: str = "RS256"
    pem: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "_Key":
        if (self.pem is None) == (self.file is None):
            raise ValueError("give the private key as either pem or file")
        return self


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    peatio_management_url: str = Field(pattern=r"^https?://")
    signing_key: _Key
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    withdrawals: dict[str, Rule] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AppLogicConfig:
    peatio_management_url: str
    key: multisig.SignKey
    rules: Mapping[str, Rule]
    timeout_s: float = 10.0

    @classmethod
    def from_mapping(cls, raw: Any) -> "AppLogicConfig":
        try:
            parsed = _File.model_validate(raw)
        except ValidationError as exc:  # said without the input: it may hold the key
            where = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)
            )
            raise ValueError(where) from None
        source = parsed.signing_key
        pem = source.pem if source.file is None else source.file.read_text()
        assert pem is not None
        key = multisig.sign_key(source.kid, source.algorithm, pem)
        rules = {code.lower(): rule for code, rule in parsed.withdrawals.items()}
        return cls(parsed.peatio_management_url.rstrip("/"), key, rules, parsed.timeout_s)

    @classmethod
    def from_file(cls, path: Path) -> "AppLogicConfig":
        """Read the file; any mistake is one ``ValueError`` naming the file."""
        try:
            return cls.from_mapping(yaml.safe_load(path.read_text()))
        except (OSError, yaml.YAMLError, ValueError, multisig.MultisigError) as exc:
            raise ValueError(f"AppLogic config {path}: {exc}") from exc
