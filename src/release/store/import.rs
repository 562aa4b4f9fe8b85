//! [`Store::import`]: a release's whole history, written by another tool (Helm), becomes our
//! records, as it is: same revisions, statuses, descriptions and dates.

use super::{driver_err, validate_name, DriverError, Error, Operation, Release, Result, Store};

impl Store {
    /// Writes `history` (one release, oldest first, revisions unique) as our records, under the
    /// release's lease, if every record of ours is older than its first revision (none at all on
    /// a first take-over; our whole history when Helm wrote newer revisions after `export-helm`).
    /// Nothing is pruned: the history arrives whole, and `--history-max` applies from the next
    /// write on.
    ///
    /// A failure part-way deletes what this call created, so a retry starts from nothing rather
    /// than finding half a history (which would read as ours and never be imported again).
    pub async fn import(&self, history: &[Release]) -> Result<()> {
        let Some(first) = history.first() else {
            return Ok(());
        };
        let name = first.name.clone();
        validate_name(&name).map_err(Error::InvalidName)?;
        if let Some(r) = history
            .windows(2)
            .find(|w| w[1].name != name || w[1].revision <= w[0].revision)
        {
            return Err(Error::InvalidName(format!(
                "internal: imported history of {name:?} is not one release in revision order (at revision {})",
                r[1].revision
            )));
        }
        let key = self.write_key().await?;
        let held = self.acquire(&name, Operation::Upgrade).await?;
        let out = async {
            let ours = self.history_without_bodies(&name).await?;
            if ours.last().is_some_and(|s| s.meta.revision >= first.revision) {
                return Err(Error::RevisionExists {
                    name: name.clone(),
                    revision: first.revision,
                });
            }
            let mut created = Vec::new();
            for rel in history {
                let rel = Release {
                    namespace: self.namespace().to_string(),
                    ..rel.clone()
                };
                match self.commit(None, &rel, &key).await {
                    Ok(s) => created.push(s),
                    Err(e) => {
                        for s in &created {
                            match self.driver.delete(&name, s.meta.revision).await {
                                Ok(()) | Err(DriverError::NotFound(_)) => {}
                                Err(d) => tracing::warn!("{}", driver_err("deleting")(d)),
                            }
                        }
                        return Err(e);
                    }
                }
            }
            Ok(())
        }
        .await;
        self.finish(out, held).await
    }
}
