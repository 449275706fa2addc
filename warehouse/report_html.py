"""The quarterly report as one self-contained HTML file, with a PNG of every chart.

Per network: quarterly fees by label as stacked bars (USD and tokens), monthly burns, the audit
status and evidence of each quarter (coverage, boundary blocks, reconciliation), the reported
figures beside the chain (fct_reported_vs_onchain), restatements of closed quarters, and how to
trace a figure to its transactions (`depinrev explain`).

Charts are Vega-Lite specs built with altair. The page embeds the Vega, Vega-Lite and
vega-embed JavaScript inline (vl-convert-python ships the bundle), so it opens offline: nothing
is loaded from a CDN. PNGs are rendered by vl-convert without a browser. Chart values are floats
for drawing only; the tables print the warehouse's exact decimals.
"""

from __future__ import annotations

import functools
import html
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from warehouse.reported import vs_reported_rows
from warehouse.reports import report_rows

# The split of fees the stacked bars show: what providers got and what the protocol kept.
STACK = ("supply_side_revenue", "revenue")
# Where a network's fees are not observable on chain (NULL with a reason in the marts), its
# quarter is shown by the attribution labels that are known instead, never as zero fees.
ATTRIBUTION = ("protocol_revenue", "holders_revenue")
LABELS = (*STACK, *ATTRIBUTION)
WHAT_STACKS = "(supply side + revenue; the known attribution where fees are not on chain)"


@dataclass
class Chart:
    """One chart: a DOM id, its title and its Vega-Lite spec (data inline, named `rows`)."""

    chart_id: str
    title: str
    spec: dict[str, Any]
    rows: int


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and "
        "table_name = ?", [schema, table]).fetchone()[0])  # type: ignore[index]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _stacked(chart_id: str, title: str, rows: list[dict[str, Any]], unit: str,
             facet_token: bool) -> Chart:
    import altair as alt

    base = alt.Chart(alt.Data(values=rows, name="rows"),
                     title=alt.Undefined if facet_token else title)
    enc: dict[str, Any] = {
        "x": alt.X("quarter:O", title="quarter"),
        "y": alt.Y("value:Q", title=unit, stack="zero"),
        "color": alt.Color("label:N", title="label", sort=list(LABELS),
                           scale=alt.Scale(domain=list(LABELS))),
        "order": alt.Order("order:Q"),
        "tooltip": ["quarter:O", "label:N", "token:N", alt.Tooltip("value:Q", format=",.2f")],
    }
    chart = base.mark_bar().encode(**enc).properties(width=320, height=220)
    if facet_token:
        chart = chart.facet(column=alt.Column("token:N", title="token"), title=title
                            ).resolve_scale(y="independent")
    return Chart(chart_id, title, chart.to_dict(), len(rows))


def _burns_chart(chart_id: str, title: str, rows: list[dict[str, Any]]) -> Chart:
    import altair as alt

    chart = alt.Chart(alt.Data(values=rows, name="rows"), title=title).mark_bar().encode(
        x=alt.X("month:O", title="month"),
        y=alt.Y("burned:Q", title="tokens burned"),
        color=alt.Color("token:N"),
        tooltip=["month:O", "token:N", alt.Tooltip("burned:Q", format=",.2f")],
    ).properties(width=520, height=220)
    return Chart(chart_id, title, chart.to_dict(), len(rows))


def _vs_chart(chart_id: str, title: str, rows: list[dict[str, Any]]) -> Chart:
    import altair as alt

    chart = alt.Chart(alt.Data(values=rows, name="rows"), title=title).mark_bar().encode(
        y=alt.Y("figure:N", title=None, sort=None),
        x=alt.X("value:Q", title="USD"),
        yOffset=alt.YOffset("side:N"),
        color=alt.Color("side:N", title=None,
                        scale=alt.Scale(domain=["reported", "on chain"])),
        tooltip=["figure:N", "side:N", alt.Tooltip("value:Q", format=",.0f")],
    ).properties(width=520)
    return Chart(chart_id, title, chart.to_dict(), len(rows))


