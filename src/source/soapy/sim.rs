//! The simulated SoapySDR device (`driver=kuzetsim`, sim/kuzetsim.cpp), compiled into the
//! binary by build.rs. A registry entry in a static library is never constructed unless
//! something calls into its object file, so kuzet registers it explicitly before the first
//! enumerate or make. This is the crate's only `unsafe`: one FFI call with no arguments.
#![allow(unsafe_code)]

use std::os::raw::c_int;
use std::sync::OnceLock;

extern "C" {
    /// Defined in sim/kuzetsim.cpp: adds "kuzetsim" to libSoapySDR's registry; idempotent.
    fn kuzet_sim_register() -> c_int;
}

/// Registers `driver=kuzetsim` with libSoapySDR (once per process); false when
/// libSoapySDR rejected it (registry ABI mismatch).
pub fn register() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // SAFETY: the function takes no arguments and returns a plain int; it only builds a
        // function-local static (thread-safe in C++11) and calls libSoapySDR's registry, which
        // has no preconditions. OnceLock makes it run once anyway.
        unsafe { kuzet_sim_register() == 0 }
    })
}
