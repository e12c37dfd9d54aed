//! The dashboard's tables: styled lines, columns that clip or drop when narrow, and the
//! count and top-list tables built from the report.

use std::fmt::Write as _;

use serde_json::Value;

use super::text::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Title,
    Dim,
    Warn,
    Bad,
    Accent,
}

impl Style {
    pub(super) fn sgr(self) -> &'static str {
        match self {
            Style::Title => "1",
            Style::Dim => "2",
            Style::Warn => "33",
            Style::Bad => "31",
            Style::Accent => "36",
        }
    }
}

/// A screen line being built: its text (with any colour escapes) and its width in columns.
#[derive(Debug, Clone, Default)]
pub(super) struct Line {
    pub(super) text: String,
    pub(super) cols: usize,
}

impl Line {
    pub(super) fn push(&mut self, s: &str, style: Option<Style>, color: bool) {
        match style {
            Some(st) if color && !s.is_empty() => {
                let _ = write!(self.text, "\x1b[{}m{s}\x1b[0m", st.sgr());
            }
            _ => self.text.push_str(s),
        }
        self.cols += width(s);
    }

    pub(super) fn pad_to(&mut self, cols: usize) {
        if self.cols < cols {
            self.text.push_str(&" ".repeat(cols - self.cols));
            self.cols = cols;
        }
    }
}

/// How a table label may be shortened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Clip {
    End,
    Middle,
    /// Addresses: a cut address cannot be copied.
    Never,
}

#[derive(Debug)]
pub(super) struct Column {
    pub(super) header: &'static str,
    /// Columns with a higher number are left out first when the table does not fit; 0 never.
    pub(super) drop_order: u8,
    /// The narrowest the column is drawn.
    pub(super) min_width: usize,
}

pub(super) fn column(header: &'static str, drop_order: u8, min_width: usize) -> Column {
    Column { header, drop_order, min_width }
}

#[derive(Debug)]
pub(super) struct Row {
    pub(super) label: String,
    pub(super) cells: Vec<String>,
    pub(super) style: Option<Style>,
}

/// A table: a title, a label column and right-aligned value columns.
#[derive(Debug)]
pub(super) struct Table {
    pub(super) title: String,
    pub(super) clip: Clip,
    pub(super) columns: Vec<Column>,
    pub(super) rows: Vec<Row>,
    /// Why there are no rows.
    pub(super) empty: Option<String>,
    /// A last line such as `… 12 more`.
    pub(super) more: Option<String>,
}

impl Table {
    pub(super) fn new(title: impl Into<String>, clip: Clip, columns: Vec<Column>) -> Table {
        Table { title: title.into(), clip, columns, rows: Vec::new(), empty: None, more: None }
    }

