//! Measuring kuzet: detection against ground truth ([`score`]) and throughput on the
//! machine at hand ([`mod@bench`]).

pub mod bench;
pub mod score;
