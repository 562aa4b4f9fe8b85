//! Progress of apply, wait and hooks on stderr: plain lines when stderr is not a terminal (CI logs),
//! and on a terminal the same lines plus one live status line for what is still being waited on,
//! rewritten in place.

use std::{io::Write, sync::Mutex};

use crate::apply::{Event, Progress};

/// Writes progress events to stderr.
pub struct StderrProgress {
    live: bool,
    /// Whether the last thing written was the live status line (to be cleared first).
    status_shown: Mutex<bool>,
}

impl StderrProgress {
    /// `live`: stderr is a terminal, so the waiting status may be redrawn in place.
    pub fn new(live: bool) -> Self {
        StderrProgress {
            live,
            status_shown: Mutex::new(false),
        }
    }
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
        let mut shown = self.status_shown.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        if self.live && *shown {
            let _ = write!(err, "\r\x1b[K");
            *shown = false;
        }
        match (line(event), event) {
            (Some(l), _) => {
                let _ = writeln!(err, "{l}");
            }
            (None, Event::Waiting { object, reason }) if self.live => {
                let _ = write!(err, "waiting: {object} ({reason})");
                *shown = true;
            }
            (None, Event::Waiting { object, reason }) => {
                let _ = writeln!(err, "waiting: {object} ({reason})");
            }
            _ => {}
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
                },
                None,
            ),
        ];
        for (event, want) in cases {
            assert_eq!(line(&event).as_deref(), want, "{event:?}");
        }
    }
}
