"""The ledger's invariants, checked against what PostgreSQL holds.

Per currency: assets = liabilities + revenues - expenses (Peatio's convention: an account's
balance is credits minus debits). Per member account: balance and locked equal the sums of
its main and locked liability operations; locked equals what open orders and held
withdrawals hold; nothing is negative. Any difference is a *break*.
"""

from dataclasses import dataclass, field
from decimal import Decimal

import asyncpg

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    currency: str
    assets: Decimal
    liabilities: Decimal
    revenues: Decimal
    expenses: Decimal

    @property
    def difference(self) -> Decimal:
        return self.assets - (self.liabilities + self.revenues - self.expenses)


@dataclass(frozen=True, slots=True)
class Break:
    check: str
    currency: str
    member_id: int | None
    expected: Decimal
    found: Decimal

    def describe(self) -> str:
        who = f"member {self.member_id} " if self.member_id is not None else ""
        return f"{self.check}: {who}{self.currency} expected {self.expected}, found {self.found}"


@dataclass(slots=True)
class LedgerReport:
    totals: list[CurrencyTotals] = field(default_factory=list)
    breaks: list[Break] = field(default_factory=list)
    accounts_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.breaks

    def breaks_for(self, currency: str) -> int:
        return sum(1 for b in self.breaks if b.currency == currency)


EQUATION = """
SELECT c.id AS currency,
       coalesce(sum(o.credit - o.debit) FILTER (WHERE o.code / 100 = 1), 0) AS assets,
       coalesce(sum(o.credit - o.debit) FILTER (WHERE o.code / 100 = 2), 0) AS liabilities,
       coalesce(sum(o.credit - o.debit) FILTER (WHERE o.code / 100 = 3), 0) AS revenues,
       coalesce(sum(o.credit - o.debit) FILTER (WHERE o.code / 100 = 4), 0) AS expenses
FROM currencies c LEFT JOIN operations o ON o.currency_id = c.id
GROUP BY c.id ORDER BY c.id
"""

ACCOUNTS_VS_OPERATIONS = """
WITH liabilities AS (
    SELECT member_id, currency_id,
           sum(credit - debit) FILTER (WHERE code IN (201, 202)) AS main,
           sum(credit - debit) FILTER (WHERE code IN (211, 212)) AS locked
    FROM operations WHERE code / 100 = 2
    GROUP BY member_id, currency_id
)
SELECT coalesce(a.member_id, l.member_id) AS member_id,
       coalesce(a.currency_id, l.currency_id) AS currency,
       coalesce(a.balance, 0) AS balance, coalesce(a.locked, 0) AS locked,
       coalesce(l.main, 0) AS main_ops, coalesce(l.locked, 0) AS locked_ops
FROM accounts a FULL JOIN liabilities l USING (member_id, currency_id)
"""

LOCKED_VS_HOLDINGS = """
WITH holdings AS (
    SELECT o.member_id,
           CASE WHEN o.side = 'buy' THEN m.quote_unit ELSE m.base_unit END AS currency_id,
           o.locked AS amount
    FROM orders o JOIN markets m ON m.id = o.market_id
    WHERE o.state IN ('wait', 'trigger_wait')
    UNION ALL
    SELECT member_id, currency_id, amount FROM withdrawal_holds WHERE state = 'held'
), held AS (
    SELECT member_id, currency_id, sum(amount) AS amount FROM holdings
    GROUP BY member_id, currency_id
)
SELECT coalesce(a.member_id, h.member_id) AS member_id,
       coalesce(a.currency_id, h.currency_id) AS currency,
       coalesce(a.locked, 0) AS locked, coalesce(h.amount, 0) AS held
FROM accounts a FULL JOIN held h USING (member_id, currency_id)
WHERE coalesce(a.locked, 0) <> coalesce(h.amount, 0)
"""


async def verify_ledger(conn: asyncpg.Connection) -> LedgerReport:
    """Check every invariant in one repeatable-read snapshot."""
    report = LedgerReport()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        for row in await conn.fetch(EQUATION):
            totals = CurrencyTotals(
                row["currency"],
                row["assets"],
                row["liabilities"],
                row["revenues"],
                row["expenses"],
            )
            report.totals.append(totals)
            if totals.difference:
                report.breaks.append(
                    Break(
                        "assets = liabilities + revenues - expenses",
                        totals.currency,
                        None,
                        totals.liabilities + totals.revenues - totals.expenses,
                        totals.assets,
                    )
                )
        for row in await conn.fetch(ACCOUNTS_VS_OPERATIONS):
            report.accounts_checked += 1
            member, currency = row["member_id"], row["currency"]
            if row["balance"] != row["main_ops"]:
                report.breaks.append(
                    Break(
                        "balance = main operations",
                        currency,
                        member,
                        row["main_ops"],
                        row["balance"],
                    )
                )
            if row["locked"] != row["locked_ops"]:
                report.breaks.append(
                    Break(
                        "locked = locked operations",
                        currency,
                        member,
                        row["locked_ops"],
                        row["locked"],
                    )
                )
            if row["balance"] < ZERO:
                report.breaks.append(Break("balance >= 0", currency, member, ZERO, row["balance"]))
            if row["locked"] < ZERO:
                report.breaks.append(Break("locked >= 0", currency, member, ZERO, row["locked"]))
        for row in await conn.fetch(LOCKED_VS_HOLDINGS):
            report.breaks.append(
                Break(
                    "locked = open orders + held withdrawals",
                    row["currency"],
                    row["member_id"],
                    row["held"],
                    row["locked"],
                )
            )
    return report
