//! The database as the edges hold it: a [`Db`] opens transactions, and a [`Tx`] is passed to this
//! crate's operations. Neither hands out the storage contract's row operations, so the compiler,
//! not discipline, keeps every edge on the validated, authorised and audited path.

use std::sync::Arc;

use pipewise_store::Store;

use crate::Result;

/// A database engine behind the application layer; cheap to clone.
#[derive(Clone)]
pub struct Db {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Db").field("engine", &self.store.engine()).finish()
    }
}

impl Db {
    /// Wraps an engine (the binary and test support pick one).
    pub fn new(store: Arc<dyn Store>) -> Db {
        Db { store }
    }

    /// The engine, for the parts below the application layer that read it directly (the
    /// analytics projection follows the history log).
    /// `sqlite` or `postgres`.
    pub fn engine(&self) -> &'static str {
        self.store.engine()
    }

    /// The connection pool's use, for an engine that pools connections.
    pub fn pool_use(&self) -> Option<pipewise_store::PoolUse> {
        self.store.pool_use()
    }

    /// Applies the migrations not yet applied; returns the names of those it applied.
    pub fn migrate(&self) -> Result<Vec<String>> {
        self.store.migrate()
    }

    /// A read-write transaction; dropping it without [`Tx::commit`] rolls back.
    pub fn write(&self) -> Result<Tx<'_>> {
        Ok(Tx(self.store.write()?))
    }

    /// A read-only transaction over one consistent snapshot.
    pub fn read(&self) -> Result<Tx<'_>> {
        Ok(Tx(self.store.read()?))
    }

    /// A registry of each organisation's analytics projection, loaded on first use and refreshed
    /// from the history log before each read.
    pub fn insights(&self) -> crate::insights::InsightsRegistry {
        crate::insights::InsightsRegistry::new(self.store.clone())
    }

    /// [`Db::insights`], with a background follower per organisation every `interval`.
    pub fn following_insights(&self, interval: std::time::Duration) -> crate::insights::InsightsRegistry {
        crate::insights::InsightsRegistry::following(self.store.clone(), interval)
    }

    /// One organisation's projection, loaded now with `clock` (tests and tools).
    pub fn load_insights(&self, org: pipewise_core::OrgId, clock: crate::insights::Clock) -> Result<crate::insights::Insights> {
        crate::insights::Insights::load_with_clock(self.store.clone(), org, clock)
    }

    /// Runs `work` in one write transaction and commits it; on error nothing is kept.
    pub fn transact<T>(&self, work: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let mut tx = self.write()?;
        let value = work(&mut tx)?;
        tx.commit()?;
        Ok(value)
    }
}

/// One open transaction. Only this crate's operations use it.
pub struct Tx<'s>(pub(crate) Box<dyn pipewise_store::Tx + 's>);

impl<'s> Tx<'s> {
    /// Wraps a transaction an engine opened (for test support, which holds engines).
    pub fn new(inner: Box<dyn pipewise_store::Tx + 's>) -> Tx<'s> {
        Tx(inner)
    }

    pub fn commit(self) -> Result<()> {
        self.0.commit()
    }
}

/// Test support checks rows beside operations in one transaction.
#[cfg(feature = "test-support")]
impl<'s> std::ops::Deref for Tx<'s> {
    type Target = dyn pipewise_store::Tx + 's;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

#[cfg(feature = "test-support")]
impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut *self.0
    }
}
