//! The connection pool: a few `postgres::Client`s opened on demand, each with its own cache of
//! prepared statements, handed to one transaction at a time and taken back when it ends.
//!
//! The pool never holds more than [`MAX_CONNECTIONS`] open connections. A caller that finds
//! them all busy waits up to [`WAIT_FOR_CONNECTION`] for one to come back.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pipewise_store::{Result, StoreError};
use postgres::{Client, Config, NoTls, Statement};

/// The most connections one store keeps open at once.
pub(crate) const MAX_CONNECTIONS: usize = 8;

/// How long a caller waits for a busy pool before giving up.
pub(crate) const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(30);

/// One open connection and the statements already prepared on it.
pub(crate) struct Connection {
    pub(crate) client: Client,
    statements: HashMap<String, Statement>,
}

impl Connection {
    /// The prepared statement for `sql`, preparing it on first use on this connection.
    pub(crate) fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).map_err(crate::error::from_postgres)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

struct PoolState {
    idle: Vec<Connection>,
    /// Idle plus lent-out connections.
    open: usize,
}

pub(crate) struct Pool {
    config: Config,
    state: Mutex<PoolState>,
    returned: Condvar,
}

impl Pool {
    pub(crate) fn new(config: Config) -> Pool {
        Pool { config, state: Mutex::new(PoolState { idle: Vec::new(), open: 0 }), returned: Condvar::new() }
    }

    /// Open and idle connections now, and the limit.
    pub(crate) fn use_now(&self) -> pipewise_store::PoolUse {
        let state = self.lock();
        pipewise_store::PoolUse { open: state.open, idle: state.idle.len(), max: MAX_CONNECTIONS }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// An idle connection, or a new one while fewer than [`MAX_CONNECTIONS`] are open.
    pub(crate) fn take(&self) -> Result<Connection> {
        let deadline = Instant::now() + WAIT_FOR_CONNECTION;
        let mut state = self.lock();
        loop {
            if let Some(connection) = state.idle.pop() {
                if !connection.client.is_closed() {
                    return Ok(connection);
                }
                state.open -= 1;
                continue;
            }
            if state.open < MAX_CONNECTIONS {
                state.open += 1;
                drop(state);
                return self.open_connection().inspect_err(|_| self.forget_one());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::database(PoolExhausted));
            }
            state = self.returned.wait_timeout(state, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Takes back a connection whose transaction has ended cleanly.
    pub(crate) fn give_back(&self, connection: Connection) {
        let mut state = self.lock();
        if connection.client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(connection);
        }
        drop(state);
        self.returned.notify_one();
    }

    /// Records that a lent-out connection was closed instead of given back.
    pub(crate) fn forget_one(&self) {
        let mut state = self.lock();
        state.open = state.open.saturating_sub(1);
        drop(state);
        self.returned.notify_one();
    }

    fn open_connection(&self) -> Result<Connection> {
        let client = self.config.connect(NoTls).map_err(crate::error::from_postgres)?;
        Ok(Connection { client, statements: HashMap::new() })
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // The state is two plain fields that no panic can leave half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every connection stayed busy for [`WAIT_FOR_CONNECTION`].
#[derive(Debug)]
struct PoolExhausted;

impl fmt::Display for PoolExhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "all {MAX_CONNECTIONS} PostgreSQL connections stayed busy for {} seconds", WAIT_FOR_CONNECTION.as_secs())
    }
}

impl std::error::Error for PoolExhausted {}