def network_charts(con: duckdb.DuckDBPyConnection, network: str) -> list[Chart]:
    """The charts of one network (a chart only where it has data)."""
    slug = _slug(network)
    quarterly = _query(con, f"""
        select quarter, token_symbol as token,
            {', '.join(f"{lbl}::double as {lbl}, {lbl}_usd::double as {lbl}_usd"
                       for lbl in LABELS)}
        from marts.fct_network_revenue_quarterly where network = ? order by quarter, token
        """, [network])
    usd: dict[tuple[str, str], float] = {}
    tokens: list[dict[str, Any]] = []
    for r in quarterly:
        fees_known = all(r[lbl] is not None for lbl in STACK)
        for lbl in STACK if fees_known else ATTRIBUTION:
            if r[f"{lbl}_usd"] is not None:
                usd[(r["quarter"], lbl)] = usd.get((r["quarter"], lbl), 0.0) + r[f"{lbl}_usd"]
            if r[lbl] is not None:
                tokens.append({"quarter": r["quarter"], "token": r["token"], "label": lbl,
                               "order": LABELS.index(lbl), "value": r[lbl]})
    charts: list[Chart] = []
    usd_rows = [{"quarter": q, "label": lbl, "order": LABELS.index(lbl), "token": "all",
                 "value": v} for (q, lbl), v in sorted(usd.items())]
    if usd_rows:
        charts.append(_stacked(f"{slug}-quarterly-usd",
                               f"{network}: quarterly fees in USD {WHAT_STACKS}",
                               usd_rows, "USD", facet_token=False))
    if tokens:
        charts.append(_stacked(f"{slug}-quarterly-tokens",
                               f"{network}: quarterly fees in tokens {WHAT_STACKS}",
                               tokens, "tokens", facet_token=True))
    burns = _query(con, """
        select strftime(block_date, '%Y-%m') as month, token_symbol as token,
            sum(token_amount)::double as burned
        from marts.fct_revenue_events
        where network = ? and event = 'burn' and label = 'holders_revenue'
        group by all order by month, token
        """, [network])
    if burns:
        charts.append(_burns_chart(f"{slug}-monthly-burns", f"{network}: tokens burned per month",
                                   burns))
    vs = [r for r in vs_reported_rows(con, network)
          if r["unit"] == "USD" and r["onchain_value"] is not None]
    vs_rows = []
    for r in vs:
        figure = f"{r['period']} {r['metric']} ({r['comparison']})"
        vs_rows += [{"figure": figure, "side": "reported", "value": float(r["reported_value"])},
                    {"figure": figure, "side": "on chain", "value": float(r["onchain_value"])}]
    if vs_rows:
        charts.append(_vs_chart(f"{slug}-reported-vs-onchain",
                                f"{network}: reported vs on chain (USD)", vs_rows))
    return charts


def _table(rows: list[dict[str, Any]], cols: list[str] | None = None,
           cls: str = "") -> str:
    if not rows:
        return "<p class='none'>(none)</p>"
    cols = cols or list(rows[0])

    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, Decimal | float):
            return html.escape(f"{Decimal(str(v)):,.2f}")
        return html.escape(str(v)).replace("\n", "<br>")

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _evidence(con: duckdb.DuckDBPyConnection, network: str) -> list[dict[str, Any]]:
    """Per quarter: statuses, boundary blocks, coverage checks and reconciliations in brief."""
    return _query(con, """
        with blocks as (
            select quarter, string_agg(format('{}: {}-{}', chain_id, first_block, last_block)
                || case when final then '' else ' (not final)' end, '; ' order by chain_id)
                as boundary_blocks
            from audit.quarter_blocks where network = ? group by quarter
        ),
        coverage as (
            select quarter, string_agg(check_name || ' ' || status, ', ' order by check_name)
                as coverage_checks
            from audit.coverage_checks where network = ? group by quarter
        ),
        recon as (
            select quarter, string_agg(source || ' ' || measure || ': ' || status
                || coalesce(' (difference ' || difference || ')', ''), '; ' order by source,
                measure) as reconciliations
            from audit.reconciliations where network = ? group by quarter
        )
        select a.quarter, a.audit_status, a.coverage_status, a.reconciliation_status,
            a.quarter_completeness, b.boundary_blocks, c.coverage_checks,
            r.reconciliations, a.issues
        from audit.quarter_audits as a
        left join blocks as b using (quarter)
        left join coverage as c using (quarter)
        left join recon as r using (quarter)
        where a.network = ? order by a.quarter
        """, [network, network, network, network])


