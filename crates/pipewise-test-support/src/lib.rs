//! pipewise-test-support
