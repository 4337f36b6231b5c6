//! Integration tests: the real binary and the real pipeline on real files.

mod capture;
mod cli;
mod e2e;
mod support;
