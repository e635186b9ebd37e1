//! The HTML rendering: one self-contained page (inline CSS and JS, no URL to fetch; a
//! Content-Security-Policy forbids any). On screen, a grid of people × containers rendered
//! by the inline script from the embedded JSON, one page of rows at a time, with a filter
//! box and column sorting; printed (A4 landscape), or without JavaScript, one section per
//! person listing their access. Everything from the report is escaped.

use std::fmt::Write as _;

use super::{Cell, GrantEvidence, HistoryState, Mark, Report};

/// One line on who granted a declared access, for a cell's tooltip and the printed
/// sections; `None` where there is nothing to say (undeclared access, or no history,
/// which the header explains).
fn grant_text(cell: &Cell) -> Option<String> {
    match (cell.grant_evidence?, cell.granted.as_deref()) {
        (GrantEvidence::Commit, Some(g)) => {
            let mut text = format!(
                "granted in {} on {} by {}",
                g.commit.get(..12).unwrap_or(&g.commit),
                g.date,
                g.author
            );
            if !g.approvers.is_empty() {
                text.push_str("; approved by ");
                text.push_str(&g.approvers.join(", "));
            }
            Some(text)
        }
        (GrantEvidence::NotCommitted, _) => Some("not committed".into()),
        (GrantEvidence::Unknown, _) => Some("grant unknown".into()),
        _ => None,
    }
}

/// Appends `text` escaped for HTML text and attribute values.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// A short label for a mark, as the page shows it.
fn label(mark: Mark) -> &'static str {
    match mark {
        Mark::Undeclared => "not in config",
        Mark::Missing => "missing live",
        Mark::RoleDiffers => "role differs",
        Mark::PendingInvitation => "invited",
        Mark::Privileged => "owner/admin",
        Mark::ServiceAccount => "service account",
        Mark::DeploymentKey => "deployment key",
        Mark::UnknownToConfig => "unknown to config",
        Mark::OutsideAllowedDomains => "outside allowed domains",
    }
}

fn bit(mark: Mark) -> u32 {
    let i = Mark::ALL.iter().position(|m| *m == mark).unwrap_or(0);
    1 << i
}

fn bits(marks: &[Mark]) -> u32 {
    marks.iter().fold(0, |acc, m| acc | bit(*m))
}

/// `class` and `data-marks` attribute text for a cell or row with these marks.
fn mark_attrs(out: &mut String, marks: &[Mark]) {
    let drift = marks.iter().any(|m| m.is_drift());
    out.push_str(" class=\"");
    if drift {
        out.push_str("drift");
    }
    for m in marks {
        out.push_str(" m-");
        out.push_str(m.as_str());
    }
    out.push_str("\" data-marks=\"");
    for (i, m) in marks.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(m.as_str());
    }
    out.push('"');
}

/// The data the script renders from, compact: rows are
/// `[id, email, name, row mark bits, known (1/0), [column, role index, mark bits, grant
/// index (into `grants`, -1 for none), …]]`.
fn data_json(report: &Report) -> String {
    let mut roles: Vec<String> = Vec::new();
    let mut role_index = |r: &str| -> usize {
        match roles.iter().position(|x| x == r) {
            Some(i) => i,
            None => {
                roles.push(r.to_string());
                roles.len() - 1
            }
        }
    };
    let mut grants: Vec<String> = Vec::new();
    let mut grant_at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let rows: Vec<serde_json::Value> = report
        .people
        .iter()
        .map(|p| {
            let mut cells = Vec::with_capacity(p.access.len() * 4);
            for c in &p.access {
                cells.push(serde_json::Value::from(c.column));
                cells.push(serde_json::Value::from(role_index(&c.role)));
                cells.push(serde_json::Value::from(bits(&c.marks)));
                let grant = grant_text(c).map(|text| {
                    *grant_at.entry(text).or_insert_with_key(|text| {
                        grants.push(text.clone());
                        grants.len() - 1
                    })
                });
                cells.push(grant.map_or(serde_json::Value::from(-1), serde_json::Value::from));
            }
            serde_json::json!([
                p.id,
                p.email.as_deref().unwrap_or(""),
                p.name.as_deref().unwrap_or(""),
                bits(&p.marks),
                u8::from(p.known_to_config),
                cells
            ])
        })
        .collect();
    let cols: Vec<serde_json::Value> = report
        .containers
        .iter()
        .map(|c| {
            serde_json::json!({
                "p": c.provider, "k": c.kind.as_str(), "n": c.name,
                "d": u8::from(c.declared), "l": u8::from(c.live)
            })
        })
        .collect();
    let marks: Vec<serde_json::Value> = Mark::ALL
        .iter()
        .map(|m| serde_json::json!({"id": m.as_str(), "label": label(*m), "drift": m.is_drift()}))
        .collect();
    let data = serde_json::json!({
        "v": 1,
        "marks": marks,
        "roles": roles,
        "grants": grants,
        "cols": cols,
        "rows": rows,
    });
    let text = serde_json::to_string(&data).unwrap_or_else(|_| "{}".to_string());
    // Inside <script>, `</script>` or `<!--` must not appear: escape what could start one.
    let mut safe = String::with_capacity(text.len() + 64);
    for c in text.chars() {
        match c {
            '<' => safe.push_str("\\u003c"),
            '>' => safe.push_str("\\u003e"),
            '&' => safe.push_str("\\u0026"),
            '\u{2028}' => safe.push_str("\\u2028"),
            '\u{2029}' => safe.push_str("\\u2029"),
            c => safe.push(c),
        }
    }
    safe
}

