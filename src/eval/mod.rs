//! Measuring kuzet: detection against ground truth ([`score`]) and throughput on the
//! machine at hand ([`bench`]).

pub mod bench;
pub mod score;
