//! The CSV bulk download: columns, cells guarded against formula injection, one row per campaign.

use super::*;

/// One CSV cell: bidirectional and zero-width characters shown as markers such as `[U+202E]`,
/// RFC 4180 quoting, and a leading `'` before a cell that a spreadsheet would read as a formula
/// (`=`, `+`, `-`, `@`, tab, CR).
pub fn csv_cell(s: &str) -> String {
    // A formatting character an old entry holds is shown as a marker (SPEC.md §1).
    let shown = sightline_ledger::text::neutralise(s);
    let s = shown.as_ref();
    let guarded;
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{s}");
        guarded.as_str()
    } else {
        s
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The columns of the CSV export, in order (documented in `web/openapi.yaml`).
pub fn csv_columns() -> Vec<String> {
    let mut cols: Vec<String> = [
        "submitter",
        "submitter_name",
        "campaign_id",
        "advertiser_ids",
        "advertiser_names",
        "payer_ids",
        "payer_names",
        "political",
        "political_messages",
        "political_kind",
        "political_linked_to",
        "political_date",
        "political_amount",
        "political_currency",
        "political_funding_origin",
        "political_notice_url",
        "brands",
        "subjects",
        "subjects_more",
        "creatives",
        "creatives_more",
        "channels",
        "languages",
        "first_shown",
        "last_shown",
        "targeted",
        "targeted_messages",
        "targeting_included",
        "targeting_excluded",
        "targeting_more",
        "data_source_kinds",
        "data_providers",
        "special_categories",
        "minor_messages",
        "ai_selected_messages",
        "ai_delivery_messages",
        "optimisation_goals",
        "reach",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    cols.extend(MEMBER_STATES.iter().map(|ms| format!("reach_{ms}")));
    cols.extend(
        [
            "objected_messages",
            "first_entry",
            "last_entry",
            // Revision 3: creative content, data labels and the rest of the TTPA notice.
            "creative_visibility",
            "creative_texts",
            "creative_assets",
            "data_precisions",
            "data_id_types",
            "data_onboarders",
            "political_period",
            "political_other_benefits",
            "political_funding_source",
            "political_repository_url",
            "political_report_url",
            "political_suspension",
            // The submitter's tallies, last.
            "tally_days",
            "tally_delivered",
            "tally_logged",
            "tally_differences",
        ]
        .iter()
        .map(|s| (*s).to_owned()),
    );
    cols
}

fn lines<T>(v: &[T], f: impl Fn(&T) -> String) -> String {
    v.iter().map(f).collect::<Vec<_>>().join("\n")
}

fn csv_row(c: &CampaignView) -> Vec<String> {
    let labels = &c.political_labels.values;
    let mut row = vec![
        c.submitter.id.clone(),
        c.submitter.name.clone().unwrap_or_default(),
        c.campaign_id.clone(),
        lines(&c.advertisers.values, |p| p.id.clone()),
        lines(&c.advertisers.values, |p| p.name.clone().unwrap_or_default()),
        lines(&c.payers.values, |p| p.id.clone()),
        lines(&c.payers.values, |p| p.name.clone().unwrap_or_default()),
        c.political.to_string(),
        c.political_messages.to_string(),
        lines(labels, |l| l.kind.clone()),
        lines(labels, |l| l.linked_to.clone()),
        lines(labels, |l| l.date.clone()),
        lines(labels, |l| l.amount.get("value").and_then(Value::as_str).unwrap_or("not_disclosed").to_owned()),
        lines(labels, |l| l.amount.get("currency").and_then(Value::as_str).unwrap_or("not_disclosed").to_owned()),
        lines(labels, |l| l.funding_origin.clone()),
        lines(labels, |l| l.notice_url.clone()),
        lines(&c.brands.values, String::clone),
        lines(&c.subjects.values, String::clone),
        c.subjects.more.to_string(),
        lines(&c.creatives.values, |k| format!("{} {} {}", k.creative_id, k.ad_id, k.sha256)),
        c.creatives.more.to_string(),
        c.channels.join("\n"),
        c.languages.join("\n"),
        c.first_shown.clone(),
        c.last_shown.clone(),
        c.targeted.to_string(),
        c.targeted_messages.to_string(),
        lines(&c.included(), |k| k.csv_line()),
        lines(&c.excluded(), |k| k.csv_line()),
        c.targeting_more.to_string(),
        c.data_source_kinds.join("\n"),
        lines(&c.data_providers.values, String::clone),
        c.special_categories.join("\n"),
        c.minor_messages.to_string(),
        c.ai_selected_messages.to_string(),
        c.ai_delivery_messages.to_string(),
        lines(&c.optimisation_goals.values, String::clone),
        c.reach.to_string(),
    ];
    for ms in MEMBER_STATES {
        row.push(c.reach_by_member_state.iter().find(|r| r.member_state == ms).map(|r| r.reach).unwrap_or(Count::Exact(0)).to_string());
    }
    row.extend([c.objected_messages.to_string(), c.first_entry.to_string(), c.last_entry.to_string()]);
    let creatives = &c.creatives.values;
    let notice = |v: fn(&PoliticalLabel) -> String| lines(labels, v);
    row.extend([
        lines(creatives, |k| format!("{} {}", k.creative_id, k.visibility.as_deref().unwrap_or("not_stated"))),
        lines(creatives, |k| format!("{} {}", k.creative_id, k.text.as_deref().unwrap_or("not_stated"))),
        lines(creatives, |k| {
            k.assets
                .iter()
                .map(|a| format!("{} {} {}", k.creative_id, a.sha256, a.url.as_deref().unwrap_or("-")))
                .collect::<Vec<_>>()
                .join("\n")
        }),
        c.data_precisions.join("\n"),
        c.data_id_types.join("\n"),
        lines(&c.data_onboarders.values, String::clone),
        notice(PoliticalLabel::period_text),
        notice(|l| PoliticalLabel::notice_text(&l.other_benefits)),
        notice(PoliticalLabel::funding_source_text),
        notice(|l| PoliticalLabel::notice_text(&l.repository_url)),
        notice(|l| PoliticalLabel::notice_text(&l.report_url)),
        notice(PoliticalLabel::suspension_text),
    ]);
    // The submitter's signed tallies beside the logged count (SPEC.md §3.8); empty cells without one.
    match &c.tally {
        Some(t) => {
            let mut diffs = lines(&t.differences, TallyDifference::csv_line);
            if t.differences_more > 0 {
                diffs.push_str(&format!("\n(and {} more)", t.differences_more));
            }
            row.extend([t.days.to_string(), t.delivered.to_string(), t.logged.to_string(), diffs]);
        }
        None => row.extend([String::new(), String::new(), String::new(), String::new()]),
    }
    row
}

/// The CSV of a page of results: a header line, then one line per campaign
/// (list cells hold one value per line), CRLF line ends.
pub fn to_csv(page: &SearchPage) -> String {
    let mut out = String::new();
    let mut push = |cells: Vec<String>| {
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    };
    push(csv_columns());
    for c in &page.campaigns {
        push(csv_row(c));
    }
    out
}