const STYLE: &str = r#"
@page { size: A4 landscape; margin: 10mm; }
:root { --drift: #b3261e; --drift-bg: #fde7e4; --priv: #6a1b9a; --pend: #8a6d00; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 16px; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 15px; margin: 16px 0 6px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 8px; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; }
table.providers td, table.providers th { border: 1px solid var(--line); padding: 2px 8px; text-align: left; }
.summary span { margin-right: 14px; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0; }
.badge { display: inline-block; border-radius: 3px; padding: 0 4px; margin: 0 2px 0 0; font-size: 11px; border: 1px solid var(--line); background: #f6f8fa; white-space: nowrap; }
.badge.drift, .m-outside_allowed_domains .badge-od, .badge.m-outside_allowed_domains, .badge.m-unknown_to_config { border-color: var(--drift); color: var(--drift); }
.controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 10px 0; }
.controls input[type=search] { width: 18em; padding: 3px 6px; }
.grid-wrap { overflow: auto; max-height: 75vh; border: 1px solid var(--line); }
#grid th, #grid td { border: 1px solid var(--line); padding: 2px 6px; white-space: nowrap; }
#grid thead th { position: sticky; background: #f6f8fa; z-index: 1; }
#grid thead tr:first-child th { top: 0; }
#grid thead tr:nth-child(2) th { top: 24px; }
#grid th.provider { text-align: left; }
#grid th.sortable { cursor: pointer; user-select: none; }
#grid th.sorted-asc::after { content: " \25B2"; }
#grid th.sorted-desc::after { content: " \25BC"; }
#grid th.undeclared-col { color: var(--drift); }
#grid td.person { position: sticky; left: 0; background: #fff; font-weight: 600; }
#grid tbody tr:nth-child(even) td { background-color: #fafbfc; }
td.drift, tr.drift td { background: var(--drift-bg) !important; color: var(--drift); }
.m-missing { text-decoration: line-through; }
.m-privileged { font-weight: 700; color: var(--priv); }
.m-pending_invitation { font-style: italic; color: var(--pend); }
#js-errors { border: 2px solid var(--drift); color: var(--drift); padding: 6px; margin: 8px 0; }
#print { display: none; }
section.person { break-inside: avoid; page-break-inside: avoid; margin: 0 0 10px; }
section.person h2 { margin: 8px 0 2px; font-size: 13px; }
section.person table td, section.person table th { border: 1px solid var(--line); padding: 1px 6px; text-align: left; }
section.person p.none { margin: 0; color: #57606a; }
@media print {
  body { margin: 0; font-size: 10px; }
  #screen, #js-errors, .controls { display: none !important; }
  #print { display: block; }
  td.drift, tr.drift td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

const SCRIPT: &str = r#"
(function () {
  'use strict';
  var body = document.body;
  function fail(message) {
    body.setAttribute('data-report-state', 'error');
    var box = document.getElementById('js-errors');
    var p = document.createElement('p');
    p.className = 'js-error';
    p.textContent = 'Error: ' + message;
    box.appendChild(p);
    box.hidden = false;
  }
  window.addEventListener('error', function (e) { fail(e.message || String(e)); });
  window.addEventListener('unhandledrejection', function (e) { fail(String(e.reason)); });

  var data = JSON.parse(document.getElementById('report-data').textContent);
  var cols = data.cols, rows = data.rows, roles = data.roles, marks = data.marks, grants = data.grants;
  var driftBits = 0;
  marks.forEach(function (m, i) { if (m.drift) { driftBits |= (1 << i); } });
  var ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return ESC[c]; }); }
  function markIds(b) {
    var out = [];
    for (var i = 0; i < marks.length; i++) { if (b & (1 << i)) { out.push(marks[i].id); } }
    return out;
  }
  function markLabels(b) {
    var out = [];
    for (var i = 0; i < marks.length; i++) { if (b & (1 << i)) { out.push(marks[i].label); } }
    return out;
  }
  // Per row: a lookup column -> [role index, mark bits, grant index], and the text the
  // filter searches.
  rows.forEach(function (r) {
    var cells = r[5], map = {};
    for (var i = 0; i < cells.length; i += 4) { map[cells[i]] = [cells[i + 1], cells[i + 2], cells[i + 3]]; }
    r.map = map;
    r.text = (r[0] + ' ' + r[1] + ' ' + r[2]).toLowerCase();
  });
  cols.forEach(function (c, i) { c.i = i; c.text = (c.p + ' ' + c.k + ' ' + c.n).toLowerCase(); });

  var state = { filter: '', colFilter: '', mark: '', page: 0, size: 100, sort: null, desc: false };
  var filterBox = document.getElementById('filter');
  var colBox = document.getElementById('colfilter');
  var markBox = document.getElementById('markfilter');
  var sizeBox = document.getElementById('pagesize');
  var info = document.getElementById('pageinfo');
  var table = document.getElementById('grid');

  marks.forEach(function (m, i) {
    var o = document.createElement('option');
    o.value = String(i);
    o.textContent = 'with: ' + m.label;
    markBox.appendChild(o);
  });

  function visibleCols() {
    if (!state.colFilter) { return cols; }
    return cols.filter(function (c) { return c.text.indexOf(state.colFilter) >= 0; });
  }
  function visibleRows() {
    var f = state.filter, m = state.mark, out = rows;
    if (f || m) {
      out = rows.filter(function (r) {
        if (f && r.text.indexOf(f) < 0) { return false; }
        if (m === 'drift') { return (r[3] & driftBits) !== 0; }
        if (m !== '') { return (r[3] & (1 << Number(m))) !== 0; }
        return true;
      });
    } else {
      out = rows.slice();
    }
    if (state.sort !== null) {
      var key = state.sort, sign = state.desc ? -1 : 1;
      var value;
      if (key === 'person') { value = function (r) { return r[0].toLowerCase(); }; }
      else if (key === 'email') { value = function (r) { return r[1]; }; }
      else if (key === 'marks') { value = function (r) { return -markIds(r[3]).length; }; }
      else {
        value = function (r) { var c = r.map[key]; return c ? roles[c[0]] : null; };
      }
      out.sort(function (a, b) {
        var x = value(a), y = value(b);
        // Rows without access to the sorted container stay last in both directions.
        if (x === null || y === null) { return x === y ? 0 : x === null ? 1 : -1; }
        return x < y ? -sign : x > y ? sign : 0;
      });
    }
    return out;
  }
  function sortClass(key) {
    if (state.sort !== key) { return 'sortable'; }
    return 'sortable ' + (state.desc ? 'sorted-desc' : 'sorted-asc');
  }
  function render() {
    var vc = visibleCols(), vr = visibleRows();
    var pages = Math.max(1, Math.ceil(vr.length / state.size));
    if (state.page >= pages) { state.page = pages - 1; }
    var start = state.page * state.size, end = Math.min(vr.length, start + state.size);
    var h = ['<thead><tr>',
      '<th rowspan="2" data-sort="person" class="' + sortClass('person') + '">Person</th>',
      '<th rowspan="2" data-sort="email" class="' + sortClass('email') + '">Email</th>',
      '<th rowspan="2" data-sort="marks" class="' + sortClass('marks') + '">Marks</th>'];
    var i = 0;
    while (i < vc.length) {
      var j = i;
      while (j < vc.length && vc[j].p === vc[i].p) { j++; }
      h.push('<th colspan="' + (j - i) + '" class="provider">' + esc(vc[i].p) + '</th>');
      i = j;
    }
    h.push('</tr><tr>');
    vc.forEach(function (c) {
      h.push('<th data-sort="' + c.i + '" data-col="' + c.i + '" class="' + sortClass(c.i) +
        (c.d ? '' : ' undeclared-col') + '" title="' + esc(c.p + '.' + c.k + ' ' + c.n) +
        (c.d ? '' : ' (not in config)') + (c.l ? '' : ' (not live)') + '">' +
        esc(c.k === 'organization' ? 'organization' : c.n) + '</th>');
    });
    h.push('</tr></thead><tbody>');
    for (var k = start; k < end; k++) {
      var r = vr[k];
      var rowMarks = '';
      for (var b = 0; b < marks.length; b++) {
        if (r[3] & (1 << b)) {
          rowMarks += '<span class="badge' + (marks[b].drift ? ' drift' : '') + ' m-' + marks[b].id + '">' + esc(marks[b].label) + '</span>';
        }
      }
      h.push('<tr data-person="' + esc(r[0]) + '"><td class="person" title="' + esc(r[2]) + '">' + esc(r[0]) +
        '</td><td>' + esc(r[1]) + '</td><td>' + rowMarks + '</td>');
      vc.forEach(function (c) {
        var cell = r.map[c.i];
        if (!cell) { h.push('<td></td>'); return; }
        var ids = markIds(cell[1]);
        var cls = (cell[1] & driftBits) ? 'drift' : '';
        ids.forEach(function (id) { cls += ' m-' + id; });
        var tip = markLabels(cell[1]);
        if (cell[2] >= 0) { tip.push(grants[cell[2]]); }
        h.push('<td class="' + cls + '" data-marks="' + ids.join(' ') + '" title="' +
          esc(tip.join(', ')) + '">' + esc(roles[cell[0]]) + '</td>');
      });
      h.push('</tr>');
    }
    h.push('</tbody>');
    table.innerHTML = h.join('');
    info.textContent = vr.length === 0 ? 'no rows' :
      'rows ' + (start + 1) + '\u2013' + end + ' of ' + vr.length + ' (page ' + (state.page + 1) + ' of ' + pages + ')';
  }
  table.addEventListener('click', function (e) {
    var th = e.target.closest('th[data-sort]');
    if (!th) { return; }
    var key = th.getAttribute('data-sort');
    if (key !== 'person' && key !== 'email' && key !== 'marks') { key = Number(key); }
    if (state.sort === key) { state.desc = !state.desc; } else { state.sort = key; state.desc = false; }
    state.page = 0;
    render();
  });
  var timer = null;
  function later() { clearTimeout(timer); timer = setTimeout(function () { state.page = 0; render(); }, 120); }
  filterBox.addEventListener('input', function () { state.filter = filterBox.value.trim().toLowerCase(); later(); });
  colBox.addEventListener('input', function () { state.colFilter = colBox.value.trim().toLowerCase(); later(); });
  markBox.addEventListener('change', function () { state.mark = markBox.value; state.page = 0; render(); });
  sizeBox.addEventListener('change', function () { state.size = Number(sizeBox.value) || 100; state.page = 0; render(); });
  document.getElementById('prev').addEventListener('click', function () { if (state.page > 0) { state.page--; render(); } });
  document.getElementById('next').addEventListener('click', function () { state.page++; render(); });
  // The state can be given in the address, e.g. report.html#filter=alice&mark=drift&sort=person&desc=1
  // (also how the browser test drives filtering and sorting).
  location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
    var kv = pair.split('='), k = kv[0], v = decodeURIComponent(kv.slice(1).join('=') || '');
    if (k === 'filter') { filterBox.value = v; state.filter = v.trim().toLowerCase(); }
    else if (k === 'cols') { colBox.value = v; state.colFilter = v.trim().toLowerCase(); }
    else if (k === 'mark') { markBox.value = v; state.mark = markBox.value; }
    else if (k === 'sort') { state.sort = /^[0-9]+$/.test(v) ? Number(v) : v; }
    else if (k === 'desc') { state.desc = v === '1'; }
    else if (k === 'page') { state.page = Math.max(0, (Number(v) || 1) - 1); }
    else if (k === 'size') { sizeBox.value = v; state.size = Number(sizeBox.value) || 100; }
  });
  render();
  // Milliseconds from navigation start to the first grid drawn (parse + data + render).
  body.setAttribute('data-ready-ms', String(Math.round(performance.now())));
  if (body.getAttribute('data-report-state') !== 'error') { body.setAttribute('data-report-state', 'ready'); }
})();
"#;

