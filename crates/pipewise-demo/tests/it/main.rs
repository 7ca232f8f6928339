//! Integration tests: the demo generated into real SQLite files.

mod sqlite;
