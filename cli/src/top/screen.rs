//! `cflog top` on a terminal: the dashboard (ratatui over crossterm) in the alternate
//! screen, the keyboard read on its own thread (`q`, Esc, Ctrl-C quit; a resize redraws).
//! The terminal is restored when the [`Screen`] is dropped (a normal exit or an error) and
//! by a panic hook (a panic anywhere), whichever comes first; restoring twice is harmless.

use std::io::{Stdout, Write};
use std::sync::Once;
use std::sync::mpsc::SyncSender;
use std::time::Instant;

use anyhow::{Context, Result};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Sparkline, Table};

use super::feed::Feed;
use super::plain::{per_second, share};
use super::stats::Snapshot;
use super::{Event, Status};
use crate::dashboard::text::{bytes, duration, ms, pct, thousands, time_utc_to};

/// The terminal in dashboard mode.
pub struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Screen")
    }
}

/// Leaves raw mode and the alternate screen and shows the cursor.
pub fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(std::io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Restore first, so the message is printed on the normal screen.
            restore();
            previous(info);
        }));
    });
}

impl Screen {
    /// Enters raw mode and the alternate screen, and starts the keyboard thread, which
    /// sends [`Event::Quit`] and [`Event::Redraw`] to `tx`.
    pub fn enter(tx: SyncSender<Event>) -> Result<Screen> {
        install_panic_hook();
        terminal::enable_raw_mode().context("cannot put the terminal in raw mode")?;
        // From here on, dropping `screen` restores the terminal, whatever fails next.
        let screen = Screen { terminal: Terminal::new(CrosstermBackend::new(std::io::stdout()))? };
        execute!(std::io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)?;
        std::thread::Builder::new().name("cflog-keys".into()).spawn(move || keyboard(tx))?;
        Ok(screen)
    }

    /// Draws the dashboard.
    pub fn draw(&mut self, feed: &mut Feed, status: &Status, _last: bool, top_n: usize) -> Result<()> {
        let s = Snapshot::take(feed, Instant::now(), top_n);
        self.terminal.draw(|frame| dashboard(frame, &s, status))?;
        Ok(())
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
        let _ = std::io::stdout().flush();
    }
}

fn keyboard(tx: SyncSender<Event>) {
    loop {
        let event = match event::read() {
            Ok(e) => e,
            Err(_) => return,
        };
        let message = match event {
            TermEvent::Key(k) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Char('q' | 'Q') | KeyCode::Esc => Some(Event::Quit),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Some(Event::Quit),
                _ => None,
            },
            TermEvent::Resize(..) => Some(Event::Redraw),
            _ => None,
        };
        if let Some(m) = message
            && tx.send(m).is_err()
        {
            return;
        }
    }
}

fn title<'a>(text: impl Into<std::borrow::Cow<'a, str>>) -> Block<'a> {
    Block::default().borders(Borders::ALL).title(Span::styled(text, Style::default().add_modifier(Modifier::BOLD)))
}

