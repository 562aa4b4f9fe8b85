//! Progress of apply, wait and hooks on stderr. When stderr is not a terminal (CI logs, pipes):
//! plain lines, one per event (a waiting object's line when its reason or its pods' states
//! change). On a terminal: the same lines for what happened, and below them a live table of
//! everything still being waited for (object, why it is not ready, its pods by state), redrawn
//! in place as watch events arrive and cleared row by row as objects become ready.

use std::collections::BTreeMap;
use std::{io::Write, sync::Mutex};

use crate::apply::{Event, Progress};

/// Most rows of the live table; the rest are counted in one last row.
const MAX_ROWS: usize = 15;

/// Writes progress events to stderr.
pub struct StderrProgress {
    live: bool,
    /// Width rows are cut to, so none wraps (which would break the redraw's line count).
    width: usize,
    table: Mutex<Table>,
}

/// The live table: one row per object still waited for, and how many lines are on screen.
#[derive(Default)]
struct Table {
    rows: BTreeMap<String, String>,
    drawn: usize,
}

impl StderrProgress {
    /// `live`: stderr is a terminal, so the table of objects waited for is redrawn in place.
    pub fn new(live: bool) -> Self {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
            .filter(|w| *w > 20)
            .unwrap_or(100);
        StderrProgress {
            live,
            width,
            table: Mutex::new(Table::default()),
        }
    }
}

/// What is shown for an object not ready: `Deployment ns/web  1 of 2 replicas updated  [pods: 1
/// CrashLoopBackOff, 1 Ready]`.
pub fn waiting_row(object: &str, reason: &str, pods: &str) -> String {
    if pods.is_empty() {
        format!("{object}  {reason}")
    } else {
        format!("{object}  {reason}  [pods: {pods}]")
    }
}

/// `text` cut to `width` characters, with `…` when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The table's lines, at most [`MAX_ROWS`].
fn table_lines(rows: &BTreeMap<String, String>, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = rows
        .values()
        .take(MAX_ROWS)
        .map(|r| fit(&format!("  waiting: {r}"), width))
        .collect();
    if rows.len() > MAX_ROWS {
        lines.push(format!("  … and {} more", rows.len() - MAX_ROWS));
    }
    lines
}

/// One line for an event, or `None` for events only the live status shows.
pub fn line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Wave {
            kind,
            objects,
            deleting: false,
        } => format!("applying {objects} {kind}"),
        Event::Wave {
            kind,
            objects,
            deleting: true,
        } => format!("deleting {objects} {kind}"),
        Event::Object { id, outcome } => format!("  {} {}: {outcome:?}", id.kind, id.name).to_lowercase(),
        Event::Recreating { id, reason } => format!("  recreating {} {}: {reason}", id.kind, id.name),
        Event::Dependencies { objects } => format!("waiting for {objects} objects others depend on"),
        Event::Waiting { .. } => return None,
        Event::Ready { object, after } => format!("ready: {object} ({:.1}s)", after.as_secs_f64()),
        Event::HookStarted { event, hook } => format!("hook {event}: {hook} started"),
        Event::HookFinished { event, hook, phase } => {
            format!("hook {event}: {hook} {phase:?}").to_lowercase()
        }
        Event::HookDeleted { hook, policy } => format!("hook {hook} deleted ({policy})"),
        Event::Warning {
            object,
            reason,
            message,
            count,
        } => match count {
            1 => format!("warning: {object}: {reason}: {message}"),
            n => format!("warning: {object}: {reason} (x{n}): {message}"),
        },
    })
}

impl Progress for StderrProgress {
    fn event(&self, event: &Event) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        if self.live && table.drawn > 0 {
            // Up to the table's first line, and clear from there down.
            let _ = write!(err, "\x1b[{}A\r\x1b[J", table.drawn);
            table.drawn = 0;
        }
        if let Some(l) = line(event) {
            let _ = writeln!(err, "{l}");
        }
        match event {
            Event::Waiting { object, reason, pods } => {
                let row = waiting_row(object, reason, pods);
                if !self.live {
                    let _ = writeln!(err, "waiting: {row}");
                }
                table.rows.insert(object.clone(), row);
            }
            Event::Ready { object, .. } => {
                table.rows.remove(object);
            }
            _ => {}
        }
        if self.live {
            let lines = table_lines(&table.rows, self.width);
            for l in &lines {
                let _ = writeln!(err, "{l}");
            }
            table.drawn = lines.len();
        }
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_lines() {
        let cases = [
            (
                Event::Wave {
                    kind: "Deployment".into(),
                    objects: 3,
                    deleting: false,
                },
                Some("applying 3 Deployment"),
            ),
            (
                Event::Wave {
                    kind: "Service".into(),
                    objects: 1,
                    deleting: true,
                },
                Some("deleting 1 Service"),
            ),
            (
                Event::Waiting {
                    object: "Deployment ns/web".into(),
                    reason: "0/2 ready".into(),
                    pods: String::new(),
                },
                None,
            ),
        ];
        for (event, want) in cases {
            assert_eq!(line(&event).as_deref(), want, "{event:?}");
        }
    }

    #[test]
    fn live_table_rows() {
        let mut rows = BTreeMap::new();
        for i in 0..MAX_ROWS + 2 {
            rows.insert(
                format!("ConfigMap ns/c{i:02}"),
                waiting_row(&format!("ConfigMap ns/c{i:02}"), "not found", ""),
            );
        }
        rows.insert(
            "Deployment ns/web".into(),
            waiting_row(
                "Deployment ns/web",
                "1 of 2 replicas updated",
                "1 CrashLoopBackOff, 1 Ready",
            ),
        );
        let lines = table_lines(&rows, 60);
        assert_eq!(lines.len(), MAX_ROWS + 1, "{lines:?}");
        assert_eq!(lines[0], "  waiting: ConfigMap ns/c00  not found");
        assert_eq!(lines[MAX_ROWS], "  … and 3 more");
        let web = table_lines(
            &BTreeMap::from([("a".to_string(), rows["Deployment ns/web"].clone())]),
            60,
        );
        // Cut to the width, so no row wraps and the redraw moves up exactly one line per row.
        assert_eq!(
            web,
            ["  waiting: Deployment ns/web  1 of 2 replicas updated  [pod…"]
        );
        assert_eq!(web[0].chars().count(), 60);
    }
}
