"""``/entities/<id>`` (the public profile), its printable credit report and the report as a PDF."""

from __future__ import annotations

from flask import Response, current_app, render_template
from flask.typing import ResponseReturnValue

from app import store
from app.pages import bp
from app.pages.pdf import DISCLAIMER, make_report, report_pdf
from app.pages.profile import profile_view
from app.pages.queries import agencies
from app.pages.view import ProfileView
from blacklist.catalogue import default_catalogue
from blacklist.visibility import public_profile
from credit.clock import beijing_today, utcnow


def _view(identifier: str) -> ProfileView:
    """The public profile of the entity with this USCC, registration number or organisation code, as of today."""
    session = store.session()
    profile = public_profile(session, identifier, beijing_today())
    sources = [c.source for c in profile.claims] + [f.source for f in profile.facts] + \
              [e.source or "" for e in profile.lists]
    return profile_view(profile, default_catalogue(), agencies(session, current_app.config["GONGXIN"].sources, sources))


@bp.get("/entities/<identifier>")
def profile(identifier: str) -> ResponseReturnValue:
    """基本信息, 行政许可, 行政处罚, the lists, 抽查检查, 年报, 守信激励 and 数据来源 of one entity."""
    return render_template("profile.html", view=_view(identifier))


@bp.get("/entities/<identifier>/report")
def report(identifier: str) -> ResponseReturnValue:
    """The credit report (信用报告) as a page to print."""
    return render_template("report.html", report=make_report(_view(identifier), utcnow()), disclaimer=DISCLAIMER)


@bp.get("/entities/<identifier>/report.pdf")
def report_file(identifier: str) -> ResponseReturnValue:
    """The same credit report as a PDF download."""
    made = make_report(_view(identifier), utcnow())
    response = Response(report_pdf(made), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
