//! One integration-test binary (STYLE.md): each file is a module.

mod formats;
