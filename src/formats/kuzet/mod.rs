//! kuzet's HDF5 capture format (v1): the [`schema`] (attribute names, the annotation
//! table), the [`reader`] (plain or SWMR, complex64 or int8/int16 with a scale) and the
//! crash-safe [`writer`]. The layout is described in [`crate::formats`].

pub mod reader;
pub mod schema;
pub mod writer;

pub use reader::CaptureReader;
pub use writer::{CaptureWriter, WriterOptions};
