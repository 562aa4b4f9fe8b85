//! A failed wait as JSON, for `install|upgrade -o json` in CI: the error's first line and, for each
//! object not ready, the same report the text error shows (pods, containers, events, log tails).

use serde_json::{json, Value};

use crate::apply::{Error as ApplyError, WaitError};

/// `{"error": ..., "objects": [...]}` when a wait is somewhere in `err`'s chain, else `None`.
pub fn failure_json(err: &anyhow::Error) -> Option<Value> {
    let wait = err.chain().find_map(|e| {
        e.downcast_ref::<WaitError>()
            .or_else(|| match e.downcast_ref::<ApplyError>() {
                Some(ApplyError::Wait(w)) => Some(w),
                _ => None,
            })
    })?;
    let diagnosis = wait.diagnosis()?;
    let first = format!("{err:#}");
    Some(json!({
        "error": first.lines().next().unwrap_or(""),
        "objects": diagnosis.objects,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{ContainerReport, Diagnosis, ObjectReport, PodReport};
    use std::time::Duration;

    #[test]
    fn wait_failures_anywhere_in_the_chain() {
        let diagnosis = Diagnosis {
            objects: vec![ObjectReport {
                object: "Deployment ns/web".into(),
                reason: "0 of 1 replicas ready".into(),
                pods: vec![PodReport {
                    name: "web-1".into(),
                    phase: "Running".into(),
                    problem: None,
                    containers: vec![ContainerReport {
                        name: "app".into(),
                        state: "waiting: CrashLoopBackOff".into(),
                        ready: false,
                        restarts: 3,
                        last_termination: Some("Error (exit code 1)".into()),
                        log: None,
                    }],
                    warnings: vec![],
                }],
                warnings: vec![],
            }],
        };
        let timeout = WaitError::Timeout {
            timeout: Duration::from_secs(5),
            total: 1,
            pending: vec![("Deployment ns/web".into(), "0 of 1 replicas ready".into())],
            diagnosis: Box::new(diagnosis),
        };
        let err = anyhow::Error::new(timeout).context("upgrade failed and was rolled back to revision 1");
        let got = failure_json(&err).expect("a wait failure");
        assert_eq!(
            got["error"],
            "upgrade failed and was rolled back to revision 1: timed out after 5s waiting for 1 of 1 objects \
             to be ready: Deployment ns/web (0 of 1 replicas ready)"
        );
        assert_eq!(got["objects"][0]["pods"][0]["containers"][0]["restarts"], 3);
        assert_eq!(
            got["objects"][0]["pods"][0]["containers"][0]["last_termination"],
            "Error (exit code 1)"
        );
        assert!(failure_json(&anyhow::anyhow!("rendering failed")).is_none());
    }
}
