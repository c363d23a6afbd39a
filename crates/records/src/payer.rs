//! A payer's report on its own workers (SPEC §X2, role platform: "its own workers' activity
//! reports and the contributions it paid").
//!
//! A platform sees only the rows it paid (its credit code as the payer), never another
//! payer's rows of the same workers, and each worker only by person key and masked resident
//! ID: no name, no registry facts, no months paid by anyone else. Everything shown is the
//! platform's own payments, so the report is not written to the workers' access logs.

use crate::error::{Error, Result};
use crate::keys::PersonKey;
use crate::records::Records;
use crate::store::{PayerWorkerRow, Store};

/// One worker as the payer sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerWorker {
    pub key: PersonKey,
    /// The resident ID masked (`3412**********0024`).
    pub id_masked: String,
    /// What this payer paid for them.
    pub paid: PayerWorkerRow,
}

impl<S: Store> Records<S> {
    /// A page of the workers the payer `code` paid for, by person key after `after`, at most
    /// `limit`, each with the masked ID.
    pub fn payer_workers(
        &mut self,
        code: &str,
        after: Option<&PersonKey>,
        limit: u32,
    ) -> Result<Vec<PayerWorker>> {
        let rows = self
            .store()
            .payer_workers(code, after.map(|k| &k.0), limit)?;
        let mut out = Vec::with_capacity(rows.len());
        for paid in rows {
            let key = PersonKey(paid.person);
            // Contributions are accepted only for registered persons: a row without one is
            // damage the audit names.
            let row = self.store().person(&key.0)?.ok_or_else(|| {
                Error::Corrupt("a contribution's person is not in the registry".into())
            })?;
            let (id, _) = self.unseal(&key, &row)?;
            out.push(PayerWorker {
                key,
                id_masked: id.masked(),
                paid,
            });
        }
        Ok(out)
    }
}
