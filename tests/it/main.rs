//! End-to-end tests: the real `kuzet` binary, driven through its command line.

mod live;
