//! pipewise-demo