    /// The lines at `w` columns, or `None` when an uncuttable label does not fit.
    pub(super) fn render(&self, w: usize, color: bool) -> Option<Vec<Line>> {
        let mut kept: Vec<usize> = (0..self.columns.len()).collect();
        let labels: Vec<String> = self.rows.iter().map(|r| printable(&r.label)).collect();
        // A row without cells is an aside across the table, not a label.
        let is_aside = |r: &Row| r.cells.is_empty() && !self.columns.is_empty();
        let longest = self.rows.iter().zip(&labels).filter(|(r, _)| !is_aside(r)).map(|(_, l)| width(l)).max().unwrap_or(0);
        let headed = self.columns.iter().any(|c| !c.header.is_empty());
        // Columns with headers are further apart, so each header reads with its values.
        let sep = if headed { 2 } else { 1 };
        let (label_w, cell_w) = loop {
            let cell_w: Vec<usize> = kept
                .iter()
                .map(|&i| self.rows.iter().filter(|r| !is_aside(r)).map(|r| width(&r.cells[i])).chain([width(self.columns[i].header), self.columns[i].min_width]).max().unwrap_or(0))
                .collect();
            let numeric: usize = cell_w.iter().map(|c| c + sep).sum();
            let room = w.saturating_sub(1 + numeric);
            let wanted = if headed { longest.max(width(&self.title).saturating_sub(1)) } else { longest };
            let fits = room >= wanted.min(12) && (self.clip != Clip::Never || room >= longest);
            if fits || self.rows.is_empty() {
                break (wanted.min(room), cell_w);
            }
            let droppable = kept.iter().enumerate().filter(|(_, i)| self.columns[**i].drop_order > 0).max_by_key(|(_, i)| self.columns[**i].drop_order);
            match droppable {
                Some((at, _)) => {
                    kept.remove(at);
                }
                None if self.clip == Clip::Never && room < longest => return None,
                None => break (wanted.min(room), cell_w),
            }
        };
        let mut lines = Vec::new();
        let mut title = Line::default();
        if headed && !self.rows.is_empty() {
            title.push(&clip_end(&self.title, (1 + label_w).max(1)), Some(Style::Title), color);
            title.pad_to(1 + label_w);
            for (&i, cw) in kept.iter().zip(&cell_w) {
                let h = self.columns[i].header;
                title.push(&format!("{}{h}", " ".repeat(sep + cw - width(h))), None, color);
            }
        } else {
            title.push(&clip_end(&self.title, w), Some(Style::Title), color);
        }
        lines.push(title);
        if self.rows.is_empty() {
            let reason = self.empty.as_deref().unwrap_or("no data");
            for text in wrap(&format!("({reason})"), w - 1, 1) {
                let mut line = Line::default();
                line.push(&format!(" {text}"), Some(Style::Dim), color);
                lines.push(line);
            }
        }
        for (row, label) in self.rows.iter().zip(&labels) {
            if is_aside(row) {
                let mut line = Line::default();
                line.push(&clip_end(&format!(" {label}"), w), row.style, color);
                lines.push(line);
                continue;
            }
            let label = match self.clip {
                Clip::End => clip_end(label, label_w),
                Clip::Middle => clip_middle(label, label_w),
                Clip::Never => label.clone(),
            };
            let mut line = Line::default();
            line.push(" ", None, color);
            line.push(&label, row.style, color);
            line.pad_to(1 + label_w);
            for (&i, cw) in kept.iter().zip(&cell_w) {
                let cell = &row.cells[i];
                line.push(&format!("{}{cell}", " ".repeat(sep + cw - width(cell))), None, color);
            }
            lines.push(line);
        }
        if let Some(more) = &self.more {
            let mut line = Line::default();
            line.push(&clip_end(&format!(" {more}"), w), Some(Style::Dim), color);
            lines.push(line);
        }
        Some(lines)
    }
}

/// A table of `key: count` pairs from the report (status codes, result types, …).
pub(super) fn counts_rows(map: Option<&Value>) -> Vec<(String, u64)> {
    let mut rows: Vec<(String, u64)> = map
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).filter(|(_, n)| *n > 0).collect())
        .unwrap_or_default();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    rows
}

pub(super) fn share_columns() -> Vec<Column> {
    vec![column("", 0, 0), column("", 1, 0)]
}

pub(super) fn counts_table(title: &str, rows: &[(String, u64)], total: u64) -> Table {
    let mut t = Table::new(title, Clip::End, share_columns());
    t.rows = rows
        .iter()
        .map(|(k, n)| Row { label: k.clone(), cells: vec![thousands(*n), pct(Some(*n as f64 / total.max(1) as f64))], style: None })
        .collect();
    t
}

/// A top list of the report. Entries of schema 4 carry their bytes and 5xx, shown in
/// headed columns (dropped in that order when narrow: share, bytes, 5xx); older entries
/// show the count and its share only. A 5xx share is marked `≈` when the entry's count is
/// a bound (`overcount_max` above 0).
pub(super) fn top_table(title: &str, list: Option<&Value>, total: u64, clip: Clip) -> Table {
    let entries: &[Value] = list.and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let sums = !entries.is_empty() && entries.iter().all(|e| e.get("bytes").is_some_and(Value::is_u64));
    let columns = if sums {
        vec![column("requests", 0, 0), column("share", 3, 0), column("bytes", 2, 0), column("5xx", 1, 0)]
    } else {
        share_columns()
    };
    let mut t = Table::new(title, clip, columns);
    t.rows = entries
        .iter()
        .map(|e| {
            let mut key = e.get("key").and_then(Value::as_str).unwrap_or("").to_string();
            if let Some(city) = e.get("city").and_then(Value::as_str) {
                key = format!("{key} {city}");
            }
            let n = e.get("count").and_then(Value::as_u64).unwrap_or(0);
            let mut cells = vec![thousands(n), format!("{:.1}%", 100.0 * n as f64 / total.max(1) as f64)];
            if sums {
                let fives = e.get("status_5xx").and_then(Value::as_u64).unwrap_or(0);
                let bound = e.get("overcount_max").and_then(Value::as_u64).unwrap_or(0) > 0;
                cells.push(bytes(e.get("bytes").and_then(Value::as_u64).unwrap_or(0)));
                let share = 100.0 * fives as f64 / n.max(1) as f64;
                cells.push(format!("{}{share:.1}%", if bound { "≈" } else { "" }));
            }
            Row { label: key, cells, style: None }
        })
        .collect();
    t
}
