//! Integration tests: the real `kuzet` binary, driven from outside.

mod console;
