//! Hyperslab reads and writes straight into caller buffers.
//!
//! The high-level `hdf5` API allocates a fresh array for every slice it reads; the file
//! source reads tens of thousands of samples per block into pooled buffers, so it goes to
//! `H5Dread`/`H5Dwrite` directly. Every call holds the `hdf5` crate's library lock, because
//! Debian's libhdf5 is built without thread safety and the recorder may be writing on
//! another thread.
#![allow(unsafe_code)]

use hdf5::{Dataset, Datatype};
use hdf5_sys::h5d::{H5Dget_chunk_info_by_coord, H5Dget_space, H5Dread, H5Dset_extent, H5Dwrite};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5Sclose, H5Screate_simple, H5Sselect_hyperslab, H5S_SELECT_SET};

/// Closes a dataspace id when dropped, so early returns cannot leak it.
struct Space(hid_t);

impl Drop for Space {
    fn drop(&mut self) {
        // SAFETY: the id came from H5Dget_space/H5Screate_simple and is closed exactly once.
        unsafe {
            H5Sclose(self.0);
        }
    }
}

fn check(ret: i32, what: &str) -> hdf5::Result<()> {
    if ret < 0 {
        Err(hdf5::Error::from(format!("{what} failed")))
    } else {
        Ok(())
    }
}

/// Selects `count` rows from row `start` of a rank-1 or rank-2 dataset (all columns) and
/// returns (file space, memory space).
fn select(ds: &Dataset, start: u64, count: u64, cols: Option<u64>) -> hdf5::Result<(Space, Space)> {
    // SAFETY: plain C calls on ids owned by `ds`; the arrays outlive the calls.
    unsafe {
        let fspace = H5Dget_space(ds.id());
        if fspace < 0 {
            return Err("H5Dget_space failed".into());
        }
        let fspace = Space(fspace);
        let (rank, start_v, count_v) = match cols {
            None => (1, [start, 0], [count, 0]),
            Some(c) => (2, [start, 0], [count, c]),
        };
        check(
            H5Sselect_hyperslab(
                fspace.0,
                H5S_SELECT_SET,
                start_v.as_ptr(),
                std::ptr::null(),
                count_v.as_ptr(),
                std::ptr::null(),
            ),
            "H5Sselect_hyperslab",
        )?;
        let mspace = H5Screate_simple(rank, count_v.as_ptr(), std::ptr::null());
        if mspace < 0 {
            return Err("H5Screate_simple failed".into());
        }
        Ok((fspace, Space(mspace)))
    }
}

/// Reads `out.len() / cols` rows starting at `start` into `out`, converting from the
/// file's type to `mem_type`, which must describe exactly one `T`.
///
/// # Errors
/// The HDF5 library's error, e.g. a selection beyond the dataset's extent or a damaged chunk.
pub(crate) fn read_rows<T: Copy>(
    ds: &Dataset,
    mem_type: &Datatype,
    start: u64,
    cols: Option<u64>,
    out: &mut [T],
) -> hdf5::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let rows = (out.len() as u64) / cols.unwrap_or(1);
    debug_assert_eq!(mem_type.size(), std::mem::size_of::<T>());
    hdf5::sync::sync(|| {
        let (fspace, mspace) = select(ds, start, rows, cols)?;
        // SAFETY: `out` holds rows*cols elements of T, which is what mspace describes, and
        // mem_type has T's size; HDF5 writes only within that buffer.
        let ret = unsafe {
            H5Dread(
                ds.id(),
                mem_type.id(),
                mspace.0,
                fspace.0,
                H5P_DEFAULT,
                out.as_mut_ptr().cast(),
            )
        };
        check(ret, "H5Dread")
    })
}