fn dashboard(frame: &mut ratatui::Frame<'_>, s: &Snapshot, status: &Status) {
    let area = frame.area();
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Length(4),
            Constraint::Length(5),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .split(area);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let head = Line::from(vec![
        Span::styled(" cflog top ", bold.fg(Color::Black).bg(Color::Cyan)),
        Span::raw(format!(
            " {} · window {} ({} – {} UTC) · q quits",
            status.source,
            duration(s.span_ms),
            &time_utc_to(s.start_ms, 19)[11..],
            &time_utc_to(s.end_ms, 19)[11..],
        )),
    ]);
    frame.render_widget(Paragraph::new(head), rows[0]);

    let red = |v: Option<f64>, limit: f64| if v.is_some_and(|r| r > limit) { Style::default().fg(Color::Red) } else { Style::default() };
    let kpis = vec![
        Line::from(vec![
            Span::styled(format!("{} ", per_second(s.rate)), bold),
            Span::raw(format!("(last {}: {})  ", duration(s.bucket_ms), per_second(s.rate_now))),
            Span::raw(format!("{} requests  ", thousands(s.records))),
            Span::styled(format!("4xx {}  ", pct(s.error_4xx)), red(s.error_4xx, 0.05)),
            Span::styled(format!("5xx {}  ", pct(s.error_5xx)), red(s.error_5xx, 0.01)),
            Span::raw(format!("hit ratio {}", pct(s.hit_ratio))),
        ]),
        Line::from(format!(
            "p50 {}  p95 {}  p99 {}  ·  {} sent  ·  {} viewers",
            ms(s.latency_ms[0]),
            ms(s.latency_ms[1]),
            ms(s.latency_ms[2]),
            bytes(s.bytes_sent),
            thousands(s.viewers)
        )),
    ];
    frame.render_widget(Paragraph::new(kpis).block(title("Traffic in the window")), rows[1]);

    // One bucket over as many columns as fill the width; the newest buckets when even one
    // column each is too many.
    let inner = rows[2].width.saturating_sub(2) as usize;
    let series = &s.series[s.series.len().saturating_sub(inner)..];
    let stretch = (inner / series.len().max(1)).max(1);
    let bars: Vec<u64> = series.iter().flat_map(|&n| std::iter::repeat_n(n, stretch)).collect();
    let spark = Sparkline::default()
        .block(title(format!("Requests per {}", duration(s.bucket_ms))))
        .data(&bars)
        .style(Style::default().fg(Color::Green));
    frame.render_widget(spark, rows[2]);

    lists(frame, rows[3], s);

    let t = s.totals;
    let mut foot = format!(
        " since start: {} records, {} bad lines, {} filtered, {} older than the window",
        thousands(t.records),
        thousands(t.bad_lines),
        thousands(t.filtered),
        thousands(s.too_old)
    );
    if let Some((at, note)) = &status.note {
        foot.push_str(&format!(" · {} {note}", &time_utc_to(*at, 19)[11..]));
    }
    frame.render_widget(Paragraph::new(foot).style(Style::default().add_modifier(Modifier::DIM)), rows[4]);
}

/// The four lists, two by two (one above the other on narrow terminals).
fn lists(frame: &mut ratatui::Frame<'_>, area: Rect, s: &Snapshot) {
    let halves = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Percentage(50), Constraint::Percentage(50)])
        .split(area);
    let cols = |r: Rect| {
        let dir = if area.width >= 100 { Direction::Horizontal } else { Direction::Vertical };
        Layout::default().direction(dir).constraints([Constraint::Percentage(50), Constraint::Percentage(50)]).split(r)
    };
    let (top, bottom) = (cols(halves[0]), cols(halves[1]));
    frame.render_widget(top_table("Top URIs", &s.uris, s.records), top[0]);
    frame.render_widget(top_table("Top clients", &s.clients, s.records), top[1]);
    frame.render_widget(top_table("Top edge locations", &s.edges, s.records), bottom[0]);
    frame.render_widget(errors(s), bottom[1]);
}

fn top_table<'a>(name: &'a str, list: &'a [(String, u64)], total: u64) -> Table<'a> {
    let rows = list.iter().map(|(key, n)| Row::new(vec![key.clone(), thousands(*n), share(*n, total)]));
    Table::new(rows, [Constraint::Min(8), Constraint::Length(10), Constraint::Length(6)])
        .header(Row::new(vec!["", "requests", "share"]).style(Style::default().add_modifier(Modifier::DIM)))
        .block(title(name))
}

fn errors(s: &Snapshot) -> Paragraph<'_> {
    let mut lines = Vec::new();
    if s.error_codes.is_empty() {
        lines.push(Line::from("no error responses in the window"));
    } else {
        let codes: Vec<String> = s.error_codes.iter().map(|(c, n)| format!("{c} ×{}", thousands(*n))).collect();
        lines.push(Line::styled(codes.join("  "), Style::default().fg(Color::Red)));
    }
    for e in s.recent_errors.iter().rev() {
        let at = e.ts_ms.map_or_else(|| "-".into(), |t| time_utc_to(t, 19)[11..].to_string());
        lines.push(Line::from(format!("{at} {} {:<8} {}", e.status, e.edge, e.uri)));
    }
    if let Some(bad) = &s.last_bad {
        lines.push(Line::styled(format!("bad line: {bad}"), Style::default().fg(Color::Yellow)));
    }
    Paragraph::new(lines).block(title("Errors"))
}