/// The page.
pub fn html(report: &Report) -> String {
    let cells = report.summary.access;
    let mut out = String::with_capacity(16_384 + cells * 110 + report.people.len() * 200);
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Access review",
    );
    let orgs: Vec<String> = report
        .providers
        .iter()
        .map(|p| p.organization.clone())
        .collect();
    if !orgs.is_empty() {
        out.push_str(" \u{2014} ");
        escape_into(&mut out, &orgs.join(", "));
    }
    out.push_str("</title>\n<style>");
    out.push_str(STYLE);
    out.push_str(
        "</style>\n<noscript><style>#print { display: block; }</style></noscript>\n</head>\n",
    );
    out.push_str("<body data-report-state=\"static\">\n<header>\n<h1>Access review</h1>\n");
    header(&mut out, report);
    out.push_str("</header>\n<div id=\"js-errors\" hidden></div>\n");
    grid_shell(&mut out, report);
    print_sections(&mut out, report);
    out.push_str("<script type=\"application/json\" id=\"report-data\">");
    out.push_str(&data_json(report));
    out.push_str("</script>\n<script>");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

fn header(out: &mut String, report: &Report) {
    let c = &report.config;
    out.push_str("<dl class=\"meta\">\n");
    let _ = writeln!(out, "<dt>Read at</dt><dd>{}</dd>", esc(&report.read_at));
    let _ = writeln!(
        out,
        "<dt>Config digest</dt><dd><code>{}</code></dd>",
        esc(&c.digest)
    );
    let commit = match (&c.git_commit, c.git_dirty) {
        (Some(commit), Some(true)) => {
            format!("<code>{}</code> (with uncommitted changes)", esc(commit))
        }
        (Some(commit), _) => format!("<code>{}</code>", esc(commit)),
        (None, _) => "not a git checkout".to_string(),
    };
    let _ = writeln!(out, "<dt>Git commit</dt><dd>{commit}</dd>");
    let history = match c.history {
        HistoryState::Full => {
            "full: each declared access shows the commit that last changed its line".to_string()
        }
        state => format!(
            "{}: no grants reported ({})",
            state.as_str(),
            esc(c.history_reason.as_deref().unwrap_or("no reason given"))
        ),
    };
    let _ = writeln!(
        out,
        "<dt>History</dt><dd data-history=\"{}\">{history}</dd>",
        c.history.as_str()
    );
    if let Some(who) = &report.person {
        let _ = writeln!(
            out,
            "<dt>Person</dt><dd>only <code>{}</code> (--person)</dd>",
            esc(who)
        );
    }
    let _ = writeln!(
        out,
        "<dt>Config files</dt><dd>{}</dd>",
        c.files
            .iter()
            .map(|f| format!("<code>{}</code>", esc(f)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let domains = if c.allowed_email_domains.is_empty() {
        "any (no restriction)".to_string()
    } else {
        esc(&c.allowed_email_domains.join(", "))
    };
    let _ = writeln!(out, "<dt>Allowed email domains</dt><dd>{domains}</dd>");
    let _ = writeln!(
        out,
        "<dt>teamsync</dt><dd>{}</dd>\n</dl>",
        esc(&report.teamsync_version)
    );

    out.push_str("<table class=\"providers\"><thead><tr><th>Provider</th><th>Kind</th><th>Organization</th><th>Containers</th><th>Source</th></tr></thead><tbody>\n");
    for p in &report.providers {
        let n = report
            .containers
            .iter()
            .filter(|c| c.provider == p.name)
            .count();
        let _ = writeln!(
            out,
            "<tr data-provider=\"{}\"><td>{}</td><td>{}</td><td><code>{}</code></td><td>{n}</td><td>{}</td></tr>",
            esc(&p.name),
            esc(&p.name),
            p.kind.as_str(),
            esc(&p.organization),
            if p.sandbox { "sandbox" } else { "live API" }
        );
    }
    out.push_str("</tbody></table>\n");

    let s = &report.summary;
    let _ = writeln!(
        out,
        "<p class=\"summary\"><span>{} people</span><span>{} containers</span><span>{} access entries</span>\
         <span>{} with drift</span><span>{} pending invitations</span><span>{} owner/admin</span>\
         <span>{} unknown to config</span><span>{} service accounts or keys</span><span>{} outside allowed domains</span></p>",
        s.people,
        s.containers,
        s.access,
        s.drift,
        s.pending_invitations,
        s.privileged,
        s.unknown_to_config,
        s.non_human,
        s.outside_allowed_domains
    );
    out.push_str("<ul class=\"legend\">");
    for m in Mark::ALL {
        let _ = write!(
            out,
            "<li><span class=\"badge{} m-{}\">{}</span> {}</li>",
            if m.is_drift() { " drift" } else { "" },
            m.as_str(),
            label(m),
            esc(m.describe())
        );
    }
    out.push_str("</ul>\n");
}

fn grid_shell(out: &mut String, report: &Report) {
    out.push_str(
        "<main id=\"screen\">\n<div class=\"controls\">\
         <input id=\"filter\" type=\"search\" placeholder=\"Filter people (name, email)\" aria-label=\"Filter people\">\
         <input id=\"colfilter\" type=\"search\" placeholder=\"Filter containers\" aria-label=\"Filter containers\">\
         <select id=\"markfilter\" aria-label=\"Rows with a mark\"><option value=\"\">all rows</option><option value=\"drift\">with drift</option></select>\
         <select id=\"pagesize\" aria-label=\"Rows per page\"><option>50</option><option selected>100</option><option>250</option><option>1000</option></select>\
         <button id=\"prev\" type=\"button\">&#8249; previous</button><span id=\"pageinfo\"></span>\
         <button id=\"next\" type=\"button\">next &#8250;</button></div>\n\
         <div class=\"grid-wrap\"><table id=\"grid\"><thead><tr><th>Person</th><th>Email</th><th>Marks</th>",
    );
    let mut i = 0;
    let cs = &report.containers;
    while i < cs.len() {
        let j = i + cs[i..]
            .iter()
            .take_while(|c| c.provider == cs[i].provider)
            .count();
        let _ = write!(
            out,
            "<th colspan=\"{}\" class=\"provider\">{}</th>",
            j - i,
            esc(&cs[i].provider)
        );
        i = j;
    }
    out.push_str("</tr><tr><th></th><th></th><th></th>");
    for (i, c) in cs.iter().enumerate() {
        let _ = write!(
            out,
            "<th data-col=\"{i}\" data-key=\"{}\">{}</th>",
            esc(&c.key),
            esc(&c.name)
        );
    }
    out.push_str("</tr></thead><tbody></tbody></table></div>\n</main>\n");
}

fn print_sections(out: &mut String, report: &Report) {
    out.push_str("<div id=\"print\">\n");
    for p in &report.people {
        out.push_str("<section class=\"person\" data-person=\"");
        escape_into(out, &p.id);
        out.push_str("\"><h2>");
        escape_into(out, &p.id);
        if let Some(e) = p
            .email
            .as_deref()
            .filter(|e| Some(*e) != Some(p.id.as_str()))
        {
            out.push_str(" &lt;");
            escape_into(out, e);
            out.push_str("&gt;");
        }
        if let Some(n) = &p.name {
            out.push_str(" \u{b7} ");
            escape_into(out, n);
        }
        for m in &p.marks {
            let _ = write!(
                out,
                " <span class=\"badge{} m-{}\">{}</span>",
                if m.is_drift() { " drift" } else { "" },
                m.as_str(),
                label(*m)
            );
        }
        out.push_str("</h2>");
        if p.access.is_empty() {
            out.push_str("<p class=\"none\">no access</p></section>\n");
            continue;
        }
        out.push_str(
            "<table><tr><th>Provider</th><th>Container</th><th>Role</th><th>Marks</th><th>Granted</th></tr>",
        );
        for cell in &p.access {
            let Some(c) = report.containers.get(cell.column) else {
                continue;
            };
            out.push_str("<tr");
            mark_attrs(out, &cell.marks);
            out.push_str("><td>");
            escape_into(out, &c.provider);
            out.push_str("</td><td>");
            out.push_str(c.kind.as_str());
            out.push(' ');
            escape_into(out, &c.name);
            out.push_str("</td><td>");
            escape_into(out, &cell.role);
            out.push_str("</td><td>");
            for (i, m) in cell.marks.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(label(*m));
            }
            out.push_str("</td><td");
            if let Some(g) = cell.granted.as_deref() {
                out.push_str(" title=\"");
                escape_into(out, &g.commit);
                out.push('"');
            }
            out.push('>');
            if let Some(text) = grant_text(cell) {
                escape_into(out, &text);
            }
            out.push_str("</td></tr>");
        }
        out.push_str("</table></section>\n");
    }
    out.push_str("</div>\n");
}
