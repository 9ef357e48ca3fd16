"""The one configuration file, `chainseg.yml`, validated once and passed down.

Relative paths in the file are resolved against the file's own folder, so a command gives the same result
from whatever directory it is run in. Without a file, the embedded default applies: a local anvil devnet
and a DuckDB warehouse under the current directory.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chainseg.errors import UserError
from chainseg.extract_config import ChainConfig, ExtractConfig, SettingError

__all__ = [
    "ChainConfig",
    "Config",
    "ExtractConfig",
    "MartsConfig",
    "RuleCohort",
    "RuleCondition",
    "load_config",
]

DEFAULT_CONFIG_NAME = "chainseg.yml"


class _Strict(BaseModel):
    # Unknown keys are typos more often than not: reject them rather than silently ignore them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class DevnetConfig(_Strict):
    chain_id: int = Field(31337, gt=0, description="Chain id the local anvil node reports.")
    port: int = Field(0, ge=0, le=65535, description="0 picks a free port.")
    # Simulated history starts after genesis, so genesis is pinned far enough in the past; a fixed
    # genesis is also what makes two seeds with the same number produce the same block hashes.
    genesis_timestamp: datetime = datetime(2025, 1, 1, tzinfo=UTC)
    block_gas_limit: int = Field(36_000_000, ge=1_000_000)
    anvil: Path | None = Field(None, description="anvil binary; default: .tools/ then PATH.")

    @field_validator("genesis_timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class RuleCondition(_Strict):
    """One condition of a rule cohort: {field, op, value}, or {field: holds_collection, collection, value}."""

    field: str
    op: str | None = None
    value: bool | int | float | None = None
    collection: str | None = None


class RuleCohort(_Strict):
    """An analysts' cohort (`marts.rule_cohorts`), compiled to SQL by dbt_project/macros/rules_cohorts.sql
    into marts.rule_segments.

    all_of: every condition must hold; any_of: at least one must (both: all of all_of and one of any_of).
    A condition compares a numeric feature of intermediate.int_wallet_features_as_of with a number
    ({field: buys_30d, op: ">", value: 3}), or asks whether the wallet holds a token of an NFT collection
    ({field: holds_collection, collection: "0x...", value: true | false}). Checked here as far as the file
    alone allows (fields, operators, values); dbt checks again and also that the collection exists.
    """

    # The numeric features a rule may name; windowed ones exist for every day count in rfv_windows_days.
    # Kept equal to the dbt macro segments_rule_fields (tests/test_dbt_segments.py compares them).
    FIELDS: ClassVar[tuple[str, ...]] = (
        "days_since_first_activity", "days_since_last_activity", "days_since_last_buy", "active_days_total",
        "transactions_total", "gas_paid_total_wei", "buys_total", "spend_total_wei", "sells_total",
        "sell_volume_total_wei", "mints_total", "tokens_held", "collections_held", "gas_transactions",
        "median_priority_fee_gwei", "median_fee_to_base_ratio", "median_base_fee_percentile",
        "cheapest_hours_share", "tip_percentile",
    )  # fmt: skip
    WINDOWED: ClassVar[tuple[str, ...]] = ("active_days_{}d", "buys_{}d", "spend_{}d_wei", "sells_{}d")
    OPERATORS: ClassVar[tuple[str, ...]] = ("=", "!=", ">", ">=", "<", "<=")
    HOLDS: ClassVar[str] = "holds_collection"

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Lowercase identifier: the segment's name.")
    description: str = ""
    all_of: list[RuleCondition] = []
    any_of: list[RuleCondition] = []

    @classmethod
    def fields(cls, windows: list[int]) -> list[str]:
        return sorted({*cls.FIELDS, *(stem.format(d) for stem in cls.WINDOWED for d in windows)})

    def conditions(self) -> list[tuple[str, RuleCondition]]:
        """(where, condition) for every condition, `where` as in error messages: 'all_of condition 2'."""
        return [
            (f"{part} condition {i}", condition)
            for part in ("all_of", "any_of")
            for i, condition in enumerate(getattr(self, part), 1)
        ]

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_rule(cls, data: Any, handler: Any) -> Any:  # noqa: ANN401 - pydantic's signature
        # Every problem of a cohort, wherever it lies, is reported with the cohort's name.
        name = data.get("name") if isinstance(data, dict) else getattr(data, "name", None)
        try:
            cohort = handler(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = list(err["loc"])
            if len(loc) >= 2 and loc[0] in ("all_of", "any_of") and isinstance(loc[1], int):
                loc[:2] = [f"{loc[0]} condition {loc[1] + 1}"]  # counted from 1, as in problem()
            where = ": ".join(str(part) for part in loc)
            message = str(err["msg"]).removeprefix("Value error, ")
            raise ValueError(f"rule '{name}': {where + ': ' if where else ''}{message}") from None
        problem = cohort.problem()
        if problem:
            raise ValueError(f"rule '{name}': {problem}")
        return cohort

    def problem(self) -> str | None:
        """What is wrong with the conditions, as far as the file alone shows (fields are checked by
        MartsConfig, which knows the windows); None when nothing is."""
        if not self.all_of and not self.any_of:
            return "no condition: give all_of and/or any_of"
        for where, condition in self.conditions():
            if condition.field == self.HOLDS:
                if not condition.collection or not re.fullmatch(r"0x[0-9a-fA-F]{40}", condition.collection):
                    return f"{where}: {self.HOLDS} needs collection: <0x + 40 hex digits>"
                if condition.op not in (None, "=", "!="):
                    return f"{where}: bad operator '{condition.op}' for {self.HOLDS} (use = or !=)"
                if condition.value is not None and not isinstance(condition.value, bool):
                    return f"{where}: {self.HOLDS} takes value true or false"
            elif condition.collection is not None:
                return f"{where}: collection applies only to field {self.HOLDS}"
            elif condition.op not in self.OPERATORS:
                return f"{where}: bad operator '{condition.op}' (use one of {' '.join(self.OPERATORS)})"
            elif condition.value is None or isinstance(condition.value, bool):
                return f"{where}: {condition.field} compares with a number"
        return None


class MartsConfig(_Strict):
    """What shapes the dbt marts; passed to dbt as vars of the same names (dbt_project.yml has defaults)."""

    rfv_windows_days: list[int] = Field([30, 90, 365], min_length=1, description="RFV buy/spend windows.")
    flip_days: int = Field(
        7, ge=1, description="A position sold within this many days of its acquisition is a flip (<=)."
    )
    abc_window_days: int = Field(365, ge=1, description="Wallets that bought in this window get a tier.")
    abc_share_a: float = Field(0.10, gt=0, lt=1, description="Share of ranked wallets in tier A.")
    abc_share_b: float = Field(0.20, gt=0, lt=1, description="Share of ranked wallets in tier B.")
    abc_include_contracts: bool = Field(False, description="Rank addresses that hold code too.")
    ml_snapshot_every_days: int = Field(
        7, ge=1, description="Days between ML training cutoffs, counted from Monday 1970-01-05."
    )
    ml_snapshot_count: int = Field(
        12, ge=1, le=520, description="ML training cutoffs kept: the newest up to as_of + 1 day."
    )

    @field_validator("rfv_windows_days")
    @classmethod
    def _positive_sorted(cls, value: list[int]) -> list[int]:
        if any(days <= 0 for days in value):
            raise ValueError("windows must be positive numbers of days")
        return sorted(set(value))

    def dbt_vars(self) -> dict[str, object]:
        if self.abc_share_a + self.abc_share_b >= 1:
            raise UserError("marts.abc_share_a + marts.abc_share_b must stay below 1; lower them")
        return self.model_dump(mode="json")

    # Analysts' rule cohorts (marts.rule_segments); see RuleCohort and dbt_project/macros/rules_cohorts.sql.
    rule_cohorts: list[RuleCohort] = Field([], description="Rule cohorts compiled to SQL by dbt.")

    @field_validator("rule_cohorts")
    @classmethod
    def _known_fields(cls, value: list[RuleCohort], info: ValidationInfo) -> list[RuleCohort]:
        known = RuleCohort.fields(info.data.get("rfv_windows_days") or [30, 90, 365])
        names: set[str] = set()
        for cohort in value:
            if cohort.name in names:
                raise ValueError(f"rule '{cohort.name}': the name is used by another cohort")
            names.add(cohort.name)
            for where, condition in cohort.conditions():
                if condition.field != RuleCohort.HOLDS and condition.field not in known:
                    raise ValueError(
                        f"rule '{cohort.name}': {where}: unknown field '{condition.field}' "
                        f"(known: {RuleCohort.HOLDS}, {', '.join(known)})"
                    )
        return value


class Config(_Strict):
    state_dir: Path = Path(".chainseg")
    warehouse: Path = Path("warehouse/chainseg.duckdb")
    devnet: DevnetConfig = DevnetConfig()
    chains: dict[str, ChainConfig] = {"devnet": ChainConfig(chain_id=31337)}
    default_chain: str = "devnet"
    extract: ExtractConfig = ExtractConfig()
    marts: MartsConfig = MartsConfig()
    # Folder the paths above are relative to; set by load_config, not by the file.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    def path(self, value: Path) -> Path:
        return value if value.is_absolute() else (self.base_dir / value).resolve()

    def chain(self, name: str | None) -> tuple[str, ChainConfig]:
        name = name or self.default_chain
        if name not in self.chains:
            known = ", ".join(sorted(self.chains)) or "none"
            raise UserError(
                f"chain '{name}' is not configured (known: {known}); "
                "add it under 'chains:' in the configuration"
            )
        return name, self.chains[name]

    @property
    def state_path(self) -> Path:
        return self.path(self.state_dir)

    @property
    def warehouse_path(self) -> Path:
        return self.path(self.warehouse)


def load_config(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read and validate the configuration; `path=None` uses ./chainseg.yml if present, else defaults."""
    explicit = path is not None
    path = path or Path.cwd() / DEFAULT_CONFIG_NAME
    data: dict[str, Any] = {}
    if path.exists():
        import yaml  # here, not at the top: extraction and the library need no YAML parser

        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise UserError(
                f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the file"
            ) from None
        if not isinstance(loaded, dict):
            raise UserError(f"{path}: expected a mapping of settings at the top level; fix the file")
        data = loaded
    elif explicit:
        raise UserError(f"{path}: configuration file not found; pass an existing file to --config")
    data.update(overrides or {})
    try:
        return Config(**data, base_dir=path.parent.resolve())
    except ValidationError as exc:
        err = exc.errors()[0]
        loc, message = list(err["loc"]), err["msg"]
        # The plain dataclasses of chainseg/extract_config.py check their own bounds and name the key.
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, SettingError):
            loc, message = [*loc, cause.key], cause.problem
        key = ".".join(str(part) for part in loc)
        raise UserError(
            f"{path.name}: setting '{key}': {message}; fix it in the configuration file"
        ) from None
