//! The page itself: the sections rendered from [`RunData`] in a fixed order, every text
//! escaped, every number grouped. Sections: summary, accounts, matching (histogram),
//! review queue (evidence and waterfalls), apportionment, statements, quarantine,
//! configuration.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde_json::Value;

use super::aggregate::{
    Candidate, Key, Money, ReviewItem, RunData, StatementRow, HISTOGRAM_GROUPS, WEIGHT_CLAMP,
};
use super::svg::{self, Bar, Segment, Threshold};
use super::{dec, esc, int, weight_of_probability, HtmlOptions};

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("script.js");
const ONERROR: &str = include_str!("onerror.js");

/// Statuses in the order the page lists them, with a colour and a meaning.
const STATUSES: [(&str, &str, &str); 10] = [
    ("verified", "#2e7d32", "card valid in the care month"),
    (
        "rerouted",
        "#1565c0",
        "past card: routed to the person's insurer on the date",
    ),
    ("matched", "#00897b", "tier 3: auto-accepted match"),
    (
        "review",
        "#f9a825",
        "clerical review (open: on the pending ledger)",
    ),
    (
        "no_match",
        "#8d6e63",
        "nothing on the roster identifies the patient (open)",
    ),
    (
        "pending",
        "#7e57c2",
        "person known, no period covers the care month yet (open)",
    ),
    (
        "apportioned",
        "#ef6c00",
        "final-unresolved: split among insurers",
    ),
    (
        "final_unresolved",
        "#c62828",
        "final-unresolved: no insurer can share in it",
    ),
    (
        "public_only",
        "#78909c",
        "公費 only (no HO): paid by its public payer",
    ),
    (
        "quarantined",
        "#b71c1c",
        "set aside at validation (see quarantine)",
    ),
];

const TIERS: [&str; 4] = [
    "quarantined or 公費 only",
    "current card",
    "past card",
    "numbers unknown (filler)",
];

const SCOPES: [&str; 6] = ["file", "receipt", "record", "row", "field", "notice"];

fn status_color(status: &str) -> &'static str {
    STATUSES
        .iter()
        .find(|s| s.0 == status)
        .map_or("#9e9e9e", |s| s.1)
}

fn status_meaning(status: &str) -> &'static str {
    STATUSES.iter().find(|s| s.0 == status).map_or("", |s| s.2)
}

fn status_rank(status: &str) -> usize {
    STATUSES
        .iter()
        .position(|s| s.0 == status)
        .unwrap_or(STATUSES.len())
}

fn at<'a>(m: &'a Value, pointer: &str) -> Option<&'a Value> {
    m.pointer(pointer)
}

fn n(m: &Value, pointer: &str) -> Option<i64> {
    at(m, pointer).and_then(Value::as_i64)
}

fn f(m: &Value, pointer: &str) -> Option<f64> {
    at(m, pointer).and_then(Value::as_f64)
}

fn s<'a>(m: &'a Value, pointer: &str) -> Option<&'a str> {
    at(m, pointer).and_then(Value::as_str)
}

/// A number from the manifest, grouped, or a dash when absent.
fn nv(m: &Value, pointer: &str) -> String {
    n(m, pointer).map_or_else(|| "–".to_string(), int)
}

/// The entries of an object in the manifest (sorted by key), numbers only.
fn counts(m: &Value, pointer: &str) -> Vec<(String, i64)> {
    at(m, pointer)
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_i64().map(|v| (k.clone(), v)))
                .collect()
        })
        .unwrap_or_default()
}

