//! ITU-R SM.2117 attribute handling: any set of attribute values (numbers of any value,
//! text, other types, duplicates, missing required ones) must give metadata or an error,
//! and accepted metadata must be usable (positive finite rate, finite frequency).
//!
//! Input layout: records of [name selector (1 byte), kind (1 byte), 8 bytes of payload]:
//! kind 0 = number (the payload as f64 bits), 1 = text (the payload as a decimal or as
//! lossy UTF-8), 2 = another HDF5 type.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kuzet_fuzz::hdf5_attrs(data));
