"""``/console``: the risk distribution of the entities the token's region covers."""

from __future__ import annotations

from flask import g, render_template
from flask.typing import ResponseReturnValue

from app import store
from app.console import bp
from app.console.charts import CLASS_NAMES, CLASSES, UNCLASSIFIED, bars, distribution, totals
from app.pages.formatting import region
from blacklist.tokens import agency_name


@bp.get("")
def dashboard() -> ResponseReturnValue:
    """Counts by risk class, per region and per industry, as stacked bars and a table."""
    session, token = store.session(), g.token
    prefix = token.region_prefix or ""
    by_region = bars(distribution(session, "region", prefix), region)
    by_industry = bars(distribution(session, "industry", prefix))
    return render_template("console/dashboard.html", agency=agency_name(session, token), prefix=prefix,
                           by_region=by_region, by_industry=by_industry, overall=totals(by_region),
                           classes=(*CLASSES, UNCLASSIFIED), class_names=CLASS_NAMES)
