//! pipewise-web
