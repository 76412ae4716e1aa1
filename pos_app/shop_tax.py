"""The shop's commercial-tax setting as an admin last set it (table `shop_settings`);
the environment (`POS_TAX_MODE`, `POS_TAX_RATE`) gives the default until then. Read
when each sale is priced, so a change applies to the next sale at once."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.service import audit
from pos_app.db.tables import shop_settings
from pos_app.i18n import gettext
from pos_app.settings import Settings
from pos_app.tax import TAX_MODES, TaxMode

MODE, RATE = "tax_mode", "tax_rate"


class TaxSettingRejected(ValueError):
    """The mode or rate is not one the shop can use; the message says why."""


@dataclass(frozen=True)
class TaxSetting:
    mode: TaxMode
    rate: Decimal  # percent
    updated_by: str | None  # None: the environment's default, never changed here


def check(mode: str, rate: str | Decimal) -> tuple[TaxMode, Decimal]:
    if mode not in TAX_MODES:
        raise TaxSettingRejected(
            gettext("the tax mode is one of: %(modes)s", modes=", ".join(TAX_MODES))
        )
    try:
        percent = Decimal(str(rate).strip().removesuffix("%").strip())
    except InvalidOperation:
        percent = Decimal("NaN")
    if (
        not percent.is_finite()
        or not 0 <= percent <= 100
        or percent != percent.quantize(Decimal("0.01"))
    ):
        raise TaxSettingRejected(
            gettext("the tax rate is a percentage from 0 to 100, to the hundredth")
        )
    return mode, percent  # type: ignore[return-value]  # checked against TAX_MODES


async def current(conn: AsyncConnection, settings: Settings) -> TaxSetting:
    rows = {
        row.name: row
        for row in await conn.execute(
            select(shop_settings.c.name, shop_settings.c.value, shop_settings.c.updated_by).where(
                shop_settings.c.name.in_((MODE, RATE))
            )
        )
    }
    if MODE not in rows or RATE not in rows:
        return TaxSetting(settings.tax_mode, settings.tax_rate, None)
    mode, rate = check(rows[MODE].value, rows[RATE].value)
    return TaxSetting(mode, rate, rows[MODE].updated_by)


async def with_shop_tax(conn: AsyncConnection, settings: Settings) -> Settings:
    """`settings` with the tax the shop uses now."""
    setting = await current(conn, settings)
    if (setting.mode, setting.rate) == (settings.tax_mode, settings.tax_rate):
        return settings
    return settings.model_copy(update={"tax_mode": setting.mode, "tax_rate": setting.rate})


async def set_tax(
    conn: AsyncConnection, *, settings: Settings, mode: str, rate: str | Decimal, actor: str
) -> TaxSetting:
    """Set the shop's tax (audited with what it was before)."""
    new_mode, new_rate = check(mode, rate)
    before = await current(conn, settings)
    for name, value in ((MODE, new_mode), (RATE, str(new_rate))):
        upsert = mysql_insert(shop_settings).values(name=name, value=value, updated_by=actor)
        await conn.execute(upsert.on_duplicate_key_update(value=value, updated_by=actor))
    await audit(
        conn,
        actor=actor,
        action="tax.changed",
        target="setting:tax",
        details={
            "from": {"mode": before.mode, "rate": str(before.rate)},
            "to": {"mode": new_mode, "rate": str(new_rate)},
        },
    )
    return TaxSetting(new_mode, new_rate, actor)
