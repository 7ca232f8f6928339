//! pipewise-store-sqlite
