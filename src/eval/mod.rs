//! Measuring kuzet: detection against ground truth ([`score`]), throughput on the
//! machine at hand ([`mod@bench`]), and training exercises that score the operator
//! ([`exercise`]).

pub mod bench;
pub mod exercise;
pub mod score;