/// File offset of the stored chunk of a chunked dataset whose first row is `row` (all
/// other coordinates 0), checked to hold at least `bytes` unfiltered bytes. The caller
/// reads the chunk with the operating system's positioned reads, straight into its own
/// buffer: no HDF5 selection, conversion or chunk cache, and no intermediate copy.
///
/// The address is relative to the HDF5 base address, which is the file's start unless
/// the file has a user block; the caller checks that it has none.
///
/// # Errors
/// The HDF5 library's error (an unallocated chunk of a recording that died, a damaged
/// file), or a chunk that is filtered or smaller than `bytes`.
pub(crate) fn chunk_address(ds: &Dataset, row: u64, rank: usize, bytes: u64) -> hdf5::Result<u64> {
    let offset = [row, 0];
    if rank == 0 || rank > offset.len() {
        return Err(hdf5::Error::from(format!("rank {rank} dataset")));
    }
    hdf5::sync::sync(|| {
        let (mut mask, mut addr, mut size) = (0u32, 0u64, 0u64);
        // SAFETY: `offset` has at least one entry per dimension (rank checked above); the
        // out-pointers are live.
        check(
            unsafe {
                H5Dget_chunk_info_by_coord(
                    ds.id(),
                    offset.as_ptr(),
                    &mut mask,
                    &mut addr,
                    &mut size,
                )
            },
            "H5Dget_chunk_info_by_coord",
        )?;
        // An unallocated chunk reports the undefined address (all ones).
        if mask != 0 || size < bytes || addr == u64::MAX {
            return Err(hdf5::Error::from(format!(
                "chunk at {row}: {size} stored bytes at {addr:#x}, filter mask {mask}"
            )));
        }
        Ok(addr)
    })
}

/// Grows a chunked dataset along its first dimension to `rows` and writes `data` into the
/// new rows `[start, start + data.len() / cols)`.
///
/// # Errors
/// The HDF5 library's error (disk full, dataset not extendible, ...).
pub(crate) fn append_rows<T: Copy>(
    ds: &Dataset,
    mem_type: &Datatype,
    start: u64,
    cols: Option<u64>,
    data: &[T],
) -> hdf5::Result<()> {
    let rows = (data.len() as u64) / cols.unwrap_or(1);
    write_rows(ds, mem_type, start, start + rows, cols, data)
}

/// Sets a chunked dataset's first dimension to `total` rows and writes `data` into rows
/// `[start, start + data.len() / cols)`, which must lie within `total`. Rewriting rows
/// already written is allowed under SWMR; only shrinking would not be.
///
/// # Errors
/// The HDF5 library's error (disk full, dataset not extendible, ...).
pub(crate) fn write_rows<T: Copy>(
    ds: &Dataset,
    mem_type: &Datatype,
    start: u64,
    total: u64,
    cols: Option<u64>,
    data: &[T],
) -> hdf5::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let rows = (data.len() as u64) / cols.unwrap_or(1);
    if start + rows > total {
        return Err(hdf5::Error::from(
            "rows written past the dataset's new extent",
        ));
    }
    hdf5::sync::sync(|| {
        let new_dims = [total, cols.unwrap_or(0)];
        // SAFETY: new_dims has at least `rank` entries; the dataset is chunked and extendible.
        check(
            unsafe { H5Dset_extent(ds.id(), new_dims.as_ptr()) },
            "H5Dset_extent",
        )?;
        let (fspace, mspace) = select(ds, start, rows, cols)?;
        // SAFETY: `data` holds rows*cols elements of T as mspace describes.
        let ret = unsafe {
            H5Dwrite(
                ds.id(),
                mem_type.id(),
                mspace.0,
                fspace.0,
                H5P_DEFAULT,
                data.as_ptr().cast(),
            )
        };
        check(ret, "H5Dwrite")
    })
}

/// Reads a scalar fixed-length string attribute as its raw bytes, in the file's own type.
/// hdf5-metno refuses some fixed-string conversions (h5py's NULLPAD `np.bytes_`), but
/// reading a type into itself always works.
///
/// # Errors
/// The HDF5 library's error.
pub(crate) fn read_fixed_string_attr(attr: &hdf5::Attribute) -> hdf5::Result<Vec<u8>> {
    let dtype = attr.dtype()?;
    let mut buf = vec![0u8; dtype.size()];
    hdf5::sync::sync(|| {
        // SAFETY: `buf` is exactly one element of the attribute's own (fixed-size) type.
        let ret = unsafe { hdf5_sys::h5a::H5Aread(attr.id(), dtype.id(), buf.as_mut_ptr().cast()) };
        check(ret, "H5Aread")
    })?;
    Ok(buf)
}
