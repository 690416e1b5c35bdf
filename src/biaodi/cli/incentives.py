"""`biaodi incentives …`: campaigns with what they spent and their outstanding exposure, and
issuing a template's coupons to investors (operators)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from biaodi.cli.common import console, fail, platform
from biaodi.domain.shared.errors import BiaodiError
from biaodi.services.incentives import campaigns
from biaodi.services.shared.tx import in_transaction

app = typer.Typer(help="Incentives: campaigns, coupons, exposure.", no_args_is_help=True)


@app.command("campaigns")
def list_campaigns() -> None:
    """Every campaign: budget, spent, coupons issued and used, outstanding exposure (face value
    × expected use of unused coupons, plus what accruing boosts and trials may still pay)."""
    p = platform()
    try:
        with p.reader() as uow:
            rows = campaigns.campaigns_view(uow)
    finally:
        p.close()
    table = Table("id", "name", "ends", "budget", "spent", "issued", "used", "exposure")
    for c in rows:
        table.add_row(str(c["id"]), c["name"], c["ends_on"], c["budget"], c["spent"],
                      str(c["coupons_issued"]), str(c["coupons_used"]), c["exposure"])
    console.print(table)


@app.command("issue")
def issue(template_id: Annotated[int, typer.Argument(help="The coupon template.")],
          user_ids: Annotated[list[int], typer.Argument(help="Investors to give one each.")]
          ) -> None:
    """Issue one coupon of a template to each investor (all or none)."""
    p = platform()
    try:
        ids = in_transaction(p.uow, lambda uow: campaigns.issue(uow, template_id, user_ids,
                                                                actor_id=None))
    except BiaodiError as exc:
        fail(f"{exc.message} ({exc.code})")
    finally:
        p.close()
    console.print(f"issued {len(ids)} coupon(s): {', '.join(map(str, ids))}", highlight=False)