/// `a 1 · b 2` for a list of counts.
fn inline_counts(items: &[(String, i64)]) -> String {
    if items.is_empty() {
        return "none".to_string();
    }
    items
        .iter()
        .map(|(k, v)| format!("{} {}", esc(k), int(*v)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The exact sum of `values` (figures read from files a person may have edited: a sum
/// in `i64` could overflow).
fn total<'a>(values: impl IntoIterator<Item = &'a i64>) -> i128 {
    values.into_iter().map(|v| i128::from(*v)).sum()
}

fn td_num(v: impl Into<i128>) -> String {
    format!(r#"<td class="num">{}</td>"#, int(v))
}

/// Yen, with the receipts behind them as the cell's tooltip.
fn td_yen(yen: impl Into<i128>, receipts: u64) -> String {
    let yen = yen.into();
    format!(
        r#"<td class="num" title="{} receipt(s)">{}</td>"#,
        int(receipts),
        int(yen)
    )
}

/// The decision thresholds of the run, from `config.matching`.
struct Thresholds {
    accept_probability: Option<f64>,
    review_probability: Option<f64>,
    min_margin_bits: Option<f64>,
}

impl Thresholds {
    fn of(m: &Value) -> Self {
        Thresholds {
            accept_probability: f(m, "/config/matching/accept_probability"),
            review_probability: f(m, "/config/matching/review_probability"),
            min_margin_bits: f(m, "/config/matching/min_margin_bits"),
        }
    }

    fn lines(&self, short: bool) -> Vec<Threshold> {
        let mut out = Vec::new();
        if let Some(p) = self.accept_probability {
            let w = weight_of_probability(p);
            out.push(Threshold {
                weight: w,
                label: if short {
                    format!("accept {}", dec(w, 1))
                } else {
                    format!("accept: p ≥ {p} ({} bits)", dec(w, 2))
                },
                class: "t-accept",
            });
        }
        if let Some(p) = self.review_probability {
            let w = weight_of_probability(p);
            out.push(Threshold {
                weight: w,
                label: if short {
                    format!("review {}", dec(w, 1))
                } else {
                    format!("review: p ≥ {p} ({} bits)", dec(w, 2))
                },
                class: "t-review",
            });
        }
        out
    }
}

/// Renders the whole page.
pub(super) fn render(data: &RunData, options: &HtmlOptions) -> String {
    let m = &data.manifest;
    let month = s(m, "/run_month").unwrap_or("unknown month");
    let mut out = String::with_capacity(256 * 1024);
    let _ = writeln!(
        out,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="reseclear {version}">
<title>reseclear run {month}</title>
<script>{ONERROR}</script>
<style>{STYLE}</style>
</head>
<body>
<div id="script-errors" class="script-errors" hidden></div>"#,
        version = esc(s(m, "/engine/version").unwrap_or("")),
        month = esc(month),
    );
    header(&mut out, data, options);
    out.push_str("<main>\n");
    accounts(&mut out, data);
    matching(&mut out, data);
    review_queue(&mut out, data);
    apportionment(&mut out, data, options);
    statements(&mut out, data, options);
    quarantine(&mut out, data, options);
    configuration(&mut out, data);
    out.push_str("</main>\n");
    let _ = write!(
        out,
        "<footer>Written by reseclear {} from the outputs of the run (manifest.json sha256 <code>{}</code>). \
         No timestamps: the same run directory gives the same page.</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        esc(s(m, "/engine/version").unwrap_or("")),
        esc(&data.manifest_sha256),
    );
    out
}

fn header(out: &mut String, data: &RunData, options: &HtmlOptions) {
    let m = &data.manifest;
    let balanced = data.balanced();
    let _ = write!(
        out,
        r##"<header>
<h1>reseclear run report <span class="month">{month}</span></h1>
<p class="sub">reseclear {version} · manifest v{mv} · <span class="badge {bclass}" id="balance-badge">{btext}</span> · <span class="badge {pclass}">{ptext}</span></p>
<nav><a href="#accounts">Accounts</a><a href="#matching">Match weights</a><a href="#review">Review queue</a><a href="#apportionment">Apportionment</a><a href="#statements">Statements</a><a href="#quarantine">Quarantine</a><a href="#configuration">Configuration</a></nav>
</header>
"##,
        month = esc(s(m, "/run_month").unwrap_or("(no month)")),
        version = esc(s(m, "/engine/version").unwrap_or("?")),
        mv = nv(m, "/manifest_version"),
        bclass = if balanced { "ok" } else { "bad" },
        btext = if balanced {
            "accounts balanced"
        } else {
            "accounts do NOT balance"
        },
        pclass = if options.show_pii { "warn" } else { "muted" },
        ptext = if options.show_pii {
            "personal data shown (person_id unmasked)"
        } else {
            "person_id masked"
        },
    );
    let cards = [
        (
            "receipts_in",
            "receipts in",
            nv(m, "/conservation/receipts/receipts_in"),
        ),
        ("yen_in", "cost yen in", nv(m, "/conservation/yen/yen_in")),
        (
            "share_in",
            "insurer share yen",
            nv(m, "/conservation/insurer_share/share_in"),
        ),
        (
            "owed",
            "owed yen",
            nv(m, "/conservation/insurer_share/owed"),
        ),
        (
            "apportioned",
            "apportioned yen",
            nv(m, "/conservation/insurer_share/apportioned"),
        ),
        ("review", "in review", int(data.receipts.review_total)),
        (
            "carried_out",
            "carried to next run",
            nv(m, "/conservation/receipts/carried_out"),
        ),
        (
            "quarantine_rows",
            "quarantine rows",
            nv(m, "/quarantine/rows"),
        ),
    ];
    out.push_str(r#"<div class="cards">"#);
    for (key, label, value) in cards {
        let _ = write!(
            out,
            r#"<div class="card"><div class="card-value" data-key="{key}">{value}</div><div class="card-label">{label}</div></div>"#
        );
    }
    out.push_str("</div>\n");
}

fn section_open(out: &mut String, id: &str, title: &str) {
    let _ = write!(
        out,
        r#"<section id="{id}"><h2 title="click to fold">{}</h2>"#,
        esc(title)
    );
}

fn accounts(out: &mut String, data: &RunData) {
    let m = &data.manifest;
    section_open(out, "accounts", "Accounts");
    // Verdict.
    if data.balanced() {
        out.push_str(r#"<p class="verdict ok">Balanced: every receipt and every yen read is accounted for, and every yen owed is on a statement.</p>"#);
    } else {
        out.push_str(r#"<div class="verdict bad"><p>The accounts do NOT balance. Failing equations (manifest <code>conservation.problems</code>):</p><ul class="problems">"#);
        let problems: Vec<&str> = at(m, "/conservation/problems")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if problems.is_empty() {
            out.push_str("<li>(none listed)</li>");
        }
        for p in problems {
            let _ = write!(out, "<li>{}</li>", esc(p));
        }
        out.push_str("</ul></div>");
    }
    // Equations with the manifest's numbers.
    let r = "/conservation/receipts";
    let y = "/conservation/yen";
    let sh = "/conservation/insurer_share";
    let by_status = |ptr: &str| {
        counts(m, ptr)
            .iter()
            .map(|(_, v)| i128::from(*v))
            .sum::<i128>()
    };
    let open: i128 = counts(m, &format!("{r}/by_status"))
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "review" | "no_match" | "pending"))
        .map(|(_, v)| i128::from(*v))
        .sum();
    let _ = write!(
        out,
        r#"<h3>The equations</h3><ul class="equations">
<li><b>receipts in</b> {} = read {} + carried in {} = accepted {} + quarantined {} = Σ by status {}</li>
<li><b>carried out</b> {} = review + no_match + pending {}</li>
<li><b>yen in</b> {} = points in {} × 10 = accepted {} + quarantined {} = Σ by status {} <span class="note">(of which carried in {}; quarantined receipts without points: {})</span></li>
<li><b>insurer share in</b> {} = Σ by status {}</li>
<li><b>owed</b> {} = routed {} + apportioned {}; apportioned = Σ parts {}</li>
</ul>"#,
        nv(m, &format!("{r}/receipts_in")),
        nv(m, &format!("{r}/read")),
        nv(m, &format!("{r}/carried_in")),
        nv(m, &format!("{r}/accepted")),
        nv(m, &format!("{r}/quarantined")),
        int(by_status(&format!("{r}/by_status"))),
        nv(m, &format!("{r}/carried_out")),
        int(open),
        nv(m, &format!("{y}/yen_in")),
        nv(m, &format!("{y}/points_in")),
        nv(m, &format!("{y}/accepted")),
        nv(m, &format!("{y}/quarantined")),
        int(by_status(&format!("{y}/by_status"))),
        nv(m, &format!("{y}/carried_in")),
        nv(m, &format!("{y}/quarantined_receipts_without_points")),
        nv(m, &format!("{sh}/share_in")),
        int(by_status(&format!("{sh}/by_status"))),
        nv(m, &format!("{sh}/owed")),
        nv(m, &format!("{sh}/routed")),
        nv(m, &format!("{sh}/apportioned")),
        nv(m, &format!("{sh}/apportioned_parts")),
    );

    // By status (manifest) × tier (receipts.parquet).
    let manifest_receipts: BTreeMap<String, i64> =
        counts(m, &format!("{r}/by_status")).into_iter().collect();
    let manifest_yen: BTreeMap<String, i64> =
        counts(m, &format!("{y}/by_status")).into_iter().collect();
    let manifest_share: BTreeMap<String, i64> =
        counts(m, &format!("{sh}/by_status")).into_iter().collect();
    let mut statuses: Vec<&str> = manifest_receipts
        .keys()
        .map(String::as_str)
        .chain(data.receipts.by_status_tier.keys().map(String::as_str))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    statuses.sort_by_key(|st| (status_rank(st), st.to_string()));
    let tiers: BTreeSet<u8> = data
        .receipts
        .by_status_tier
        .values()
        .flat_map(|t| t.keys().copied())
        .collect();
    out.push_str(r#"<h3>By status</h3><p class="note">Receipts, cost (合計点数 × 10) and insurer share (cost − copay) from the manifest; receipts by tier from <code>receipts.parquet</code>.</p><table class="data" id="status-table"><thead><tr><th>status</th><th>meaning</th><th class="num">receipts</th><th class="num">cost yen</th><th class="num">insurer share yen</th>"#);
    for t in &tiers {
        let _ = write!(out, r#"<th class="num">tier {t}</th>"#);
    }
    out.push_str("</tr></thead><tbody>");
    let mut tier_totals: BTreeMap<u8, u64> = BTreeMap::new();
    for st in &statuses {
        let _ = write!(
            out,
            r#"<tr><td><span class="swatch" style="background:{}"></span>{}</td><td class="meaning">{}</td>{}{}{}"#,
            status_color(st),
            esc(st),
            esc(status_meaning(st)),
            manifest_receipts
                .get(*st)
                .map_or("<td class=\"num\">–</td>".to_string(), |v| td_num(*v)),
            manifest_yen
                .get(*st)
                .map_or("<td class=\"num\">–</td>".to_string(), |v| td_num(*v)),
            manifest_share
                .get(*st)
                .map_or("<td class=\"num\">–</td>".to_string(), |v| td_num(*v)),
        );
        let by_tier = data.receipts.by_status_tier.get(*st);
        for t in &tiers {
            let c = by_tier.and_then(|b| b.get(t)).map_or(0, |m| m.receipts);
            *tier_totals.entry(*t).or_default() += c;
            if c == 0 {
                out.push_str(r#"<td class="num zero">·</td>"#);
            } else {
                out.push_str(&td_num(c));
            }
        }
        out.push_str("</tr>");
    }
    let _ = write!(
        out,
        r#"</tbody><tfoot><tr><th>total</th><th></th>{}{}{}"#,
        td_num(total(manifest_receipts.values())),
        td_num(total(manifest_yen.values())),
        td_num(total(manifest_share.values())),
    );
    for t in &tiers {
        out.push_str(&td_num(tier_totals.get(t).copied().unwrap_or(0)));
    }
    out.push_str("</tr></tfoot></table>");

    // Cross-check receipts.parquet against the manifest.
    let mut differences = Vec::new();
    for st in &statuses {
        let file: Money = data
            .receipts
            .by_status_tier
            .get(*st)
            .map(|t| {
                t.values().fold(Money::default(), |a, b| Money {
                    receipts: a.receipts + b.receipts,
                    cost_yen: a.cost_yen + b.cost_yen,
                    share_yen: a.share_yen + b.share_yen,
                    cost_missing: a.cost_missing + b.cost_missing,
                })
            })
            .unwrap_or_default();
        let mr = manifest_receipts.get(*st).copied().unwrap_or(0);
        let my = manifest_yen.get(*st).copied().unwrap_or(0);
        if file.receipts as i64 != mr {
            differences.push(format!(
                "{st}: {} receipts in receipts.parquet, {} in the manifest",
                int(file.receipts),
                int(mr)
            ));
        }
        if file.cost_yen != my {
            differences.push(format!(
                "{st}: {} cost yen in receipts.parquet, {} in the manifest",
                int(file.cost_yen),
                int(my)
            ));
        }
    }
    if differences.is_empty() {
        let _ = write!(
            out,
            r#"<p class="check ok">receipts.parquet: {} rows, agreeing with the manifest by status in receipts and cost yen.</p>"#,
            int(data.receipts.rows)
        );
    } else {
        let _ = write!(
            out,
            r#"<div class="check bad"><p>receipts.parquet ({} rows) differs from the manifest:</p><ul>"#,
            int(data.receipts.rows)
        );
        for d in differences {
            let _ = write!(out, "<li>{}</li>", esc(&d));
        }
        out.push_str("</ul></div>");
    }
    let segments: Vec<Segment> = statuses
        .iter()
        .map(|st| Segment {
            label: st.to_string(),
            value: manifest_yen.get(*st).copied().unwrap_or(0),
            color: status_color(st),
        })
        .collect();
    out.push_str(r#"<figure><figcaption>Cost yen by status</figcaption>"#);
    out.push_str(&svg::stacked(&segments, "Cost yen by status", "yen"));
    out.push_str("</figure>");

    // By tier.
    out.push_str(r#"<h3>By tier</h3><table class="data" id="tier-table"><thead><tr><th>tier</th><th>meaning</th><th class="num">receipts</th><th class="num">cost yen</th><th class="num">insurer share yen</th><th>statuses</th></tr></thead><tbody>"#);
    for t in &tiers {
        let mut money = Money::default();
        let mut parts: Vec<(String, i64)> = Vec::new();
        for st in &statuses {
            if let Some(mm) = data.receipts.by_status_tier.get(*st).and_then(|b| b.get(t)) {
                money.receipts += mm.receipts;
                money.cost_yen += mm.cost_yen;
                money.share_yen += mm.share_yen;
                money.cost_missing += mm.cost_missing;
                parts.push((st.to_string(), mm.receipts as i64));
            }
        }
        let _ = write!(
            out,
            r#"<tr><td>{t}</td><td class="meaning">{}</td>{}{}{}<td class="meaning">{}</td></tr>"#,
            esc(TIERS.get(*t as usize).copied().unwrap_or("")),
            td_num(money.receipts),
            td_num(money.cost_yen),
            td_num(money.share_yen),
            inline_counts(&parts),
        );
    }
    out.push_str("</tbody></table>");

    // Insurer share and the pending ledger.
    let _ = write!(
        out,
        r#"<div class="two"><div><h3>Insurer share</h3><table class="data kv"><tbody>
<tr><th>share in (accepted receipts)</th>{}</tr>
<tr><th>routed (verified + rerouted + matched)</th>{}</tr>
<tr><th>apportioned (receipts)</th>{}</tr>
<tr><th>apportioned (Σ parts)</th>{}</tr>
<tr><th>owed = routed + apportioned</th>{}</tr>
<tr><th>insurers with anything owed</th>{}</tr>
</tbody></table></div>"#,
        td_num(n(m, &format!("{sh}/share_in")).unwrap_or(0)),
        td_num(n(m, &format!("{sh}/routed")).unwrap_or(0)),
        td_num(n(m, &format!("{sh}/apportioned")).unwrap_or(0)),
        td_num(n(m, &format!("{sh}/apportioned_parts")).unwrap_or(0)),
        td_num(n(m, &format!("{sh}/owed")).unwrap_or(0)),
        td_num(
            at(m, &format!("{sh}/by_insurer"))
                .and_then(Value::as_object)
                .map_or(0, |o| o.len() as i64)
        ),
    );
    let p = "/pending";
    let ages = counts(m, &format!("{p}/carried_out_by_age"));
    let _ = write!(
        out,
        r#"<div><h3>Pending ledger</h3><table class="data kv" id="pending-table"><tbody>
<tr><th>hold (run months before apportionment)</th>{}</tr>
<tr><th>carried in (ledger rows given)</th>{}</tr>
<tr><th>… of which quarantined</th>{}</tr>
<tr><th>… of which resolved this run</th>{}</tr>
<tr><th>new open receipts this month</th>{}</tr>
<tr><th>made final this run</th>{}</tr>
<tr><th>carried out (to the next run)</th>{}</tr>
<tr><th>carried out by age (months)</th><td class="num">{}</td></tr>
</tbody></table></div></div>"#,
        td_num(n(m, &format!("{p}/hold_months")).unwrap_or(0)),
        td_num(n(m, &format!("{p}/carried_in")).unwrap_or(0)),
        td_num(n(m, &format!("{p}/carried_in_quarantined")).unwrap_or(0)),
        td_num(n(m, &format!("{p}/carried_in_resolved")).unwrap_or(0)),
        td_num(n(m, &format!("{p}/new_open")).unwrap_or(0)),
        td_num(n(m, &format!("{p}/made_final")).unwrap_or(0)),
        td_num(n(m, &format!("{p}/carried_out")).unwrap_or(0)),
        inline_counts(&ages),
    );
    inputs(out, m);
    out.push_str("</section>\n");
}

/// What the run read: inputs by kind, UKE counts, table counts.
fn inputs(out: &mut String, m: &Value) {
    out.push_str(r#"<details class="block"><summary>Inputs and what was read</summary>"#);
    let list = at(m, "/inputs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut by_kind: BTreeMap<String, (i64, i128)> = BTreeMap::new();
    for i in &list {
        let e = by_kind
            .entry(
                i.get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
            )
            .or_default();
        e.0 += 1;
        e.1 += i128::from(i.get("bytes").and_then(Value::as_i64).unwrap_or(0));
    }
    out.push_str(r#"<table class="data"><thead><tr><th>kind</th><th class="num">files</th><th class="num">bytes</th></tr></thead><tbody>"#);
    for (kind, (files, bytes)) in &by_kind {
        let _ = write!(
            out,
            "<tr><td>{}</td>{}{}</tr>",
            esc(kind),
            td_num(*files),
            td_num(*bytes)
        );
    }
    out.push_str("</tbody></table>");
    out.push_str(r#"<table class="data"><thead><tr><th>input (other than UKE)</th><th>kind</th><th class="num">bytes</th><th>encoding</th><th>sha256</th></tr></thead><tbody>"#);
    for i in list
        .iter()
        .filter(|i| i.get("kind").and_then(Value::as_str) != Some("uke"))
    {
        let get = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("");
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td>{}</td>{}<td>{}</td><td><code>{}</code></td></tr>"#,
            esc(get("path")),
            esc(get("kind")),
            td_num(i.get("bytes").and_then(Value::as_i64).unwrap_or(0)),
            esc(get("encoding")),
            esc(get("sha256")),
        );
    }
    out.push_str("</tbody></table>");
    let u = "/uke";
    let _ = write!(
        out,
        r#"<table class="data kv"><tbody>
<tr><th>UKE files (quarantined as a whole)</th><td class="num">{} ({})</td></tr>
<tr><th>lines</th>{}</tr>
<tr><th>records by id</th><td class="num">{}</td></tr>
<tr><th>receipts read / accepted / quarantined</th><td class="num">{} / {} / {}</td></tr>
<tr><th>accepted by HO insurer number</th><td class="num">{}</td></tr>
</tbody></table>"#,
        nv(m, &format!("{u}/files")),
        nv(m, &format!("{u}/files_quarantined")),
        td_num(n(m, &format!("{u}/lines")).unwrap_or(0)),
        inline_counts(&counts(m, &format!("{u}/records"))),
        nv(m, &format!("{u}/receipts_read")),
        nv(m, &format!("{u}/receipts_accepted")),
        nv(m, &format!("{u}/receipts_quarantined")),
        inline_counts(&counts(m, &format!("{u}/accepted_by_insurer_field"))),
    );
    receipt_kinds(out, m);
    out.push_str(r#"<table class="data"><thead><tr><th>table</th><th class="num">rows read</th><th class="num">accepted</th><th class="num">quarantined</th><th class="num">field problems</th><th>other</th></tr></thead><tbody>"#);
    for t in ["declarations", "roster", "insurers"] {
        let ptr = format!("/{t}");
        if at(m, &ptr).is_none_or(Value::is_null) {
            let _ = write!(
                out,
                r#"<tr><td>{t}</td><td colspan="5" class="note">not given</td></tr>"#
            );
            continue;
        }
        let _ = write!(
            out,
            "<tr><td>{t}</td>{}{}{}{}<td>{}</td></tr>",
            td_num(n(m, &format!("{ptr}/rows_read")).unwrap_or(0)),
            td_num(n(m, &format!("{ptr}/rows_accepted")).unwrap_or(0)),
            td_num(n(m, &format!("{ptr}/rows_quarantined")).unwrap_or(0)),
            td_num(n(m, &format!("{ptr}/field_problems")).unwrap_or(0)),
            inline_counts(&counts(m, &format!("{ptr}/other"))),
        );
    }
    out.push_str("</tbody></table></details>");
}

/// The UKE counts per receipt kind (医科, DPC, 歯科, 調剤), as the manifest gives them.
fn receipt_kinds(out: &mut String, m: &Value) {
    let Some(kinds) = at(m, "/uke/by_kind").and_then(Value::as_object) else {
        return;
    };
    out.push_str(r#"<table class="data" id="kind-table"><thead><tr><th>receipt kind</th><th class="num">files</th><th class="num">receipts read</th><th class="num">accepted</th><th class="num">quarantined</th><th class="num">accepted points</th><th class="num">accepted yen</th><th class="num">routed</th><th class="num">open</th><th class="num">apportioned or final</th><th class="num">owed yen</th></tr></thead><tbody>"#);
    for kind in kinds.keys() {
        let ptr = format!("/uke/by_kind/{kind}");
        let cell = |k: &str| td_num(n(m, &format!("{ptr}/{k}")).unwrap_or(0));
        // The kind's receipts through the run (this month's and the ledger's).
        let statuses = |of: &[&str]| -> i64 {
            of.iter()
                .filter_map(|s| n(m, &format!("/conservation/by_kind/{kind}/by_status/{s}")))
                .sum()
        };
        let routed = statuses(&["verified", "rerouted", "matched"]);
        let open = statuses(&["review", "no_match", "pending"]);
        let last = statuses(&["apportioned", "final_unresolved"]);
        let owed = n(
            m,
            &format!("/conservation/insurer_share/owed_by_kind/{kind}"),
        )
        .unwrap_or(0);
        let name = match kind.as_str() {
            "ika" => "医科",
            "dpc" => "DPC",
            "shika" => "歯科",
            "chozai" => "調剤",
            _ => "header unreadable",
        };
        let _ = write!(
            out,
            "<tr><td>{} <code>{}</code></td>{}{}{}{}{}{}{}{}{}{}</tr>",
            name,
            esc(kind),
            cell("files"),
            cell("receipts_read"),
            cell("receipts_accepted"),
            cell("receipts_quarantined"),
            cell("accepted_points"),
            cell("accepted_yen"),
            td_num(routed),
            td_num(open),
            td_num(last),
            td_num(owed),
        );
    }
    out.push_str("</tbody></table>");
}

fn matching(out: &mut String, data: &RunData) {
    let m = &data.manifest;
    section_open(out, "matching", "Tier-3 match weights");
    let t = Thresholds::of(m);
    let prob = |p: Option<f64>| {
        p.map_or("–".to_string(), |p| {
            format!("{p} (weight {} bits)", dec(weight_of_probability(p), 2))
        })
    };
    let _ = write!(
        out,
        r#"<p>A tier-3 receipt is <b>matched</b> when its best candidate's match probability is at least <code>accept_probability</code> = {} and leads the runner-up by at least <code>min_margin_bits</code> = {}; <b>review</b> when it is at least <code>review_probability</code> = {} (or passes acceptance without the margin); else <b>no match</b>. Weight = log2(p / (1 − p)).</p>"#,
        prob(t.accept_probability),
        t.min_margin_bits.map_or("–".to_string(), |b| dec(b, 2)),
        prob(t.review_probability),
    );
    let decisions = counts(m, "/matching/decisions");
    let _ = write!(
        out,
        r#"<p>Patients (tier 3): <b>{}</b> · candidate pairs: <b>{}</b> · EM iterations {} ({}) · decisions: {}</p>"#,
        nv(m, "/matching/patients"),
        nv(m, "/matching/candidate_pairs"),
        nv(m, "/matching/em_iterations"),
        match at(m, "/matching/em_converged").and_then(Value::as_bool) {
            Some(true) => "converged",
            Some(false) => "not converged",
            None => "–",
        },
        inline_counts(&decisions),
    );
    let h = &data.receipts.histogram;
    let groups = [
        ("matched", "h-matched"),
        ("review", "h-review"),
        ("no_match", "h-nomatch"),
        ("other status", "h-other"),
    ];
    debug_assert_eq!(groups.len(), HISTOGRAM_GROUPS.len());
    let spec = svg::HistogramSpec {
        bins: h.bins.iter().map(|(b, c)| (*b, *c)).collect(),
        groups,
        thresholds: t.lines(false),
        clamp: WEIGHT_CLAMP,
    };
    let _ = write!(
        out,
        r#"<figure id="weight-histogram"><figcaption>Best candidate's match weight of each tier-3 receipt (<code>receipts.parquet</code> <code>match_weight</code>), stacked by final status: {} tier-3 receipts, {} without a candidate (not drawn). “other status”: pending, apportioned … (a matched person with no period on the date, or a claim whose hold ended).</figcaption>"#,
        int(h.tier3),
        int(h.without_weight),
    );
    out.push_str(&svg::histogram(&spec));
    out.push_str("</figure>");
    let blocking = at(m, "/matching/blocking")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !blocking.is_empty() {
        out.push_str(r#"<h3>Blocking rules</h3><table class="data"><thead><tr><th>rule</th><th class="num">candidate pairs</th><th class="num">capped blocks</th><th class="num">capped patients</th></tr></thead><tbody>"#);
        for b in &blocking {
            let get = |k: &str| b.get(k).and_then(Value::as_i64).unwrap_or(0);
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td>{}{}{}</tr>",
                esc(b.get("rule").and_then(Value::as_str).unwrap_or("?")),
                td_num(get("candidate_pairs")),
                td_num(get("capped_blocks")),
                td_num(get("capped_patients")),
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>\n");
}

fn yen_opt(v: Option<i64>) -> String {
    v.map_or_else(|| "–".to_string(), int)
}

fn review_queue(out: &mut String, data: &RunData) {
    section_open(out, "review", "Review queue");
    let total = data.receipts.review_total;
    let shown = data.review.len() as u64;
    if total == 0 {
        out.push_str(r#"<p id="review-summary">No receipt is in review.</p>"#);
    } else {
        let _ = write!(
            out,
            r#"<p id="review-summary"><b>{}</b> receipt(s) have status <code>review</code> (clerical review: a person decides among the ranked candidates; they stay on the pending ledger). Shown: the first {} by receipt key{}.</p>"#,
            int(total),
            int(shown),
            if total > shown {
                format!("; <b>{}</b> more are not shown", int(total - shown))
            } else {
                String::new()
            },
        );
    }
    if !data.match_report_present {
        out.push_str(r#"<p class="check bad">match_report.parquet is missing: candidates and evidence cannot be shown.</p>"#);
    }
    if shown > 0 {
        out.push_str(r#"<div class="toolbar"><input id="review-filter" type="search" placeholder="Filter: receipt key, insurer, person (as shown), reason" aria-label="Filter the review queue"> <span id="review-count"></span> <button type="button" data-toggle-all="open" data-target="review-list">expand all</button> <button type="button" data-toggle-all="close" data-target="review-list">collapse all</button></div><div id="review-list">"#);
        let thresholds = Thresholds::of(&data.manifest).lines(true);
        // The first receipt is open, to show what each holds.
        for (i, (key, item)) in data.review.iter().enumerate() {
            review_item(out, key, item, &thresholds, i == 0);
        }
        out.push_str("</div>");
    }
    out.push_str("</section>\n");
}

fn review_item(
    out: &mut String,
    key: &Key,
    item: &ReviewItem,
    thresholds: &[Threshold],
    open: bool,
) {
    let best = item.candidates.first();
    let mut search = vec![
        key.display(),
        item.filed_insurer.clone(),
        format!("tier {}", item.tier),
        item.reason.clone(),
        item.decision.clone().unwrap_or_default(),
        item.decision_reason.clone().unwrap_or_default(),
        item.declared_kind.clone(),
    ];
    search.extend(item.candidates.iter().map(|c| c.person.clone()));
    let search = search.join(" ").to_lowercase();
    let _ = write!(
        out,
        r#"<details class="review-item"{} data-search="{}"><summary><span class="key">{}</span> <span class="pill">tier {}</span> <span class="pill">filed {}</span> <span class="pill">{} yen</span> <span class="pill">{}</span> {}</summary><div class="review-body">"#,
        if open { " open" } else { "" },
        esc(&search),
        esc(&key.display()),
        item.tier,
        esc(if item.filed_insurer.trim().is_empty() {
            "(none)"
        } else {
            item.filed_insurer.trim()
        }),
        yen_opt(item.cost_yen),
        match best {
            Some(b) => format!(
                "best {} bits, p {}",
                b.weight.map_or("–".to_string(), |w| dec(w, 2)),
                b.probability.map_or("–".to_string(), |p| dec(p, 4))
            ),
            None => "no candidate".to_string(),
        },
        esc(&format!("{} candidate(s)", item.candidates.len())),
    );
    let _ = write!(
        out,
        r#"<dl class="facts"><dt>file</dt><dd>{}:{}</dd><dt>insurer share</dt><dd>{} yen</dd><dt>declared kind</dt><dd>{}</dd><dt>on the ledger since</dt><dd>{}</dd><dt>decision</dt><dd>{}</dd><dt>reason</dt><dd>{}</dd>{}</dl>"#,
        esc(&item.file),
        item.line,
        yen_opt(item.share_yen),
        esc(&item.declared_kind),
        match (&item.first_pending_month, item.pending_months) {
            (Some(mo), Some(age)) => format!("{} ({} month(s))", esc(mo), age),
            (Some(mo), None) => esc(mo),
            _ => "–".to_string(),
        },
        esc(item.decision.as_deref().unwrap_or("–")),
        esc(&item.reason),
        match &item.decision_reason {
            Some(r) if *r != item.reason => format!("<dt>matcher</dt><dd>{}</dd>", esc(r)),
            _ => String::new(),
        },
    );
    if item.candidates.is_empty() {
        out.push_str("</div></details>\n");
        return;
    }
    // Ranked candidates.
    out.push_str(r#"<table class="data candidates"><thead><tr><th>rank</th><th>person</th><th class="num">match weight</th><th class="num">probability</th><th class="num">lead over next (bits)</th></tr></thead><tbody>"#);
    for (i, c) in item.candidates.iter().enumerate() {
        let lead = match (c.weight, item.candidates.get(i + 1).and_then(|n| n.weight)) {
            (Some(a), Some(b)) => dec(a - b, 2),
            _ => "–".to_string(),
        };
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td class="person">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            c.rank,
            esc(&c.person),
            c.weight.map_or("–".to_string(), |w| dec(w, 2)),
            c.probability.map_or("–".to_string(), |p| dec(p, 6)),
            lead,
        );
    }
    out.push_str("</tbody></table>");
    // Per-candidate evidence tables.
    out.push_str(r#"<div class="evidence">"#);
    for c in &item.candidates {
        evidence_table(out, c);
    }
    out.push_str("</div>");
    // Waterfalls of the two best.
    out.push_str(r#"<div class="waterfalls">"#);
    for c in item.candidates.iter().take(2) {
        if let Some(prior) = c.prior() {
            let _ = write!(
                out,
                r#"<figure><figcaption>Waterfall of candidate {} <span class="person">{}</span></figcaption>{}</figure>"#,
                c.rank,
                esc(&c.person),
                svg::waterfall(prior, &c.fields, thresholds)
            );
        }
    }
    out.push_str("</div></div></details>\n");
}

fn bf_class(bf: f64) -> &'static str {
    if bf > 1e-9 {
        "pos"
    } else if bf < -1e-9 {
        "neg"
    } else {
        "neutral"
    }
}

fn signed(x: f64) -> String {
    if x > 0.0 && dec(x, 2) != "0.00" {
        format!("+{}", dec(x, 2))
    } else {
        dec(x, 2)
    }
}

fn evidence_table(out: &mut String, c: &Candidate) {
    let _ = write!(
        out,
        r#"<table class="data evidence-table"><caption>#{} <span class="person">{}</span> · weight {} · p {}</caption><thead><tr><th>field</th><th>level</th><th class="num">log2 BF</th><th class="num">running</th></tr></thead><tbody>"#,
        c.rank,
        esc(&c.person),
        c.weight.map_or("–".to_string(), |w| dec(w, 2)),
        c.probability.map_or("–".to_string(), |p| dec(p, 6)),
    );
    let Some(prior) = c.prior() else {
        out.push_str("</tbody></table>");
        return;
    };
    let _ = write!(
        out,
        r#"<tr class="prior"><td>prior</td><td>log2 prior odds</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
        dec(prior, 2),
        dec(prior, 2)
    );
    let mut running = prior;
    for (field, level, bf) in &c.fields {
        running += bf;
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td class="level {}">{}</td><td class="num {}">{}</td><td class="num">{}</td></tr>"#,
            esc(field),
            bf_class(*bf),
            esc(level),
            bf_class(*bf),
            signed(*bf),
            dec(running, 2),
        );
    }
    let _ = write!(
        out,
        r#"</tbody><tfoot><tr><th colspan="3">match weight</th><td class="num">{}</td></tr></tfoot></table>"#,
        dec(running, 2)
    );
}

/// Insurer number → (name, kind, prefecture) from the statements.
fn insurer_names(data: &RunData) -> BTreeMap<&str, &StatementRow> {
    data.statements
        .as_ref()
        .map(|s| s.rows.iter().map(|r| (r.insurer.as_str(), r)).collect())
        .unwrap_or_default()
}

fn pct(part: impl Into<i128>, total: impl Into<i128>) -> String {
    let (part, total) = (part.into(), total.into());
    if total == 0 {
        "–".to_string()
    } else {
        format!("{}%", dec(part as f64 * 100.0 / total as f64, 1))
    }
}

fn apportionment(out: &mut String, data: &RunData, options: &HtmlOptions) {
    let m = &data.manifest;
    section_open(out, "apportionment", "Apportionment by insurer");
    let _ = write!(
        out,
        r#"<p>Basis <code>{}</code>, scope <code>{}</code>, hold {} run month(s). Apportioned: <b>{}</b> receipt(s), {} part(s), <b>{}</b> yen · scope widened to national: {} · declared kind dropped: {} · by basis: {} · unapportionable (no insurer can share): {}.</p>"#,
        esc(s(m, "/config/apportion/basis").unwrap_or("?")),
        esc(s(m, "/config/apportion/scope").unwrap_or("?")),
        nv(m, "/config/apportion/hold_months"),
        nv(m, "/apportionment/receipts"),
        nv(m, "/apportionment/parts"),
        nv(m, "/apportionment/yen"),
        nv(m, "/apportionment/widened"),
        nv(m, "/apportionment/kind_dropped"),
        inline_counts(&counts(m, "/apportionment/by_basis")),
        nv(m, "/apportionment/unapportionable"),
    );
    let Some(a) = &data.apportionment else {
        out.push_str(r#"<p class="check bad">apportionment.parquet is missing.</p></section>"#);
        return;
    };
    if a.rows == 0 {
        let _ = writeln!(
            out,
            r#"<p id="apportionment-empty">No receipt was apportioned in this run: open claims wait {} run month(s) on the pending ledger before they are final-unresolved.</p></section>"#,
            nv(m, "/config/apportion/hold_months"),
        );
        return;
    }
    let _ = write!(
        out,
        r#"<p class="note">apportionment.parquet: {} rows, {} receipts, Σ claim {} yen = Σ parts {} yen, {} insurers with a part; by scope: {}.</p>"#,
        int(a.rows),
        int(a.receipts),
        int(a.claim_yen),
        int(a.parts_yen),
        int(a.by_insurer.len() as u64),
        inline_counts(
            &a.by_scope
                .iter()
                .map(|(k, v)| (k.clone(), *v as i64))
                .collect::<Vec<_>>()
        ),
    );
    let names = insurer_names(data);
    let mut ranked: Vec<(&String, &super::aggregate::Parts)> = a.by_insurer.iter().collect();
    ranked.sort_by(|x, y| y.1.yen.cmp(&x.1.yen).then_with(|| x.0.cmp(y.0)));
    let top: Vec<_> = ranked.iter().take(options.top_insurers).collect();
    let bars: Vec<Bar> = top
        .iter()
        .map(|(insurer, p)| Bar {
            label: names
                .get(insurer.as_str())
                .map(|r| r.name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| insurer.to_string()),
            sublabel: insurer.to_string(),
            value: p.yen,
        })
        .collect();
    let _ = write!(
        out,
        r#"<figure id="apportionment-chart"><figcaption>Top {} insurer(s) by apportioned yen</figcaption>{}</figure>"#,
        top.len(),
        svg::hbars(&bars, "Apportioned yen by insurer", "apportionment-bars")
    );
    out.push_str(r#"<table class="data" id="apportionment-table"><thead><tr><th>#</th><th>insurer</th><th>name</th><th>kind</th><th class="num">pref.</th><th class="num">receipts (parts)</th><th class="num">apportioned yen</th><th class="num">share</th></tr></thead><tbody>"#);
    for (i, (insurer, p)) in top.iter().enumerate() {
        let row = names.get(insurer.as_str());
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td class="insurer">{}</td><td class="name">{}</td><td>{}</td><td class="num">{}</td>{}{}<td class="num">{}</td></tr>"#,
            i + 1,
            esc(insurer),
            esc(row.map_or("", |r| r.name.as_str())),
            esc(row.and_then(|r| r.kind.as_deref()).unwrap_or("")),
            row.and_then(|r| r.prefecture)
                .map_or(String::new(), |p| format!("{p:02}")),
            td_num(p.parts),
            td_num(p.yen),
            pct(p.yen, a.parts_yen),
        );
    }
    out.push_str("</tbody><tfoot>");
    if ranked.len() > top.len() {
        let rest = &ranked[top.len()..];
        let yen = total(rest.iter().map(|r| &r.1.yen));
        let _ = write!(
            out,
            r#"<tr><th colspan="5">{} more insurer(s)</th>{}{}<td class="num">{}</td></tr>"#,
            int(rest.len() as u64),
            td_num(rest.iter().map(|r| r.1.parts).sum::<u64>()),
            td_num(yen),
            pct(yen, a.parts_yen),
        );
    }
    let _ = writeln!(
        out,
        r#"<tr><th colspan="5">total ({} insurers)</th>{}{}<td class="num">100%</td></tr></tfoot></table></section>"#,
        int(ranked.len() as u64),
        td_num(a.rows),
        td_num(a.parts_yen),
    );
}

fn routed_receipts(r: &StatementRow) -> i64 {
    (r.verified_receipts + r.rerouted_receipts + r.matched_receipts) as i64
}

fn statements(out: &mut String, data: &RunData, options: &HtmlOptions) {
    section_open(out, "statements", "Statements by insurer");
    let Some(st) = &data.statements else {
        out.push_str(r#"<p class="check bad">Neither statements.parquet nor statements.csv is present.</p></section>"#);
        return;
    };
    let rows = &st.rows;
    let sum = |f: fn(&StatementRow) -> i64| rows.iter().map(|r| i128::from(f(r))).sum::<i128>();
    let owing = rows.iter().filter(|r| r.owed_yen != 0).count();
    let not_in_master = rows.iter().filter(|r| !r.in_master).count();
    let _ = write!(
        out,
        r#"<p>From <code>{}</code>: {} insurer row(s), {} owing anything{}. Owed = routed (verified + rerouted + matched) + apportioned; 差額 = copay billed − copay due on the insurer's routed receipts.</p>"#,
        st.source,
        int(rows.len() as u64),
        int(owing as u64),
        if not_in_master > 0 {
            format!(", {} not in the insurer master", int(not_in_master as u64))
        } else {
            String::new()
        },
    );
    let mut ranked: Vec<&StatementRow> = rows.iter().collect();
    ranked.sort_by(|a, b| {
        b.owed_yen
            .cmp(&a.owed_yen)
            .then_with(|| a.insurer.cmp(&b.insurer))
    });
    let top: Vec<&StatementRow> = ranked
        .iter()
        .copied()
        .filter(|r| r.owed_yen != 0 || r.copay_diff_receipts != 0)
        .take(options.top_insurers)
        .collect();
    let _ = write!(
        out,
        r#"<div class="scroll"><table class="data" id="statements-table"><thead><tr><th>#</th><th>insurer</th><th>name</th><th>kind</th><th class="num">pref.</th><th class="num">verified yen</th><th class="num">rerouted yen</th><th class="num">matched yen</th><th class="num">routed yen</th><th class="num">apportioned yen</th><th class="num">owed yen</th><th class="num">差額 receipts</th><th class="num">差額 yen</th></tr></thead><tbody>"#
    );
    let line = |out: &mut String, r: &StatementRow, i: usize| {
        let _ = write!(
            out,
            r#"<tr{}><td>{}</td><td class="insurer">{}</td><td class="name">{}</td><td>{}</td><td class="num">{}</td>{}{}{}{}{}{}{}{}</tr>"#,
            if r.in_master {
                ""
            } else {
                r#" class="not-in-master" title="not in the insurer master""#
            },
            i + 1,
            esc(&r.insurer),
            esc(&r.name),
            esc(r.kind.as_deref().unwrap_or("")),
            r.prefecture.map_or(String::new(), |p| format!("{p:02}")),
            td_yen(r.verified_yen, r.verified_receipts),
            td_yen(r.rerouted_yen, r.rerouted_receipts),
            td_yen(r.matched_yen, r.matched_receipts),
            td_yen(
                r.routed_yen,
                r.verified_receipts + r.rerouted_receipts + r.matched_receipts
            ),
            td_yen(r.apportioned_yen, r.apportioned_receipts),
            td_num(r.owed_yen),
            td_num(r.copay_diff_receipts),
            td_num(r.copay_diff_yen),
        );
    };
    for (i, r) in top.iter().enumerate() {
        line(out, r, i);
    }
    out.push_str("</tbody><tfoot>");
    let shown: BTreeSet<&str> = top.iter().map(|r| r.insurer.as_str()).collect();
    let rest: Vec<&StatementRow> = rows
        .iter()
        .filter(|r| !shown.contains(r.insurer.as_str()))
        .collect();
    if !rest.is_empty() {
        let rs = |f: fn(&StatementRow) -> i64| rest.iter().map(|r| i128::from(f(r))).sum::<i128>();
        let _ = write!(
            out,
            r#"<tr><th colspan="5">{} more insurer(s)</th>{}{}{}{}{}{}{}{}</tr>"#,
            int(rest.len() as u64),
            td_num(rs(|r| r.verified_yen)),
            td_num(rs(|r| r.rerouted_yen)),
            td_num(rs(|r| r.matched_yen)),
            td_yen(rs(|r| r.routed_yen), rs(routed_receipts) as u64),
            td_num(rs(|r| r.apportioned_yen)),
            td_num(rs(|r| r.owed_yen)),
            td_num(rs(|r| r.copay_diff_receipts as i64)),
            td_num(rs(|r| r.copay_diff_yen)),
        );
    }
    let _ = write!(
        out,
        r#"<tr class="total"><th colspan="5">total ({} insurers)</th>{}{}{}{}{}{}{}{}</tr></tfoot></table></div>"#,
        int(rows.len() as u64),
        td_num(sum(|r| r.verified_yen)),
        td_num(sum(|r| r.rerouted_yen)),
        td_num(sum(|r| r.matched_yen)),
        td_yen(sum(|r| r.routed_yen), sum(routed_receipts) as u64),
        td_num(sum(|r| r.apportioned_yen)),
        td_num(sum(|r| r.owed_yen)),
        td_num(sum(|r| r.copay_diff_receipts as i64)),
        td_num(sum(|r| r.copay_diff_yen)),
    );
    let m = &data.manifest;
    let owed = n(m, "/conservation/insurer_share/owed");
    if let Some(owed) = owed {
        let total = sum(|r| r.owed_yen);
        if total == i128::from(owed) {
            let _ = write!(
                out,
                r#"<p class="check ok">Σ owed over the statements = {} yen = the manifest's owed.</p>"#,
                int(total)
            );
        } else {
            let _ = write!(
                out,
                r#"<p class="check bad">Σ owed over the statements {} yen ≠ the manifest's owed {} yen.</p>"#,
                int(total),
                int(owed)
            );
        }
    }
    out.push_str("</section>\n");
}

fn quarantine(out: &mut String, data: &RunData, options: &HtmlOptions) {
    let m = &data.manifest;
    section_open(out, "quarantine", "Quarantine reasons");
    let Some(q) = &data.quarantine else {
        out.push_str(r#"<p class="check bad">quarantine.csv is missing.</p></section>"#);
        return;
    };
    let manifest_rows = n(m, "/quarantine/rows");
    let _ = write!(
        out,
        r#"<p><b>{}</b> row(s) in quarantine.csv{}, grouped into {} reason(s) (numbers and quoted values folded). Scope says what a row takes out of the run: <code>file</code> every receipt of a file, <code>receipt</code> one receipt, <code>record</code> one UKE record, <code>row</code> one CSV/Parquet row, <code>field</code> one value, <code>notice</code> nothing.</p>"#,
        int(q.rows),
        match manifest_rows {
            Some(r) if r as u64 == q.rows => " (as the manifest counts)".to_string(),
            Some(r) => format!(" (the manifest counts {})", int(r)),
            None => String::new(),
        },
        int(q.groups.len() as u64),
    );
    let mut scopes: Vec<(&String, &u64)> = q.by_scope.iter().collect();
    scopes.sort_by_key(|(s, _)| {
        (
            SCOPES.iter().position(|x| x == s).unwrap_or(SCOPES.len()),
            s.to_string(),
        )
    });
    out.push_str(r#"<table class="data" id="quarantine-scopes"><thead><tr><th>scope</th><th class="num">rows</th></tr></thead><tbody>"#);
    for (scope, count) in &scopes {
        let _ = write!(
            out,
            r#"<tr><td>{}</td>{}</tr>"#,
            esc(scope),
            td_num(**count)
        );
    }
    out.push_str("</tbody></table>");
    let mut groups: Vec<_> = q.groups.iter().collect();
    groups.sort_by(|a, b| {
        b.1.count
            .cmp(&a.1.count)
            .then_with(|| {
                let rank = |s: &str| SCOPES.iter().position(|x| *x == s).unwrap_or(SCOPES.len());
                rank(&a.0 .0).cmp(&rank(&b.0 .0))
            })
            .then_with(|| a.0.cmp(b.0))
    });
    out.push_str(r#"<div id="quarantine-reasons">"#);
    for ((scope, pattern), g) in groups.iter().take(options.quarantine_reasons) {
        let records: Vec<(String, i64)> = g
            .records
            .iter()
            .map(|(k, v)| (k.clone(), *v as i64))
            .collect();
        let _ = write!(
            out,
            r#"<details class="reason"><summary><span class="count">{}</span> <span class="scope scope-{}">{}</span> <span class="pattern">{}</span></summary><p class="note">records: {} · rows naming a receipt: {}</p><table class="data examples"><thead><tr><th>file</th><th class="num">line</th><th>record</th><th>field</th><th>value</th><th>receipt</th><th>reason</th></tr></thead><tbody>"#,
            int(g.count),
            esc(scope),
            esc(scope),
            esc(pattern),
            inline_counts(&records),
            int(g.with_receipt_key),
        );
        for e in &g.examples {
            let _ = write!(
                out,
                r#"<tr><td class="file">{}</td><td class="num">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>"#,
                esc(&e.file),
                esc(&e.line),
                esc(&e.record),
                esc(&e.field),
                esc(&e.value),
                esc(&e.receipt_key),
                esc(&e.reason),
            );
        }
        let more = g.count.saturating_sub(g.examples.len() as u64);
        let _ = writeln!(
            out,
            "</tbody></table>{}</details>",
            if more > 0 {
                format!(
                    r#"<p class="note">… and {} more row(s) with this reason in quarantine.csv.</p>"#,
                    int(more)
                )
            } else {
                String::new()
            }
        );
    }
    out.push_str("</div>");
    if groups.len() > options.quarantine_reasons {
        let rest = &groups[options.quarantine_reasons..];
        let _ = write!(
            out,
            r#"<p class="note">{} more reason(s) ({} rows) are not shown.</p>"#,
            int(rest.len() as u64),
            int(rest.iter().map(|g| g.1.count).sum::<u64>()),
        );
    }
    out.push_str("</section>\n");
}

fn configuration(out: &mut String, data: &RunData) {
    section_open(out, "configuration", "Configuration");
    let config = data
        .manifest
        .get("config")
        .map(|c| serde_json::to_string_pretty(c).unwrap_or_default())
        .unwrap_or_default();
    let _ = writeln!(
        out,
        r#"<details class="block"><summary>The configuration the run used (manifest <code>config</code>)</summary><pre>{}</pre></details></section>"#,
        esc(&config)
    );
}
