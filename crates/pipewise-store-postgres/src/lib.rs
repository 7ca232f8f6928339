//! pipewise-store-postgres