def _restatements(con: duckdb.DuckDBPyConnection, network: str) -> list[dict[str, Any]]:
    if not _has_table(con, "audit", "restatements"):
        return []
    return _query(con, "select quarter, token, metric, closed_version, old_value, new_value, "
                  "reason from audit.restatements where network = ? order by quarter, token, "
                  "metric", [network])


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}
section.network{border-top:2px solid #ddd;margin-top:2em;padding-top:1em}
.devnet{background:#fff3cd;border:1px solid #e0c36a;padding:.3em .6em;display:inline-block}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1em}
th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}
th{background:#f3f3f3}.charts{display:flex;flex-wrap:wrap;gap:1.5em}
.status-pass{color:#176b2c}.none{color:#888}code{background:#f3f3f3;padding:1px 4px}
"""

_EMBED = """
const charts = JSON.parse(document.getElementById('chart-specs').textContent);
window.chartsRendered = 0;
window.chartErrors = [];
for (const c of charts) {
  const el = document.getElementById(c.id);
  vegaEmbed(el, c.spec, {actions: false, renderer: 'svg'}).then((res) => {
    el.dataset.rows = String(res.view.data('rows').length);
    window.chartsRendered += 1;
  }).catch((err) => { window.chartErrors.push(c.id + ': ' + err); console.error(err); });
}
"""


def _json_in_script(text: str) -> str:
    """JSON safe inside <script>: `<\\/` is the same JSON string, and cannot close the element."""
    return text.replace("</", "<\\/")


@functools.cache
def _js_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (vl-convert's offline bundle)."""
    import vl_convert as vlc

    js = vlc.javascript_bundle()
    # A literal "</script" would end the element early; in the minified bundle it can only
    # be inside a string or regex, where "<\\/" means the same.
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


def render_html(con: duckdb.DuckDBPyConnection, network: str | None = None,
                png_dir: Path | None = None) -> tuple[str, list[Chart]]:
    """The report page and its charts; with png_dir, a PNG of every chart is written there."""
    import vl_convert as vlc

    networks = [r[0] for r in con.execute(
        "select network from marts.dim_networks where ? is null or network = ? "
        "order by devnet, network", [network, network]).fetchall()]
    devnet = dict(con.execute("select network, devnet from marts.dim_networks").fetchall())
    measures = {r["network"]: r for r in _query(
        con, "select * from staging.stg_config__network_measures", [])}
    charts: list[Chart] = []
    sections: list[str] = []
    for net in networks:
        net_charts = network_charts(con, net)
        charts += net_charts
        figures = report_rows(con, network=net)
        vs = vs_reported_rows(con, net)
        m = measures.get(net)
        quarters = sorted({r["quarter"] for r in figures})
        trace = "".join(
            f"<li><code>depinrev explain --network {html.escape(net)} --quarter {q}</code></li>"
            for q in quarters[-4:])
        sections.append(f"""
<section class="network" id="{_slug(net)}">
<h2>{html.escape(net)}</h2>
{"<p class='devnet'>devnet stand-in: simulated figures, never mainnet</p>" if devnet[net] else ""}
<p>On-chain measure: <b>{html.escape(m["onchain_measure"]) if m else "not declared"}</b>
{("; off chain: " + html.escape(m["offchain"])) if m and m["offchain"] else ""}</p>
<div class="charts">{"".join(f'<div class="chart" id="{c.chart_id}"></div>' for c in net_charts)}
</div>
<h3>Audited quarterly figures</h3>
{_table(figures, cls="figures")}
<h3>Audit status and evidence per quarter</h3>
{_table(_evidence(con, net), cls="evidence")}
<h3>Reported vs on chain</h3>
{_table(vs, ["period", "comparison", "metric", "basis", "unit", "reported_value",
             "onchain_value", "gap", "gap_ratio", "onchain_audit_status", "consistency",
             "why_they_differ", "source"], cls="vs")}
<h3>Restatements</h3>
{_table(_restatements(con, net), cls="restatements")}
<h3>Trace a figure to its transactions</h3>
<p>Every figure is a sum of rows of <code>marts.fct_revenue_events</code>, each with chain,
block, transaction hash and log index. Per quarter, the composition by label, token and rule,
the largest events and the audit evidence:</p><ul>{trace}</ul>
</section>""")
    specs = [{"id": c.chart_id, "spec": c.spec} for c in charts]
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>depinrev quarterly report</title>
<style>{_CSS}</style>
<script>{_js_bundle()}</script>
</head><body>
<h1>depinrev quarterly report</h1>
<p class="sub">Audited on-chain revenue per network and quarter; every figure traces to its
transactions. Amounts in tables are exact; charts are drawn from the same figures.</p>
<p>Networks: {" · ".join(f'<a href="#{_slug(n)}">{html.escape(n)}</a>' for n in networks)}</p>
{"".join(sections)}
<script type="application/json" id="chart-specs">{_json_in_script(json.dumps(specs))}</script>
<script>{_EMBED}</script>
</body></html>
"""
    if png_dir is not None:
        png_dir.mkdir(parents=True, exist_ok=True)
        for c in charts:
            (png_dir / f"{c.chart_id}.png").write_bytes(vlc.vegalite_to_png(c.spec, scale=1))
    return page, charts


def write_html_report(con: duckdb.DuckDBPyConnection, out: Path,
                      network: str | None = None) -> tuple[Path, list[Path]]:
    """Write the page to `out` and the PNGs to `<out stem>_charts/`; return their paths."""
    png_dir = out.parent / f"{out.stem}_charts"
    page, charts = render_html(con, network, png_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page)
    tmp.replace(out)
    return out, [png_dir / f"{c.chart_id}.png" for c in charts]
