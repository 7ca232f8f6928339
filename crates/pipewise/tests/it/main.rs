//! End-to-end tests of the `pipewise` binary as a user runs it: real processes, real files,
//! real sockets.

mod api_fuzz;
mod backup;
mod cli;
mod crash;
mod digest;
mod imap;
mod webhooks;

use std::path::Path;
use std::process::Command;

/// A `pipewise` command with a clean environment for the test.
pub fn pipewise() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pipewise"));
    command.env_remove("PIPEWISE_DB").env_remove("PIPEWISE_ADDR").env_remove("PIPEWISE_TRUSTED_PROXIES").env("NO_COLOR", "1");
    command
}

/// A migrated SQLite file with one organisation (see `fixtures::test_org`).
pub fn database_with_org(path: &Path, name: &str) -> pipewise_test_support::fixtures::TestOrg {
    use pipewise_store::Store;
    let store = pipewise_store_sqlite::SqliteStore::open(path).unwrap();
    store.migrate().unwrap();
    pipewise_test_support::fixtures::test_org(&store, name)
}
